//! The library half of `affiliate-server`: the HTTP app, the config file, serving and
//! the demo shop. The binary (`main.rs`) is the command line around them; the fuzz
//! targets and the tests use `config` and `app` directly.

pub mod app;
pub mod assets;
pub mod config;
pub mod config_store;
pub mod delivery;
pub mod demo;
pub mod front;
pub mod http;
pub mod metrics;
pub mod openapi;
pub mod routes;
pub mod secrets;
pub mod serve;
pub mod throttle;
