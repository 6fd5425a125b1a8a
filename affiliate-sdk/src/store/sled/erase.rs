//! Erasing a customer and pruning old clicks in sled.
//!
//! sled writes a log: a record's earlier versions stay in the file until sled reuses
//! their space, and it seldom reuses the space of removed entries. An erasure, and
//! pruning once a quarter of the database is pruned, therefore mark the database
//! (`<dir>.compact`, beside it), and the next [`SledStore::open`] copies every tree
//! into a fresh directory and swaps it in: no file holds an erased id from then on,
//! and the pruned clicks' space is given back. The swap survives a crash at any step
//! (`compact.rs`).

use super::SledStore;
use super::compact::{PRUNED_BYTES, mark_for_compaction};
use super::fail::store_err;
use crate::error::Result;
use crate::store::erase::{Erased, erase_json, mentions, needle};

/// Rewrites every value of `tree` that carries `customer_id` without it, each with a
/// compare and swap (a change made meanwhile is kept, and erased again). Returns how
/// many values changed.
fn rewrite(tree: &sled::Tree, customer_id: &str) -> Result<usize> {
    let needle = needle(customer_id);
    let mut changed = 0;
    for kv in tree.iter() {
        let (key, value) = kv.map_err(store_err)?;
        if !mentions(&value, &needle) {
            continue;
        }
        let mut current = Some(value);
        while let Some(cur) = current {
            let Some(new) = erase_json(&cur, customer_id) else {
                break;
            };
            match tree
                .compare_and_swap(&key, Some(&cur), Some(new))
                .map_err(store_err)?
            {
                Ok(()) => {
                    changed += 1;
                    break;
                }
                Err(e) => current = e.current,
            }
        }
    }
    Ok(changed)
}

/// How many click records a `clicks-by-ms` entry holds: `(id (16) | len (2, LE) |
/// record)*`.
fn clicks_in(entry: &[u8]) -> usize {
    let mut rest = entry;
    let mut n = 0;
    while let Some((head, tail)) = rest.split_at_checked(18) {
        let len = usize::from(u16::from_le_bytes([head[16], head[17]]));
        let Some((_, tail)) = tail.split_at_checked(len) else {
            break;
        };
        rest = tail;
        n += 1;
    }
    n
}

impl SledStore {
    pub(super) fn erase(&self, customer_id: &str) -> Result<Erased> {
        let bindings = self
            .customers
            .remove(customer_id.as_bytes())
            .map_err(store_err)?;
        let erased = Erased {
            bindings: usize::from(bindings.is_some()),
            conversions: rewrite(&self.conversions, customer_id)?
                + rewrite(&self.replaced, customer_id)?,
            events: rewrite(&self.outbox, customer_id)?
                + rewrite(&self.delivery_requests, customer_id)?,
            rewrite_pending: false,
        };
        if erased != Erased::default() {
            mark_for_compaction(&self.path)?;
            // The money journal's records hold the id too: emptied now (sled holds
            // every record once flushed).
            self.empty_journal()?;
        }
        self.sync()?;
        Ok(Erased {
            rewrite_pending: erased != Erased::default(),
            ..erased
        })
    }

    pub(super) fn prune(&self, before: u64, max: usize) -> Result<usize> {
        // Click entries and per-click counts are keyed by the click id's millisecond
        // first (big-endian), tallies by their day: old ones are a key range.
        let ms = before.saturating_mul(1000).to_be_bytes();
        let end = ms[2..].to_vec();
        let (mut removed, mut bytes) = (0, 0u64);
        let mut batch = sled::Batch::default();
        for kv in self.clicks.range(..end.clone()) {
            let (key, value) = kv.map_err(store_err)?;
            removed += clicks_in(&value);
            bytes += (key.len() + value.len()) as u64;
            batch.remove(key);
            if removed >= max {
                break;
            }
        }
        self.clicks.apply_batch(batch).map_err(store_err)?;
        // sled seldom reuses the space of a tree's removed entries: once a quarter of
        // the database has been pruned since it was last rewritten, the next open
        // rewrites it (the same compaction as after an erasure).
        if bytes > 0 {
            let total = self
                .db
                .update_and_fetch(PRUNED_BYTES, |old| {
                    let n = old.map_or(0, |b| b.try_into().map_or(0, u64::from_le_bytes));
                    Some((n + bytes).to_le_bytes().to_vec())
                })
                .map_err(store_err)?
                .map_or(0, |b| (*b).try_into().map_or(0, u64::from_le_bytes));
            if total.saturating_mul(4) >= self.db.size_on_disk().map_err(store_err)? {
                mark_for_compaction(&self.path)?;
            }
        }
        let mut batch = sled::Batch::default();
        for kv in self.per_click.range(..end) {
            batch.remove(kv.map_err(store_err)?.0);
        }
        self.per_click.apply_batch(batch).map_err(store_err)?;
        let day = crate::store::day_of(before).to_be_bytes().to_vec();
        let mut batch = sled::Batch::default();
        for kv in self.batch.tallies.range(..day) {
            batch.remove(kv.map_err(store_err)?.0);
        }
        self.batch.tallies.apply_batch(batch).map_err(store_err)?;
        self.sync()?;
        Ok(removed)
    }
}
