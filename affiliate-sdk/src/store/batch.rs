//! The click and impression buffer of the stores that write clicks in batches
//! ([`SledStore`](super::SledStore), `PostgresStore`): recorded in memory, where reads
//! see them at once, and written out by a background thread, one counter update per
//! link and day rather than per click.

use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError, RwLock, Weak};
use std::time::Duration;

use super::{ClickRecord, CounterKey, Counters, ImpressionRecord, day_of};
use crate::click_id::ClickId;
use crate::code::Code;
use crate::error::{Error, Result};

/// A batch is written at once, by the recording thread, when it reaches this many
/// clicks (bounds the memory a burst can take).
pub(crate) const MAX_BATCH: usize = 65_536;

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
    pub(crate) counters: HashMap<CounterKey, Counters>,
}

impl Pending {
    fn is_empty(&self) -> bool {
        self.clicks.is_empty() && self.counters.is_empty()
    }

    fn count(&mut self, key: CounterKey, delta: &Counters) {
        self.counters.entry(key).or_default().add(delta);
    }
}

/// The buffer. Readers see `open`, `writing` (the batch being written) and `failed`
/// (the batch whose last write failed) besides the store; a click is always in at
/// least one of them. Counter readers hold `write` for reading, so they never see a
/// batch both in the buffer and in the store.
#[derive(Default)]
pub(crate) struct ClickBuffer {
    state: Mutex<BatchState>,
    write: RwLock<()>,
}

#[derive(Default)]
struct BatchState {
    open: Pending,
    writing: Arc<Pending>,
    failed: Option<Arc<Pending>>,
}

impl BatchState {
    /// Every buffered batch: open, being written, failed.
    fn batches(&self) -> impl Iterator<Item = &Pending> {
        [&self.open, &*self.writing]
            .into_iter()
            .chain(self.failed.as_deref())
    }
}

impl ClickBuffer {
    fn lock(&self) -> MutexGuard<'_, BatchState> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Buffers a click; when that fills the open batch, writes it out at once with
    /// `write` (see [`ClickBuffer::write_out`]).
    pub(crate) fn click(
        &self,
        click: &ClickRecord,
        write: impl Fn(&Pending) -> Result<()>,
    ) -> Result<()> {
        if self.push_click(click) {
            self.write_out(write)?;
        }
        Ok(())
    }

    /// Buffers a click; true when the open batch is full.
    fn push_click(&self, click: &ClickRecord) -> bool {
        let mut st = self.lock();
        st.open.clicks.push(*click);
        st.open.count(
            CounterKey {
                day: day_of(click.at),
                link: click.link,
                currency: click.currency,
            },
            &Counters::of_click(click),
        );
        st.open.clicks.len() >= MAX_BATCH
    }

    /// Buffers an impression.
    pub(crate) fn impression(&self, i: &ImpressionRecord) {
        self.lock().open.count(
            CounterKey {
                day: day_of(i.at),
                link: i.link,
                currency: i.currency,
            },
            &Counters::of_impression(i),
        );
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
                        let mut batch = std::mem::take(&mut st.open);
                        batch.id = new_batch_id()?;
                        Arc::new(batch)
                    }
                };
                st.writing = batch.clone();
                batch
            };
            let result = write(&batch);
            let mut st = self.lock();
            st.writing = Arc::default();
            if let Err(e) = result {
                st.failed = Some(batch);
                return Err(e);
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
        let mut out: BTreeMap<CounterKey, Counters> =
            stored()?.into_iter().filter(|(k, _)| wanted(k)).collect();
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
                // `Store::flush` reports it.
                let _ = write_out(&o);
            }
        })
        .map(|_| ())
        .map_err(|e| Error::Store(format!("cannot start the click writer: {e}")))
}
