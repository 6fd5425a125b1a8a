//! The click buffer's writer: batches of clicks and counters into their trees.

use std::collections::BTreeMap;

use super::fail::store_err;
use crate::error::Result;
use crate::store::batch::{ClickBuffer, Pending};
use crate::store::caps::{self, with_earned};
use crate::store::codec::{
    decode_counters, encode_click, encode_counter_key, encode_counters, ms_prefix,
};

/// The click buffer and the trees it writes into.
pub(super) struct SledBatch {
    pub(super) db: sled::Db,
    /// Click records: see [`SledBatch::write_trees`].
    pub(super) clicks: sled::Tree,
    pub(super) counters: sled::Tree,
    /// What each partner was paid under a daily cap: [`Tally::key`] → count (8, LE).
    pub(super) tallies: sled::Tree,
    pub(super) buffer: ClickBuffer,
}

impl SledBatch {
    /// Writes the open batch into the trees (not yet to disk).
    pub(super) fn write_out(&self) -> Result<()> {
        self.buffer.write_out(|batch| self.write_trees(batch))
    }

    fn write_trees(&self, batch: &Pending) -> Result<()> {
        // One entry per millisecond of click ids in this batch (see `ms_prefix`): a
        // hundred clicks in a busy millisecond cost one tree insert, not a hundred.
        let mut by_ms: BTreeMap<[u8; 6], Vec<u8>> = BTreeMap::new();
        for c in &batch.clicks {
            let id = c.click_id.as_bytes();
            let entry = by_ms.entry(ms_prefix(&c.click_id)).or_default();
            let record = encode_click(c);
            entry.extend_from_slice(id);
            // A record is at most 17 + 5 × 65 bytes.
            entry.extend_from_slice(
                &u16::try_from(record.len())
                    .unwrap_or(u16::MAX)
                    .to_le_bytes(),
            );
            entry.extend_from_slice(&record);
        }
        if !by_ms.is_empty() {
            let seq = self.db.generate_id().map_err(store_err)?.to_be_bytes();
            let mut clicks = sled::Batch::default();
            for (ms, records) in by_ms {
                let mut key = [0u8; 14];
                key[..6].copy_from_slice(&ms);
                key[6..].copy_from_slice(&seq);
                clicks.insert(&key, records);
            }
            self.clicks.apply_batch(clicks).map_err(store_err)?;
        }
        // One process writes a sled database, and this thread its batches: the
        // tallies need no lock.
        let earned = caps::settle(&batch.owed, |tally, cap, want| {
            let mut granted = 0;
            self.tallies
                .update_and_fetch(tally.key(), |old| {
                    let paid = old.map_or(0, decode_count);
                    granted = caps::grantable(paid, cap, want);
                    Some((paid + granted).to_le_bytes().to_vec())
                })
                .map_err(store_err)?;
            Ok::<_, crate::error::Error>(granted)
        })?;
        // A counter update that lands before an error elsewhere in this batch counts
        // again when the batch is retried (sled has no transaction across trees here).
        for (key, delta) in with_earned(&batch.counters, &earned) {
            self.counters
                .update_and_fetch(encode_counter_key(key), |old| {
                    let mut c = old.map(decode_counters).unwrap_or_default();
                    c.add(&delta);
                    Some(encode_counters(&c).to_vec())
                })
                .map_err(store_err)?;
        }
        Ok(())
    }
}

/// A tally's count.
fn decode_count(b: &[u8]) -> u64 {
    b.try_into().map_or(0, u64::from_le_bytes)
}
