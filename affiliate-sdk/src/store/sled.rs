//! [`SledStore`]: the default embedded store, a [sled](https://docs.rs/sled) database in a
//! directory.
//!
//! # Durability
//!
//! * Money writes (a conversion in one transaction with its customer binding, its
//!   click's count, the record it replaces, its ledger entries and its event; status
//!   changes, refunds, payouts, adjustments) are on disk before the call returns: each
//!   transaction's writes are appended to the **money journal**, the file
//!   `<directory>.journal` beside the database directory, which is synced
//!   (`fdatasync`) before the answer. Concurrent writers share the sync (group commit):
//!   a writer waits for the first sync that starts after its append, so one sync can
//!   acknowledge many conversions and none is acknowledged before it is on disk.
//!   Opening the store applies the journal's records that sled's own files lack (after
//!   a crash), then empties it; it is also emptied, after a flush of sled, whenever it
//!   passes 64 MiB. **Back up and move the journal with the directory.**
//! * Partners, webhooks and the outbox's deliveries are flushed to disk by sled before
//!   the call returns (`fsync`, group commit as above).
//! * Clicks and impressions are batched: they are kept in memory (where reads see them
//!   at once), written to sled by a background thread every [`CLICK_BATCH_MS`]
//!   milliseconds, one counter update per link and day rather than per click, and
//!   flushed to disk by sled every [`CLICK_FLUSH_MS`] − [`CLICK_BATCH_MS`]
//!   milliseconds, or earlier by any flush of sled. A power cut or `SIGKILL` loses
//!   at most the clicks and impressions of the last [`CLICK_FLUSH_MS`] milliseconds; a
//!   clean shutdown ([`ClickSink::flush`](crate::store::ClickSink::flush) or drop) loses none.
//!
//! # Reports
//!
//! Conversions are indexed by day (tree `conversions-by-day`: day, then order id), so
//! a report reads the conversions of its days, not all of them (a report of every
//! day there is reads the records in one pass instead), and pending ones by campaign
//! and time (tree `conversions-pending`), so approval reads what is due. Both entries
//! are written in the record's own transaction (`tx.rs`). A database from before an
//! index is indexed once when it is opened.

use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

mod clicks;
mod compact;
mod erase;
mod fail;
mod journal;
mod leases;
mod ledger;
mod outbox;
mod payouts;
mod program_records;
mod store_impl;
mod tx;

use self::clicks::SledBatch;
use self::fail::store_err;
use super::batch::{ClickBuffer, spawn_writer};
use super::group_commit::GroupCommit;
use super::{RecordKind, StoreLimits, day_of};
use crate::error::{Error, Result};
use crate::records::Conversion;

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

/// A [`Store`](super::Store) in a sled database directory. Cheap to share: wrap it in an `Arc`.
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
    deliveries_by_subject: sled::Tree,
    delivery_requests: sled::Tree,
    /// The deliveries' leases, in memory (see `outbox.rs`).
    leases: leases::Leases,
    commit: GroupCommit,
    /// Tree `journal`, and the money journal (see `journal.rs`).
    journal_seq: sled::Tree,
    journal: journal::Journal,
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
            Err(sled::Error::Corruption { .. }) if remove_cut_snapshots(path)? => {}
            other => return other.map_err(store_err),
        }
    }
}

/// Removes the snapshots a killed process left half-written (`snap.*.generating`),
/// answering whether there were any.
///
/// sled writes a snapshot to `snap.N.generating`, syncs it, then renames it to
/// `snap.N`, and removes older snapshots only after the rename. A process killed while
/// writing one (sled writes a snapshot as it opens) leaves the `.generating` file
/// beside the complete snapshot it was replacing, and sled 0.34 then picks the cut
/// file and refuses to open. Called only after sled answered "corrupted", which it
/// does after it took the directory's lock: no other process is writing the file.
fn remove_cut_snapshots(path: &Path) -> Result<bool> {
    let mut removed = false;
    for entry in std::fs::read_dir(path).map_err(store_err)? {
        let entry = entry.map_err(store_err)?;
        let name = entry.file_name();
        let name = name.to_string_lossy();
        if name.starts_with("snap.") && name.ends_with(".generating") {
            std::fs::remove_file(entry.path()).map_err(store_err)?;
            removed = true;
        }
    }
    Ok(removed)
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
        // Money transactions acknowledged but not in sled's log first.
        let tx_trees = journal::TX_TREES
            .iter()
            .map(|name| tree(name))
            .collect::<Result<Vec<_>>>()?;
        let journal_seq = tx_trees[tx_trees.len() - 1].clone();
        let journal = journal::Journal::open(
            path,
            journal::stored_seq(&journal_seq)?,
            |seq, writes| journal::replay(&tx_trees, seq, writes),
            || db.flush().map(drop).map_err(store_err),
        )?;
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
            deliveries_by_subject: tree("deliveries-by-subject")?,
            delivery_requests: tree("delivery-requests")?,
            leases: leases::Leases::default(),
            db,
            path: path.to_owned(),
            commit: GroupCommit::default(),
            journal_seq,
            journal,
            batch,
        };
        store.index_conversions_by_day()?;
        store.index_pending()?;
        store.backfill_ledger()?;
        // The sids already counted today and yesterday keep their places under the cap.
        let today = day_of(crate::clock::Clock::now(&crate::clock::SystemClock));
        let stored = super::ClickSink::counters(&store, today.saturating_sub(1), today, None)?;
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
