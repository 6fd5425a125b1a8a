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

mod clicks;
mod compact;
mod erase;
mod fail;
mod leases;
mod ledger;
mod outbox;
mod payouts;
mod program;
mod tx;

use self::clicks::SledBatch;
use self::fail::{corrupt, store_err};
use super::batch::{ClickBuffer, spawn_writer};
use super::codec::{decode_click, decode_counter_key, decode_counters, ms_prefix};
use super::group_commit::GroupCommit;
use super::{
    Binding, BotClickRecord, ClickRecord, CounterKey, Counters, ImpressionRecord, RecordKind,
    Store, StoreLimits, day_of,
};
use crate::click_id::ClickId;
use crate::code::Code;
use crate::error::{Error, Result};
use crate::records::{Conversion, Status};

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
    /// The database directory (an erasure marks it for compaction at the next open).
    path: std::path::PathBuf,
    clicks: sled::Tree,
    conversions: sled::Tree,
    /// Keys: [`day_key`] (day, then order id); values empty.
    conversions_by_day: sled::Tree,
    /// Pending conversions: keys [`pending_key`] (campaign, `\0`, time, order id);
    /// values empty.
    pending: sled::Tree,
    customers: sled::Tree,
    /// Keys: order id, `\0`, a sequence number (8, big-endian); values: the replaced
    /// record.
    replaced: sled::Tree,
    /// Keys: click id; values: conversions made under a cap (4, little-endian).
    per_click: sled::Tree,
    /// Program records: keys the kind's byte and the record's key; values its JSON.
    /// [`PROGRAM_VERSION`] holds the version (8, big-endian).
    program: sled::Tree,
    /// Ledger entries and each beneficiary's sums: see `ledger.rs`.
    ledger: sled::Tree,
    ledger_sums: sled::Tree,
    /// Payouts and the idempotency keys of the runs that made them: see `payouts.rs`.
    payouts: sled::Tree,
    payout_runs: sled::Tree,
    /// Claims made once: keys `scope, \0, key`, values when they may be forgotten
    /// (8, big-endian).
    claims: sled::Tree,
    /// The outbox and the deliveries: see `outbox.rs`.
    outbox: sled::Tree,
    deliveries: sled::Tree,
    deliveries_due: sled::Tree,
    deliveries_by_target: sled::Tree,
    delivery_requests: sled::Tree,
    /// The deliveries' leases, in memory (see `outbox.rs`).
    leases: leases::Leases,
    commit: GroupCommit,
    batch: Arc<SledBatch>,
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

/// The key of a pending conversion in `conversions-pending`: its campaign, `\0`, its
/// time (8, big-endian, so a campaign's keys sort oldest first), its order id.
fn pending_key(c: &Conversion) -> Vec<u8> {
    let campaign = c.link.campaign;
    let campaign = campaign.as_str().as_bytes();
    let mut k = Vec::with_capacity(campaign.len() + 9 + c.order_id.len());
    k.extend_from_slice(campaign);
    k.push(0);
    k.extend_from_slice(&c.converted_at.to_be_bytes());
    k.extend_from_slice(c.order_id.as_bytes());
    k
}

/// How long opening waits for a directory's lock: a store of this process that is
/// closing (its writer thread finishing a batch, an `fsync` on a busy disk) or a
/// process that is exiting lets go within moments.
const LOCK_WAIT: Duration = Duration::from_secs(3);

/// Opens the sled database in `path`, waiting up to [`LOCK_WAIT`] for its lock. A
/// directory another process holds is an error that says so, and what to do instead.
fn open_db(path: &Path) -> Result<sled::Db> {
    let locked = |e: &sled::Error| matches!(e, sled::Error::Io(io) if io.to_string().starts_with("could not acquire lock"));
    let deadline = std::time::Instant::now() + LOCK_WAIT;
    loop {
        let opened = sled::Config::new()
            .path(path)
            .flush_every_ms(Some(CLICK_FLUSH_MS - CLICK_BATCH_MS))
            // sled's page cache would otherwise grow to 1 GiB with the data.
            .cache_capacity(SLED_CACHE_BYTES)
            .open();
        match opened {
            Err(e) if locked(&e) && std::time::Instant::now() < deadline => {
                std::thread::sleep(Duration::from_millis(20));
            }
            Err(e) if locked(&e) => {
                return Err(Error::Store(format!(
                    "the SledStore directory {} is in use by another process: one process \
                     at a time opens a sled directory; for several processes (gunicorn or \
                     uWSGI workers, several servers) use PostgresStore",
                    path.display()
                )));
            }
            other => return other.map_err(store_err),
        }
    }
}

