//! The errors of the sled store: sled's own, a corrupt record, a failed transaction.

use crate::error::Error;

pub(super) fn store_err(e: impl std::fmt::Display) -> Error {
    Error::Store(e.to_string())
}

pub(super) fn corrupt(what: &str) -> Error {
    Error::Store(format!("corrupt {what} record"))
}

/// The error of a transaction that failed in storage or aborted on a corrupt record.
pub(super) fn tx_err(e: sled::transaction::TransactionError<&'static str>) -> Error {
    match e {
        sled::transaction::TransactionError::Storage(e) => store_err(e),
        sled::transaction::TransactionError::Abort(what) => corrupt(what),
    }
}
