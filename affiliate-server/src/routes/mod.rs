//! The endpoints, one module per family. Each handler parses, calls one tracker
//! method and shapes the answer; every decision is the core's.

pub mod adjustments;
pub mod catalogue;
pub mod clicks;
pub mod conversions;
pub mod ops;
pub mod pages;
pub mod params;
pub mod partner;
pub mod payouts;
pub mod portal;
pub mod postback;
pub mod reports;
pub mod review;
pub mod traffic;
pub mod webhooks;
