//! The click and impression buffer of the stores that write clicks in batches
//! ([`SledStore`](super::SledStore), `PostgresStore`): recorded in memory, where reads
//! see them at once, and written out by a background thread, one counter update per
//! link and day rather than per click. Recording never writes: a click waits for no
//! store. The buffer is bounded ([`StoreLimits`]): when a stalled store has let it
//! fill, further clicks and impressions are dropped and counted.

use std::collections::BTreeMap;
use std::collections::hash_map::Entry;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError, RwLock, Weak};
use std::time::Duration;

use super::caps::{self, Owed, OwedKey};
use super::limits::{Dropped, SidCap, StoreLimits, WRITE_BUCKET_MICROS, WriterStats};
use super::records::CounterMap;
use super::{BotClickRecord, ClickRecord, CounterKey, Counters, ImpressionRecord, day_of};
use crate::click_id::ClickId;
use crate::code::Code;
use crate::error::{Error, Result};
use crate::link::Link;

/// What one buffered click costs.
const CLICK_BYTES: usize = std::mem::size_of::<ClickRecord>();
/// What one buffered counter key costs (the entry and its share of the table).
const COUNTER_BYTES: usize =
    std::mem::size_of::<CounterKey>() + std::mem::size_of::<Counters>() + 16;
/// What one owed entry costs.
const OWED_BYTES: usize = std::mem::size_of::<OwedKey>() + 8 + 16;

/// Clicks and impressions recorded but not yet written.
#[derive(Default)]
pub(crate) struct Pending {
    /// Names the batch to the store, random, fixed once the batch is first written. A
    /// batch whose write failed is written again under the same id, so a store that
    /// records ids (PostgreSQL) applies a batch whose commit went through but whose
    /// answer was lost only once.
    pub(crate) id: [u8; 16],
    /// In arrival order. Appending is the hot path; a lookup by id (a click-id
    /// postback) scans at most one batch.
    pub(crate) clicks: Vec<ClickRecord>,
    pub(crate) counters: CounterMap,
    /// Commission under a daily cap, owed until the store settles it
    /// ([`caps::settle`]) in the write of this batch.
    pub(crate) owed: Owed,
}

impl Pending {
    fn is_empty(&self) -> bool {
        self.clicks.is_empty() && self.counters.is_empty() && self.owed.is_empty()
    }

    /// Empties the batch, keeping its memory.
    fn clear(&mut self) {
        self.id = [0; 16];
        self.clicks.clear();
        self.counters.clear();
        self.owed.clear();
    }

    fn count(&mut self, key: CounterKey, delta: &Counters) {
        match self.counters.entry(key) {
            Entry::Occupied(mut e) => e.get_mut().add(delta),
            Entry::Vacant(e) => {
                e.insert(*delta);
            }
        }
    }

    /// What the batch holds in memory: its allocations, not just what is in them.
    fn bytes(&self) -> usize {
        self.clicks.capacity() * CLICK_BYTES
            + self.counters.capacity() * COUNTER_BYTES
            + self.owed.capacity() * OWED_BYTES
    }

    /// Bytes that counting under a new `key` would allocate (the table doubles when
    /// full), or 0.
    fn growth_for(&self, key: &CounterKey) -> usize {
        if self.counters.len() < self.counters.capacity() || self.counters.contains_key(key) {
            0
        } else {
            self.counters.capacity().max(4) * COUNTER_BYTES
        }
    }
}

/// The buffer. Readers see `open`, `writing` (the batch being written) and `failed`
/// (the batch whose last write failed) besides the store; a click is always in at
/// least one of them. Counter readers hold `write` for reading, so they never see a
/// batch both in the buffer and in the store.
pub(crate) struct ClickBuffer {
    state: Mutex<BatchState>,
    write: RwLock<()>,
    max_bytes: usize,
    dropped_clicks: AtomicU64,
    dropped_impressions: AtomicU64,
    writes: AtomicU64,
    failed_writes: AtomicU64,
    write_micros: AtomicU64,
    write_buckets: [AtomicU64; WRITE_BUCKET_MICROS.len() + 1],
    failing: std::sync::atomic::AtomicBool,
}