impl SledStore {
    /// Opens (creating if needed) the database in directory `path`, with the default
    /// [`StoreLimits`].
    ///
    /// **Blocking**: opens files or connects, and may wait (up to about 3 s) for the
    /// database; from async code, call it off the runtime's workers.
    pub fn open(path: impl AsRef<Path>) -> Result<SledStore> {
        SledStore::open_with(path, &StoreLimits::default())
    }

    /// [`SledStore::open`] with these memory bounds.
    ///
    /// **Blocking**: opens files or connects, and may wait (up to about 3 s) for the
    /// database; from async code, call it off the runtime's workers.
    pub fn open_with(path: impl AsRef<Path>, limits: &StoreLimits) -> Result<SledStore> {
        let path = path.as_ref();
        // After an erasure the database is rewritten, so no file keeps an erased id.
        compact::compact_if_marked(path, open_db)?;
        let db = open_db(path)?;
        let tree = |name: &str| db.open_tree(name).map_err(store_err);
        let clicks = tree("clicks-by-ms")?;
        let batch = Arc::new(SledBatch {
            db: db.clone(),
            clicks: clicks.clone(),
            counters: tree("counters")?,
            tallies: tree("paid-tallies")?,
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
            pending: tree("conversions-pending")?,
            customers: tree("customers")?,
            replaced: tree("replaced-conversions")?,
            per_click: tree("conversions-per-click")?,
            program: tree("program")?,
            ledger: tree("ledger")?,
            ledger_sums: tree("ledger-sums")?,
            payouts: tree("payouts")?,
            payout_runs: tree("payout-runs")?,
            claims: tree("claims")?,
            outbox: tree("outbox")?,
            deliveries: tree("deliveries")?,
            deliveries_due: tree("deliveries-due")?,
            deliveries_by_target: tree("deliveries-by-target")?,
            delivery_requests: tree("delivery-requests")?,
            leases: leases::Leases::default(),
            db,
            path: path.to_owned(),
            commit: GroupCommit::default(),
            batch,
        };
        store.index_conversions_by_day()?;
        store.index_pending()?;
        store.backfill_ledger()?;
        // The sids already counted today and yesterday keep their places under the cap.
        let today = day_of(crate::clock::Clock::now(&crate::clock::SystemClock));
        let stored = store.counters(today.saturating_sub(1), today, None)?;
        store.batch.buffer.seed_sids(stored.keys());
        Ok(store)
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
    fn transact(&self, f: &mut super::TxFn<'_>) -> Result<()> {
        self.transact_in_trees(f)
    }

    fn record_click(&self, click: &ClickRecord) -> Result<()> {
        self.batch.buffer.click(click);
        Ok(())
    }

    fn record_impression(&self, i: &ImpressionRecord) -> Result<()> {
        self.batch.buffer.impression(i);
        Ok(())
    }

    fn record_bot_click(&self, b: &BotClickRecord) -> Result<()> {
        self.batch.buffer.bot_click(b);
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

    fn ledger_entries(
        &self,
        filter: &crate::ledger::EntryFilter,
    ) -> Result<Vec<crate::ledger::Entry>> {
        self.ledger_entries_in_tree(filter)
    }

    fn balances(
        &self,
        filter: &crate::ledger::EntryFilter,
    ) -> Result<BTreeMap<(Code, crate::money::Currency), crate::ledger::Balance>> {
        self.balances_in_tree(filter)
    }

    fn payouts(&self, filter: &crate::ledger::PayoutFilter) -> Result<Vec<crate::ledger::Payout>> {
        self.payouts_in_tree(filter)
    }

    fn payout(&self, id: &str) -> Result<Option<crate::ledger::Payout>> {
        self.payout_in_tree(id)
    }

    fn claim_once(&self, scope: &str, key: &str, expires: u64, now: u64) -> Result<bool> {
        let mut k = scope.as_bytes().to_vec();
        k.push(0);
        k.extend_from_slice(key.as_bytes());
        let fresh = self
            .claims
            .compare_and_swap(&k, None as Option<&[u8]>, Some(&expires.to_be_bytes()[..]))
            .map_err(store_err)?
            .is_ok();
        if fresh {
            self.sync()?;
            // Now and then (one claim in 1024), forget the claims that expired.
            if self
                .db
                .generate_id()
                .map_err(store_err)?
                .is_multiple_of(1024)
            {
                for kv in &self.claims {
                    let (k, v) = kv.map_err(store_err)?;
                    let until = v.first_chunk::<8>().map_or(0, |b| u64::from_be_bytes(*b));
                    if until <= now {
                        self.claims.remove(k).map_err(store_err)?;
                    }
                }
            }
        }
        Ok(fresh)
    }

    fn erase_customer(&self, customer_id: &str) -> Result<super::Erased> {
        self.erase(customer_id)
    }

    fn prune_clicks(&self, before: u64, max: usize) -> Result<usize> {
        self.prune(before, max)
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

    fn pending_due(&self, campaign: &Code, made_by: u64, max: usize) -> Result<Vec<Conversion>> {
        let mut prefix = campaign.as_str().as_bytes().to_vec();
        prefix.push(0);
        let mut out = Vec::new();
        for kv in self.pending.scan_prefix(&prefix) {
            if out.len() >= max {
                break;
            }
            let (key, _) = kv.map_err(store_err)?;
            let rest = &key[prefix.len()..];
            let (at, order_id) = rest
                .split_first_chunk::<8>()
                .ok_or_else(|| corrupt("index"))?;
            if u64::from_be_bytes(*at) > made_by {
                break;
            }
            let Some(v) = self.conversions.get(order_id).map_err(store_err)? else {
                continue;
            };
            let c: Conversion = serde_json::from_slice(&v).map_err(|_| corrupt("conversion"))?;
            // The entry and the record are written in one transaction; checked anyway.
            if c.status == Status::Pending && c.link.campaign == *campaign {
                out.push(c);
            }
        }
        Ok(out)
    }

    fn dropped(&self) -> super::Dropped {
        self.batch.buffer.dropped()
    }

    fn writer_stats(&self) -> super::WriterStats {
        self.batch.buffer.stats()
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

    fn outbox(&self, max: usize) -> Result<Vec<(u64, crate::outbound::Event)>> {
        self.outbox_events(max)
    }

    fn outbox_len(&self) -> Result<u64> {
        // The outbox is drained within moments: counting its keys is cheap.
        Ok(self.outbox.len() as u64)
    }

    fn fan_out(&self, planned: &[(u64, Vec<crate::outbound::Delivery>)]) -> Result<usize> {
        self.fan_out_in_trees(planned)
    }

    fn due_deliveries(&self, now: u64, max: usize) -> Result<Vec<crate::outbound::Delivery>> {
        self.due_in_trees(now, max)
    }

    fn swap_delivery(
        &self,
        expected: &crate::outbound::Delivery,
        new: &crate::outbound::Delivery,
    ) -> Result<bool> {
        Ok(self.swap_deliveries_in_trees(&[(expected.clone(), new.clone())])?[0])
    }

    fn swap_deliveries(
        &self,
        swaps: &[(crate::outbound::Delivery, crate::outbound::Delivery)],
    ) -> Result<Vec<bool>> {
        self.swap_deliveries_in_trees(swaps)
    }

    fn prune_deliveries(&self, before: u64, max: usize) -> Result<usize> {
        self.prune_in_trees(before, max)
    }

    fn delivery(&self, id: &str) -> Result<Option<crate::outbound::Delivery>> {
        self.delivery_in_tree(id)
    }

    fn deliveries(
        &self,
        filter: &crate::outbound::DeliveryFilter,
    ) -> Result<Vec<crate::outbound::Delivery>> {
        self.deliveries_in_tree(filter)
    }

    fn flush(&self) -> Result<()> {
        self.batch.write_out()?;
        self.sync()
    }
}
