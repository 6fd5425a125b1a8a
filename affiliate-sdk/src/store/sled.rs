//! [`SledStore`]: the default embedded store, a [sled](https://docs.rs/sled) database in a
//! directory.
//!
//! # Durability
//!
//! * Conversions (each in one transaction with its customer binding, its click's count
//!   and the record it replaces)
//!   and status changes are flushed to disk before the call returns (`fsync`). Concurrent writers share flushes (group commit): a writer
//!   waits for the first flush that starts after its write, so one `fsync` can
//!   acknowledge many conversions and none is acknowledged before it is on disk.
//! * Clicks and impressions are batched: they are kept in memory (where reads see them
//!   at once), written to sled by a background thread every [`CLICK_BATCH_MS`]
//!   milliseconds, one counter update per link and day rather than per click, and
//!   flushed to disk by sled every [`CLICK_FLUSH_MS`] − [`CLICK_BATCH_MS`]
//!   milliseconds, or earlier by any conversion's flush. A power cut or `SIGKILL` loses
//!   at most the clicks and impressions of the last [`CLICK_FLUSH_MS`] milliseconds; a
//!   clean shutdown ([`Store::flush`] or drop) loses none.
//!
//! # Reports
//!
//! Conversions are indexed by day (tree `conversions-by-day`: day, then order id), so
//! a report reads the conversions of its days, not all of them (a report of every
//! day there is reads the records in one pass instead). The index entry is
//! written before the record: a crash between the two leaves an entry that points at
//! nothing, which reads skip; a record never lacks its entry. A database from before
//! the index is indexed once when it is opened.

use std::collections::BTreeMap;
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

mod ledger;
mod program;

use super::batch::{ClickBuffer, Pending, spawn_writer};
use super::codec::{
    decode_click, decode_counter_key, decode_counters, encode_click, encode_counter_key,
    encode_counters, ms_prefix,
};
use super::group_commit::GroupCommit;
use super::{
    Binding, ClickRecord, CounterKey, Counters, ImpressionRecord, Inserted, RecordKind,
    StatusChange, Store, StoreLimits, day_of, takes_binding,
};
use crate::attribution::{Conversion, Status};
use crate::click_id::ClickId;
use crate::code::Code;
use crate::error::{Error, Result};

/// The most a power cut can lose of clicks and impressions, in milliseconds.
pub const CLICK_FLUSH_MS: u64 = 500;

/// The key of the program version in the `program` tree (no record key starts so).
const PROGRAM_VERSION: &[u8] = b"\xffversion";

fn record_key(kind: RecordKind, key: &str) -> Vec<u8> {
    let mut k = vec![kind as u8];
    k.extend_from_slice(key.as_bytes());
    k
}

/// The most memory sled's page cache takes: 32 MiB.
pub const SLED_CACHE_BYTES: u64 = 32 * 1024 * 1024;

/// How often buffered clicks and impressions are written to sled, in milliseconds.
pub const CLICK_BATCH_MS: u64 = 100;

/// A [`Store`] in a sled database directory. Cheap to share: wrap it in an `Arc`.
pub struct SledStore {
    db: sled::Db,
    clicks: sled::Tree,
    conversions: sled::Tree,
    /// Keys: [`day_key`] (day, then order id); values empty.
    conversions_by_day: sled::Tree,
    customers: sled::Tree,
    /// Keys: order id, `\0`, a sequence number (8, big-endian); values: the replaced
    /// record.
    replaced: sled::Tree,
    /// Keys: click id; values: conversions made under a cap (4, little-endian).
    per_click: sled::Tree,
    /// Program records: keys the kind's byte and the record's key; values its JSON.
    /// [`PROGRAM_VERSION`] holds the version (8, big-endian).
    program: sled::Tree,
    /// Ledger entries: see `ledger.rs`.
    ledger: sled::Tree,
    commit: GroupCommit,
    batch: Arc<SledBatch>,
}

/// The click buffer and the trees it writes into.
struct SledBatch {
    db: sled::Db,
    /// Click records: see [`SledBatch::write_trees`].
    clicks: sled::Tree,
    counters: sled::Tree,
    buffer: ClickBuffer,
}