struct BatchState {
    open: Pending,
    writing: Arc<Pending>,
    failed: Option<Arc<Pending>>,
    /// The last written batch, emptied, to become the next open one: its memory is
    /// reused rather than freed and faulted in again.
    spare: Option<Pending>,
    sids: SidCap,
}

impl BatchState {
    /// Every buffered batch: open, being written, failed.
    fn batches(&self) -> impl Iterator<Item = &Pending> {
        [&self.open, &*self.writing]
            .into_iter()
            .chain(self.failed.as_deref())
    }

    /// What the buffer holds in memory, the spare batch's included.
    fn bytes(&self) -> usize {
        self.waiting_bytes() + self.spare.as_ref().map_or(0, Pending::bytes)
    }

    /// What waits to be written: the open, written and failed batches.
    fn waiting_bytes(&self) -> usize {
        self.batches().map(Pending::bytes).sum()
    }

    /// [`BatchState::bytes`], after freeing the spare batch when `need` more bytes
    /// would not fit under `max` beside it: buffered clicks come before reused memory.
    fn held(&mut self, need: usize, max: usize) -> usize {
        let held = self.bytes();
        if held + need > max && self.spare.take().is_some() {
            return self.bytes();
        }
        held
    }

    /// The counter key of a click or impression of `link` at `at`, its sid capped.
    fn key(&mut self, link: Link, at: u64, currency: crate::money::Currency) -> CounterKey {
        let day = day_of(at);
        CounterKey {
            day,
            link: self.sids.cap(link, day),
            currency,
        }
    }
}

impl ClickBuffer {
    pub(crate) fn new(limits: &StoreLimits) -> ClickBuffer {
        ClickBuffer {
            state: Mutex::new(BatchState {
                open: Pending::default(),
                writing: Arc::default(),
                failed: None,
                spare: None,
                sids: SidCap::new(limits),
            }),
            write: RwLock::new(()),
            max_bytes: limits.click_buffer_bytes,
            dropped_clicks: AtomicU64::new(0),
            dropped_impressions: AtomicU64::new(0),
            writes: AtomicU64::new(0),
            failed_writes: AtomicU64::new(0),
            write_micros: AtomicU64::new(0),
            write_buckets: Default::default(),
            failing: std::sync::atomic::AtomicBool::new(false),
        }
    }

    fn lock(&self) -> MutexGuard<'_, BatchState> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Buffers a click, never writing (the background writer does). When the buffer
    /// is full the click is dropped and counted. Memory is counted as allocated: the
    /// click list grows by at most half its size at a time, within the bound.
    pub(crate) fn click(&self, click: &ClickRecord) {
        let mut st = self.lock();
        // The common case: the click's counters are in the open batch already (so its
        // sid was admitted) and its list has room: one table lookup.
        let plain = CounterKey {
            day: day_of(click.at),
            link: click.link,
            currency: click.currency,
        };
        if st.open.clicks.len() < st.open.clicks.capacity()
            && let Some(c) = st.open.counters.get_mut(&plain)
        {
            c.add(&Counters::of_click(click));
            st.open.clicks.push(*click);
            caps::owe_click(&mut st.open.owed, plain, click);
            return;
        }
        let key = st.key(click.link, click.at, click.currency);
        let growth = st.open.growth_for(&key);
        let full = st.open.clicks.len() == st.open.clicks.capacity();
        let want = growth + if full { 1024 * CLICK_BYTES } else { 0 };
        let mut room = self
            .max_bytes
            .saturating_sub(st.held(want, self.max_bytes) + growth);
        let clicks = &mut st.open.clicks;
        if clicks.len() == clicks.capacity() {
            let grow = (clicks.capacity() / 2).max(1024).min(room / CLICK_BYTES);
            if grow == 0 {
                drop(st);
                self.dropped_clicks.fetch_add(1, Ordering::Relaxed);
                return;
            }
            clicks.reserve_exact(grow);
            room = usize::MAX;
        }
        if room == 0 {
            drop(st);
            self.dropped_clicks.fetch_add(1, Ordering::Relaxed);
            return;
        }
        st.open.clicks.push(*click);
        st.open.count(key, &Counters::of_click(click));
        caps::owe_click(&mut st.open.owed, key, click);
    }

