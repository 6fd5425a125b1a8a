//! The answers: one typed shape per record as every API shows it (the HTTP server, the
//! Python binding, the OpenAPI description), built from the records and serialised
//! with serde. Money is a decimal string, times are Unix seconds.
//!
//! With the `openapi` feature each answer also describes itself
//! (`utoipa::ToSchema`), so the server's OpenAPI document is generated from the very
//! types it sends; `affiliate_sdk::formats` are the checked formats that answers and
//! requests name.

// The members are listed in each answer's docs and described in docs/http-api.md; a
// doc comment on a member would also become its description in the OpenAPI document.
#![allow(missing_docs)]

mod conversions;
mod ledger;
mod outbound;
mod partners;

pub use conversions::*;
pub use ledger::*;
pub use outbound::*;
pub use partners::*;

/// An answer as JSON. The answers are structs with string keys: serialising one does
/// not fail.
pub(crate) fn to_value<T: serde::Serialize>(answer: &T) -> serde_json::Value {
    serde_json::to_value(answer).expect("an answer serialises to JSON")
}
