//! The ledger in sled: tree `ledger`, one entry per key `order id, \0, level, kind`
//! (order ids hold no `\0`, so an order's entries share a prefix), the entry as JSON.
//! Entries are written in the transactions of the conversion and of its status
//! change; a database from before the ledger gets its entries when it is opened.

use sled::transaction::{ConflictableTransactionError, TransactionalTree};

use super::{SledStore, corrupt, store_err};
use crate::attribution::Conversion;
use crate::error::Result;
use crate::ledger::{Entry, EntryFilter, EntryId, EntryKind, entries_of};

/// The key of an entry.
pub(super) fn entry_key(id: &EntryId) -> Vec<u8> {
    let mut k = Vec::with_capacity(id.order_id.len() + 3);
    k.extend_from_slice(id.order_id.as_bytes());
    k.push(0);
    k.push(id.level);
    k.push(match id.kind {
        EntryKind::Commission => 0,
        EntryKind::Clawback => 1,
    });
    k
}

type TxResult<T> = Result<T, ConflictableTransactionError<&'static str>>;

/// Inside a transaction: the entries of `conversion`'s order (its commission levels,
/// both kinds).
pub(super) fn read_order(t: &TransactionalTree, conversion: &Conversion) -> TxResult<Vec<Entry>> {
    let mut out = Vec::new();
    for c in &conversion.commissions {
        for kind in [EntryKind::Commission, EntryKind::Clawback] {
            let id = EntryId {
                order_id: conversion.order_id.clone(),
                level: c.level,
                kind,
            };
            if let Some(v) = t.get(entry_key(&id))? {
                out.push(
                    serde_json::from_slice(&v)
                        .map_err(|_| ConflictableTransactionError::Abort("ledger"))?,
                );
            }
        }
    }
    Ok(out)
}

/// Inside a transaction: writes `entries`.
pub(super) fn write(t: &TransactionalTree, entries: &[Entry]) -> TxResult<()> {
    for e in entries {
        let v = serde_json::to_vec(e).map_err(|_| ConflictableTransactionError::Abort("ledger"))?;
        t.insert(entry_key(&e.id), v)?;
    }
    Ok(())
}

/// Inside a transaction: removes the entries `old` (a replaced record) had.
pub(super) fn remove_order(t: &TransactionalTree, old: &Conversion) -> TxResult<()> {
    for e in read_order(t, old)? {
        t.remove(entry_key(&e.id))?;
    }
    Ok(())
}

impl SledStore {
    pub(super) fn ledger_entries_in_tree(&self, filter: &EntryFilter) -> Result<Vec<Entry>> {
        let prefix = filter.order_id.as_ref().map(|o| {
            let mut p = o.as_bytes().to_vec();
            p.push(0);
            p
        });
        let iter = match &prefix {
            Some(p) => self.ledger.scan_prefix(p),
            None => self.ledger.iter(),
        };
        let mut out = Vec::new();
        for kv in iter {
            let (_, v) = kv.map_err(store_err)?;
            let e: Entry = serde_json::from_slice(&v).map_err(|_| corrupt("ledger"))?;
            if filter.matches(&e) {
                out.push(e);
            }
        }
        Ok(out)
    }

    /// Gives the conversions of a database written before the ledger their entries
    /// (once: a marker records that it is done).
    pub(super) fn backfill_ledger(&self) -> Result<()> {
        const DONE: &[u8] = b"ledger:v1";
        if self.db.contains_key(DONE).map_err(store_err)? {
            return Ok(());
        }
        for kv in &self.conversions {
            let (_, v) = kv.map_err(store_err)?;
            let c: Conversion = serde_json::from_slice(&v).map_err(|_| corrupt("conversion"))?;
            for e in entries_of(&c) {
                let v = serde_json::to_vec(&e).map_err(store_err)?;
                self.ledger.insert(entry_key(&e.id), v).map_err(store_err)?;
            }
        }
        self.db.insert(DONE, &[]).map_err(store_err)?;
        self.db.flush().map_err(store_err)?;
        Ok(())
    }
}