    /// Buffers an impression; dropped and counted when the buffer is full.
    pub(crate) fn impression(&self, i: &ImpressionRecord) {
        let counted = Counters::of_impression(i);
        if let Some((mut st, key)) = self.count_only(
            i.link,
            i.at,
            i.currency,
            &counted,
            &self.dropped_impressions,
        ) {
            caps::owe_impression(&mut st.open.owed, key, i);
        }
    }

    /// Buffers a bot's click; dropped (and counted with the dropped clicks) when the
    /// buffer is full.
    pub(crate) fn bot_click(&self, b: &BotClickRecord) {
        let counted = Counters::of_bot_click();
        self.count_only(b.link, b.at, b.currency, &counted, &self.dropped_clicks);
    }

    /// Adds `delta` to the counters of `link` at `at` (no click record), or, when the
    /// buffer is full, drops it and counts it in `dropped`. Returns the lock and the key
    /// when counted.
    fn count_only(
        &self,
        link: Link,
        at: u64,
        currency: crate::money::Currency,
        delta: &Counters,
        dropped: &AtomicU64,
    ) -> Option<(MutexGuard<'_, BatchState>, CounterKey)> {
        let mut st = self.lock();
        let key = st.key(link, at, currency);
        let growth = st.open.growth_for(&key);
        if st.held(growth, self.max_bytes) + growth > self.max_bytes {
            drop(st);
            dropped.fetch_add(1, Ordering::Relaxed);
            return None;
        }
        st.open.count(key, delta);
        Some((st, key))
    }

    /// What the writer has done since the buffer was made, and what waits.
    pub(crate) fn stats(&self) -> super::WriterStats {
        // The spare batch's memory is free room, not buffered clicks.
        let buffered_bytes = self.lock().waiting_bytes() as u64;
        super::WriterStats {
            buffered_bytes,
            writes: self.writes.load(Ordering::Relaxed),
            failed_writes: self.failed_writes.load(Ordering::Relaxed),
            write_micros: self.write_micros.load(Ordering::Relaxed),
            write_buckets: std::array::from_fn(|i| self.write_buckets[i].load(Ordering::Relaxed)),
            failing: self.failing.load(Ordering::Relaxed),
        }
    }

    /// What was dropped since the buffer was made.
    pub(crate) fn dropped(&self) -> Dropped {
        Dropped {
            clicks: self.dropped_clicks.load(Ordering::Relaxed),
            impressions: self.dropped_impressions.load(Ordering::Relaxed),
        }
    }