impl SledBatch {
    /// Writes the open batch into the trees (not yet to disk).
    fn write_out(&self) -> Result<()> {
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
        // A counter update that lands before an error elsewhere in this batch counts
        // again when the batch is retried (sled has no transaction across trees here).
        for (key, delta) in &batch.counters {
            self.counters
                .update_and_fetch(encode_counter_key(key), |old| {
                    let mut c = old.map(decode_counters).unwrap_or_default();
                    c.add(delta);
                    Some(encode_counters(&c).to_vec())
                })
                .map_err(store_err)?;
        }
        Ok(())
    }
}

impl std::fmt::Debug for SledStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SledStore").finish_non_exhaustive()
    }
}

/// The key of a conversion in `conversions-by-day`: the day (big-endian, so keys sort
/// by day), then the order id.
fn day_key(day: u32, order_id: &[u8]) -> Vec<u8> {
    [&day.to_be_bytes()[..], order_id].concat()
}

fn store_err(e: impl std::fmt::Display) -> Error {
    Error::Store(e.to_string())
}

fn corrupt(what: &str) -> Error {
    Error::Store(format!("corrupt {what} record"))
}

impl SledStore {
    /// Opens (creating if needed) the database in directory `path`, with the default
    /// [`StoreLimits`].
    pub fn open(path: impl AsRef<Path>) -> Result<SledStore> {
        SledStore::open_with(path, &StoreLimits::default())
    }

    /// [`SledStore::open`] with these memory bounds.
    pub fn open_with(path: impl AsRef<Path>, limits: &StoreLimits) -> Result<SledStore> {
        let db = sled::Config::new()
            .path(path)
            .flush_every_ms(Some(CLICK_FLUSH_MS - CLICK_BATCH_MS))
            // sled's page cache would otherwise grow to 1 GiB with the data.
            .cache_capacity(SLED_CACHE_BYTES)
            .open()
            .map_err(store_err)?;
        let tree = |name: &str| db.open_tree(name).map_err(store_err);
        let clicks = tree("clicks-by-ms")?;
        let batch = Arc::new(SledBatch {
            db: db.clone(),
            clicks: clicks.clone(),
            counters: tree("counters")?,
            buffer: ClickBuffer::new(limits),
        });
        spawn_writer(
            Arc::downgrade(&batch),
            Duration::from_millis(CLICK_BATCH_MS),
            "affiliate-click-batch",
            SledBatch::write_out,
        )?;
        let store = SledStore {
            clicks,
            conversions: tree("conversions")?,
            conversions_by_day: tree("conversions-by-day")?,
            customers: tree("customers")?,
            replaced: tree("replaced-conversions")?,
            per_click: tree("conversions-per-click")?,
            program: tree("program")?,
            ledger: tree("ledger")?,
            db,
            commit: GroupCommit::default(),
            batch,
        };
        store.index_conversions_by_day()?;
        store.backfill_ledger()?;
        // The sids already counted today and yesterday keep their places under the cap.
        let today = day_of(crate::clock::Clock::now(&crate::clock::SystemClock));
        let stored = store.counters(today.saturating_sub(1), today, None)?;
        store.batch.buffer.seed_sids(stored.keys());
        Ok(store)
    }

    /// Indexes by day the conversions of a database written before the index existed
    /// (once: a marker records that it is done).
    fn index_conversions_by_day(&self) -> Result<()> {
        const DONE: &[u8] = b"conversions-by-day:v1";
        if self.db.contains_key(DONE).map_err(store_err)? {
            return Ok(());
        }
        for kv in &self.conversions {
            let (order_id, v) = kv.map_err(store_err)?;
            let c: Conversion = serde_json::from_slice(&v).map_err(|_| corrupt("conversion"))?;
            self.conversions_by_day
                .insert(day_key(day_of(c.converted_at), &order_id), &[])
                .map_err(store_err)?;
        }
        self.db.insert(DONE, &[]).map_err(store_err)?;
        self.db.flush().map_err(store_err)?;
        Ok(())
    }

