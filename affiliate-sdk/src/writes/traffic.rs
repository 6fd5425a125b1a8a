//! A day's traffic earnings in the ledger, over the transactional port: written once
//! when the day is over, approved when the campaign's approval period has passed,
//! rejected by the merchant.

use crate::error::Result;
use crate::ledger::{Entry, EntryKind, apply_status, traffic_ids};
use crate::records::Status;
use crate::store::{Store, Tx, run};

/// The entries under `reference` that exist (its earnings and clawbacks), read by id.
fn read(tx: &mut dyn Tx, reference: &str, kinds: &[EntryKind]) -> Result<Vec<Entry>> {
    let mut out = Vec::new();
    for id in traffic_ids(reference) {
        if kinds.contains(&id.kind) {
            out.extend(tx.entry(&id)?);
        }
    }
    Ok(out)
}

/// See [`StoreWrites::write_traffic`](super::StoreWrites::write_traffic).
pub(super) fn write<S: Store + ?Sized>(store: &S, days: &[Vec<Entry>]) -> Result<usize> {
    run(store, |tx| {
        let mut written = 0;
        for entries in days {
            let Some(first) = entries.first() else {
                continue;
            };
            // Two servers closing the same day: the second waits here for the first
            // (PostgreSQL's lock per partner and currency), then finds its entries.
            tx.balance(first.partner, first.currency)?;
            if tx.entry(&first.id)?.is_some() {
                continue;
            }
            tx.put_entries(entries)?;
            written += entries.len();
        }
        Ok(written)
    })
}

/// See [`StoreWrites::approve_traffic`](super::StoreWrites::approve_traffic).
pub(super) fn approve<S: Store + ?Sized>(
    store: &S,
    references: &[String],
    at: u64,
) -> Result<usize> {
    run(store, |tx| {
        let mut approved = 0;
        for reference in references {
            let mut entries = read(tx, reference, &[EntryKind::Traffic])?;
            let before = entries.clone();
            apply_status(&mut entries, Status::Approved, at)?;
            let moved: Vec<Entry> = entries
                .into_iter()
                .zip(&before)
                .filter(|(now, was)| now != *was)
                .map(|(now, _)| now)
                .collect();
            approved += moved.len();
            tx.put_entries(&moved)?;
        }
        Ok(approved)
    })
}

/// See [`StoreWrites::reject_traffic`](super::StoreWrites::reject_traffic).
pub(super) fn reject<S: Store + ?Sized>(
    store: &S,
    reference: &str,
    at: u64,
) -> Result<Option<Vec<Entry>>> {
    run(store, |tx| {
        let mut entries = read(tx, reference, &[EntryKind::Traffic, EntryKind::Clawback])?;
        if entries.is_empty() {
            return Ok(None);
        }
        let clawbacks = apply_status(&mut entries, Status::Rejected, at)?;
        entries.extend(clawbacks);
        tx.put_entries(&entries)?;
        Ok(Some(entries))
    })
}
