//! How the tracker writes a program record: the kind of write ([`Write`]) and the
//! record's JSON ([`to_json`]).

use serde::Serialize;

use crate::error::{Error, Result};

/// How a program record is written.
pub(super) enum Write {
    /// Created or replaced.
    Upsert,
    /// Created only if there is none.
    Create,
    /// Replaced only if it is exactly this now.
    Swap(String),
}

/// The JSON a program record is stored as.
pub(super) fn to_json<T: Serialize>(v: &T) -> Result<String> {
    serde_json::to_string(v).map_err(|e| Error::Store(e.to_string()))
}