    /// Waits until everything written before this call is on disk, sharing the
    /// `fsync` with concurrent callers.
    fn sync(&self) -> Result<()> {
        self.commit
            .sync(|| self.db.flush().map(|_| ()).map_err(store_err))
    }
}

impl Drop for SledStore {
    fn drop(&mut self) {
        // Best effort: a clean shutdown loses no buffered click.
        let _ = self.batch.write_out();
        let _ = self.db.flush();
    }
}

impl Store for SledStore {
    fn record_click(&self, click: &ClickRecord) -> Result<()> {
        self.batch.buffer.click(click);
        Ok(())
    }

    fn record_impression(&self, i: &ImpressionRecord) -> Result<()> {
        self.batch.buffer.impression(i);
        Ok(())
    }

    fn click(&self, id: ClickId) -> Result<Option<ClickRecord>> {
        if let Some(c) = self.batch.buffer.find(id) {
            return Ok(Some(c));
        }
        // Not buffered: written before the lock was taken, or never recorded.
        for entry in self.clicks.scan_prefix(ms_prefix(&id)) {
            let (_, records) = entry.map_err(store_err)?;
            let mut rest: &[u8] = &records;
            while !rest.is_empty() {
                let (head, tail) = rest.split_at_checked(18).ok_or_else(|| corrupt("click"))?;
                let len = usize::from(u16::from_le_bytes([head[16], head[17]]));
                let (record, tail) = tail.split_at_checked(len).ok_or_else(|| corrupt("click"))?;
                if head[..16] == id.as_bytes()[..] {
                    return decode_click(id, record)
                        .map(Some)
                        .ok_or_else(|| corrupt("click"));
                }
                rest = tail;
            }
        }
        Ok(None)
    }

    fn insert_conversion(
        &self,
        conversion: &Conversion,
        binding: Option<&Binding>,
        per_click_cap: Option<u32>,
    ) -> Result<Inserted> {
        use sled::Transactional as _;
        use sled::transaction::{ConflictableTransactionError, TransactionError};

        enum Outcome {
            New,
            Existing(Conversion),
            Replaced(Conversion),
            CapReached,
        }
        let value = serde_json::to_vec(conversion).map_err(store_err)?;
        let entries = crate::ledger::entries_of(conversion);
        let bind = match (binding, &conversion.customer_id) {
            (Some(b), Some(customer)) => Some((
                customer.as_bytes(),
                serde_json::to_vec(b).map_err(store_err)?,
            )),
            _ => None,
        };
        // The index entry first (see the module docs). For a replay or a conflict it
        // may name another day than the record's: reads check.
        self.conversions_by_day
            .insert(
                day_key(
                    day_of(conversion.converted_at),
                    conversion.order_id.as_bytes(),
                ),
                &[],
            )
            .map_err(store_err)?;
        // The conversion, its customer binding, the click's count and the replaced
        // record in one transaction: all or none.
        let key = conversion.order_id.as_bytes();
        let click_key = conversion.click_id.map(|c| *c.as_bytes());
        let corrupt_record = || ConflictableTransactionError::Abort("conversion");
        let outcome = (
            &self.conversions,
            &self.customers,
            &self.per_click,
            &self.replaced,
            &self.ledger,
        )
            .transaction(
                |(conversions, customers, per_click, replaced, ledger_tree)| {
                    let old = match conversions.get(key)? {
                        Some(bytes) => {
                            let old: Conversion =
                                serde_json::from_slice(&bytes).map_err(|_| corrupt_record())?;
                            if !old.replaceable_by(conversion) {
                                return Ok(Outcome::Existing(old));
                            }
                            let mut audit_key = key.to_vec();
                            audit_key.push(0);
                            audit_key.extend_from_slice(&replaced.generate_id()?.to_be_bytes());
                            replaced.insert(audit_key, bytes)?;
                            Some(old)
                        }
                        None => None,
                    };
                    if let (None, Some(cap), Some(click)) = (&old, per_click_cap, &click_key) {
                        let made = per_click
                            .get(click)?
                            .and_then(|v| v.as_ref().try_into().ok())
                            .map_or(0, u32::from_le_bytes);
                        if made >= cap {
                            return Ok(Outcome::CapReached);
                        }
                        per_click.insert(click, &(made + 1).to_le_bytes())?;
                    }
                    conversions.insert(key, value.as_slice())?;
                    // The ledger with it: a replaced record's entries go with the record.
                    if let Some(old) = &old {
                        ledger::remove_order(ledger_tree, old)?;
                    }
                    ledger::write(ledger_tree, &entries)?;
                    if let Some((customer, b)) = &bind {
                        let current = match customers.get(*customer)? {
                            Some(v) => Some(
                                serde_json::from_slice::<Binding>(&v)
                                    .map_err(|_| ConflictableTransactionError::Abort("customer"))?,
                            ),
                            None => None,
                        };
                        if takes_binding(current.as_ref(), old.as_ref()) {
                            customers.insert(*customer, b.as_slice())?;
                        }
                    }
                    Ok(old.map_or(Outcome::New, Outcome::Replaced))
                },
            )
            .map_err(|e: TransactionError<&str>| match e {
                TransactionError::Storage(e) => store_err(e),
                TransactionError::Abort(what) => corrupt(what),
            })?;
        // Flush in every case: an existing record may come from a writer that has not
        // flushed yet, and it must not be acknowledged before it is durable.
        self.sync()?;
        Ok(match outcome {
            Outcome::New => Inserted::New,
            Outcome::Existing(c) => Inserted::Existing(Box::new(c)),
            Outcome::Replaced(c) => Inserted::Replaced(Box::new(c)),
            Outcome::CapReached => Inserted::CapReached,
        })
    }