    /// Remembers the sids of stored counters (see [`SidCap::seed`]).
    pub(crate) fn seed_sids<'a>(&self, keys: impl IntoIterator<Item = &'a CounterKey>) {
        let mut st = self.lock();
        for k in keys {
            st.sids.seed(k.day, &k.link);
        }
    }

    /// Writes the buffered batches with `write`: first one whose earlier write failed,
    /// again under its id (the store may have committed it and only the answer was
    /// lost), then the open one under a new id. On an error the batch is kept as the
    /// failed one, and the open batch goes on filling until it can be written.
    pub(crate) fn write_out(&self, write: impl Fn(&Pending) -> Result<()>) -> Result<()> {
        let _exclusive = self.write.write().unwrap_or_else(PoisonError::into_inner);
        // At most two rounds: the failed batch, then the open one.
        for _ in 0..2 {
            let batch = {
                let mut st = self.lock();
                let batch = match st.failed.take() {
                    Some(failed) => failed,
                    None if st.open.is_empty() => return Ok(()),
                    None => {
                        let next = st.spare.take().unwrap_or_default();
                        let mut batch = std::mem::replace(&mut st.open, next);
                        batch.id = new_batch_id()?;
                        Arc::new(batch)
                    }
                };
                st.writing = batch.clone();
                batch
            };
            let started = std::time::Instant::now();
            let result = write(&batch);
            let micros = u64::try_from(started.elapsed().as_micros()).unwrap_or(u64::MAX);
            self.write_micros.fetch_add(micros, Ordering::Relaxed);
            self.write_buckets[WriterStats::write_bucket(micros)].fetch_add(1, Ordering::Relaxed);
            self.failing.store(result.is_err(), Ordering::Relaxed);
            let mut st = self.lock();
            st.writing = Arc::default();
            if let Err(e) = result {
                self.failed_writes.fetch_add(1, Ordering::Relaxed);
                st.failed = Some(batch);
                return Err(e);
            }
            self.writes.fetch_add(1, Ordering::Relaxed);
            // Nobody else holds a written batch but a reader in `find` or `counters`,
            // which holds the lock while it reads.
            if let Ok(mut done) = Arc::try_unwrap(batch) {
                done.clear();
                st.spare = Some(done);
            }
        }
        Ok(())
    }

    /// The buffered click with this id.
    pub(crate) fn find(&self, id: ClickId) -> Option<ClickRecord> {
        let st = self.lock();
        st.batches()
            .find_map(|b| b.clicks.iter().rev().find(|c| c.click_id == id))
            .copied()
    }

    /// The counters of the days `from_day..=to_day` (of `campaign`, if given): those
    /// `stored` reads, plus the buffered ones, never counting a batch twice.
    pub(crate) fn counters(
        &self,
        from_day: u32,
        to_day: u32,
        campaign: Option<&Code>,
        stored: impl FnOnce() -> Result<BTreeMap<CounterKey, Counters>>,
    ) -> Result<BTreeMap<CounterKey, Counters>> {
        let _consistent = self.write.read().unwrap_or_else(PoisonError::into_inner);
        let wanted = |key: &CounterKey| {
            (from_day..=to_day).contains(&key.day)
                && campaign.is_none_or(|c| *c == key.link.campaign)
        };
        let mut out = stored()?;
        out.retain(|k, _| wanted(k));
        let st = self.lock();
        for (key, delta) in st.batches().flat_map(|b| &b.counters) {
            if wanted(key) {
                out.entry(*key).or_default().add(delta);
            }
        }
        Ok(out)
    }
}

/// A random batch id.
fn new_batch_id() -> Result<[u8; 16]> {
    let mut id = [0u8; 16];
    getrandom::fill(&mut id).map_err(|_| Error::Store("no randomness for a batch id".into()))?;
    Ok(id)
}

/// Calls `write_out(owner)` every `every` until the owner is dropped, on a thread
/// named `name`.
pub(crate) fn spawn_writer<T: Send + Sync + 'static>(
    owner: Weak<T>,
    every: Duration,
    name: &str,
    write_out: fn(&T) -> Result<()>,
) -> Result<()> {
    std::thread::Builder::new()
        .name(name.into())
        .spawn(move || {
            loop {
                std::thread::sleep(every);
                let Some(o) = owner.upgrade() else { return };
                // An error keeps the batch; it is retried next time, and
                // `ClickSink::flush` reports it.
                let _ = write_out(&o);
            }
        })
        .map(|_| ())
        .map_err(|e| Error::Store(format!("cannot start the click writer: {e}")))
}

#[cfg(test)]
#[path = "batch_tests.rs"]
mod tests;
