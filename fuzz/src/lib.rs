//! The fuzz checks: the core's (`checks.rs`) and the server's (`server_checks.rs`).
//! Each is also included by a regression replay test of its crate.

mod checks;
pub mod server_checks;

pub use checks::*;
pub use server_checks::{api_query, config_parse};