    fn replaced_conversions(&self, order_id: &str) -> Result<Vec<Conversion>> {
        let mut prefix = order_id.as_bytes().to_vec();
        prefix.push(0);
        self.replaced
            .scan_prefix(prefix)
            .map(|kv| {
                let (_, v) = kv.map_err(store_err)?;
                serde_json::from_slice(&v).map_err(|_| corrupt("conversion"))
            })
            .collect()
    }

    fn conversion(&self, order_id: &str) -> Result<Option<Conversion>> {
        match self
            .conversions
            .get(order_id.as_bytes())
            .map_err(store_err)?
        {
            None => Ok(None),
            Some(v) => serde_json::from_slice(&v)
                .map(Some)
                .map_err(|_| corrupt("conversion")),
        }
    }

    fn set_status(
        &self,
        order_id: &str,
        from: Status,
        to: Status,
        at: u64,
    ) -> Result<StatusChange> {
        use sled::Transactional as _;
        use sled::transaction::{ConflictableTransactionError, TransactionError};
        enum Outcome {
            Missing,
            Unchanged(Conversion),
            Changed(Conversion),
        }
        // The status and the entries it moves, in one transaction.
        let outcome = (&self.conversions, &self.ledger)
            .transaction(|(conversions, ledger_tree)| {
                let Some(old) = conversions.get(order_id.as_bytes())? else {
                    return Ok(Outcome::Missing);
                };
                let mut c: Conversion = serde_json::from_slice(&old)
                    .map_err(|_| ConflictableTransactionError::Abort("conversion"))?;
                if c.status != from {
                    return Ok(Outcome::Unchanged(c));
                }
                c.status = to;
                let new = serde_json::to_vec(&c)
                    .map_err(|_| ConflictableTransactionError::Abort("conversion"))?;
                conversions.insert(order_id.as_bytes(), new)?;
                let mut mine = ledger::read_order(ledger_tree, &c)?;
                let clawbacks = crate::ledger::apply_status(&mut mine, to, at);
                ledger::write(ledger_tree, &mine)?;
                ledger::write(ledger_tree, &clawbacks)?;
                Ok(Outcome::Changed(c))
            })
            .map_err(|e: TransactionError<&str>| match e {
                TransactionError::Storage(e) => store_err(e),
                TransactionError::Abort(what) => corrupt(what),
            })?;
        Ok(match outcome {
            Outcome::Missing => StatusChange::Missing,
            Outcome::Unchanged(c) => StatusChange::Unchanged(c),
            Outcome::Changed(c) => {
                self.sync()?;
                StatusChange::Changed(c)
            }
        })
    }

