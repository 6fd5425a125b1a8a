//! What an erasure answers (the other conversion shapes are the core's answers and
//! requests).

use serde::Serialize;
use utoipa::ToSchema;

/// What an erasure changed.
#[derive(ToSchema, Serialize)]
pub struct Erased {
    pub conversions: u64,
    pub bindings: u64,
    pub events: u64,
}

/// The answer of an erasure.
#[derive(ToSchema, Serialize)]
pub struct ErasedAnswer {
    pub erased: Erased,
}