    fn ledger_entries(
        &self,
        filter: &crate::ledger::EntryFilter,
    ) -> Result<Vec<crate::ledger::Entry>> {
        self.ledger_entries_in_tree(filter)
    }

    fn customer(&self, customer_id: &str) -> Result<Option<Binding>> {
        match self
            .customers
            .get(customer_id.as_bytes())
            .map_err(store_err)?
        {
            None => Ok(None),
            Some(v) => serde_json::from_slice(&v)
                .map(Some)
                .map_err(|_| corrupt("customer")),
        }
    }

    fn counters(
        &self,
        from_day: u32,
        to_day: u32,
        campaign: Option<&Code>,
    ) -> Result<BTreeMap<CounterKey, Counters>> {
        self.batch.buffer.counters(from_day, to_day, campaign, || {
            let mut out = BTreeMap::new();
            let start = from_day.to_be_bytes();
            let range = match to_day.checked_add(1) {
                Some(end) => self.batch.counters.range(start..end.to_be_bytes()),
                None => self.batch.counters.range(start..),
            };
            for kv in range {
                let (k, v) = kv.map_err(store_err)?;
                let key = decode_counter_key(&k).ok_or_else(|| corrupt("counter"))?;
                out.insert(key, decode_counters(&v));
            }
            Ok(out)
        })
    }

    fn conversions(&self, from_day: u32, to_day: u32) -> Result<Vec<Conversion>> {
        let mut out = Vec::new();
        let day_at = |entry: Option<(sled::IVec, sled::IVec)>| {
            entry.and_then(|(k, _)| k.first_chunk::<4>().map(|d| u32::from_be_bytes(*d)))
        };
        let first = day_at(self.conversions_by_day.first().map_err(store_err)?);
        let last = day_at(self.conversions_by_day.last().map_err(store_err)?);
        if first.is_some_and(|f| from_day <= f) && last.is_some_and(|l| to_day >= l) {
            // Every day there is: one pass over the records beats a lookup per entry.
            for kv in &self.conversions {
                let (_, v) = kv.map_err(store_err)?;
                let c: Conversion =
                    serde_json::from_slice(&v).map_err(|_| corrupt("conversion"))?;
                if (from_day..=to_day).contains(&day_of(c.converted_at)) {
                    out.push(c);
                }
            }
            return Ok(out);
        }
        for kv in self.conversions_by_day.range(from_day.to_be_bytes()..) {
            let (key, _) = kv.map_err(store_err)?;
            let (day, order_id) = key
                .split_first_chunk::<4>()
                .ok_or_else(|| corrupt("index"))?;
            let day = u32::from_be_bytes(*day);
            if day > to_day {
                break;
            }
            let Some(v) = self.conversions.get(order_id).map_err(store_err)? else {
                continue; // a crash came between the entry and the record
            };
            let c: Conversion = serde_json::from_slice(&v).map_err(|_| corrupt("conversion"))?;
            // An entry of another day (a replay or conflict that carried another time)
            // is not this record's.
            if day_of(c.converted_at) == day {
                out.push(c);
            }
        }
        Ok(out)
    }

    fn dropped(&self) -> super::Dropped {
        self.batch.buffer.dropped()
    }

    fn program_version(&self) -> Result<u64> {
        self.program_version_in_tree()
    }

    fn put_record(&self, kind: RecordKind, key: &str, json: &str, only_new: bool) -> Result<bool> {
        self.put_record_in_tree(kind, key, json, only_new)
    }

    fn swap_record(&self, kind: RecordKind, key: &str, expected: &str, json: &str) -> Result<bool> {
        self.swap_record_in_tree(kind, key, expected, json)
    }

    fn delete_record(&self, kind: RecordKind, key: &str) -> Result<bool> {
        self.delete_record_in_tree(kind, key)
    }

    fn put_records(&self, records: &[(RecordKind, String, Option<String>)]) -> Result<usize> {
        self.put_records_in_tree(records)
    }

    fn records(&self, kind: RecordKind) -> Result<Vec<(String, String)>> {
        self.records_in_tree(kind)
    }

    fn flush(&self) -> Result<()> {
        self.batch.write_out()?;
        self.sync()
    }
}
