//! What bounds a store's memory: the buffer of clicks and impressions waiting to be
//! written, and the number of distinct sids a day's counters keep per campaign and
//! partner.

use std::collections::{HashMap, HashSet};

use crate::code::{Code, Sid};
use crate::link::Link;

/// Default [`StoreLimits::click_buffer_bytes`]: 64 MiB.
pub const DEFAULT_CLICK_BUFFER_BYTES: usize = 64 * 1024 * 1024;
/// Default [`StoreLimits::max_sids_per_day`]: 1,000.
pub const DEFAULT_MAX_SIDS_PER_DAY: usize = 1_000;

/// Memory bounds of a store.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct StoreLimits {
    /// Most bytes of clicks, impressions and counter keys buffered before they are
    /// written (a stalled database fills it). When full, a click still redirects with
    /// its token but is not recorded, and counts as dropped ([`Dropped`]).
    pub click_buffer_bytes: usize,
    /// Most distinct sids a day's counters keep per campaign and partner; the clicks
    /// and impressions of the others count under [`Sid::other`] (`(other)`).
    pub max_sids_per_day: usize,
}

impl Default for StoreLimits {
    fn default() -> StoreLimits {
        StoreLimits {
            click_buffer_bytes: DEFAULT_CLICK_BUFFER_BYTES,
            max_sids_per_day: DEFAULT_MAX_SIDS_PER_DAY,
        }
    }
}

/// What a store could not keep because its buffer was full, since it opened.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Dropped {
    /// Clicks answered (with their token) but not recorded.
    pub clicks: u64,
    /// Impressions not counted.
    pub impressions: u64,
}

/// What a store's background click writer has done since the store opened: what an
/// operator watches (the server's `/metrics` and `/readyz`). All zero for stores that
/// write at once.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[non_exhaustive]
pub struct WriterStats {
    /// Bytes of clicks, impressions and counters waiting to be written.
    pub buffered_bytes: u64,
    /// Batches written.
    pub writes: u64,
    /// Write attempts that failed (the batch is kept and written again).
    pub failed_writes: u64,
    /// Time spent writing batches, in microseconds (failed attempts included).
    pub write_micros: u64,
    /// How long each write attempt took: `write_buckets[i]` counts the attempts that
    /// took at most [`WRITE_BUCKET_MICROS`]`[i]` and more than the bound before it; the
    /// last counts those longer than every bound. Their sum is `writes + failed_writes`.
    pub write_buckets: [u64; WRITE_BUCKET_MICROS.len() + 1],
    /// The latest write attempt failed: a batch waits for the store.
    pub failing: bool,
}

/// The upper bounds, in microseconds, of [`WriterStats::write_buckets`]: 1 ms to 10 s.
pub const WRITE_BUCKET_MICROS: [u64; 10] = [
    1_000, 2_500, 5_000, 10_000, 25_000, 50_000, 100_000, 500_000, 1_000_000, 10_000_000,
];

impl WriterStats {
    /// The bucket of [`Self::write_buckets`] a write of `micros` counts in.
    #[must_use]
    pub fn write_bucket(micros: u64) -> usize {
        WRITE_BUCKET_MICROS
            .iter()
            .position(|&bound| micros <= bound)
            .unwrap_or(WRITE_BUCKET_MICROS.len())
    }
}

/// Bytes one sid costs in [`SidCap`] (the set entry and its share of the table).
const SID_BYTES: usize = std::mem::size_of::<Sid>() + 16;

/// The sids of each day's counters per campaign and partner: the first
/// `max_sids_per_day` are kept, the rest count under `(other)`. Only the last two days
/// are remembered (clicks are counted on the day they happen), and the whole set never
/// takes more than the click buffer's bytes.
#[derive(Debug, Default)]
pub(crate) struct SidCap {
    max: usize,
    budget: usize,
    entries: usize,
    newest_day: u32,
    seen: HashMap<(u32, Code, Code), HashSet<Sid>>,
}

impl SidCap {
    pub(crate) fn new(limits: &StoreLimits) -> SidCap {
        SidCap {
            max: limits.max_sids_per_day,
            budget: limits.click_buffer_bytes / SID_BYTES,
            ..SidCap::default()
        }
    }

    /// The link a click or impression of `day` counts under: its own, or with sid
    /// `(other)` when its campaign and partner already have their day's sids.
    pub(crate) fn cap(&mut self, link: Link, day: u32) -> Link {
        let Some(sid) = link.sid else { return link };
        if sid.is_other() {
            return link;
        }
        if day > self.newest_day {
            self.newest_day = day;
            self.seen.retain(|(d, _, _), _| d.saturating_add(1) >= day);
            self.entries = self.seen.values().map(HashSet::len).sum();
        }
        if day.saturating_add(1) < self.newest_day {
            // An old day (a clock step back): not tracked, so not capped here.
            return link;
        }
        let set = self
            .seen
            .entry((day, link.campaign, link.partner))
            .or_default();
        if set.contains(&sid) {
            return link;
        }
        if set.len() < self.max && self.entries < self.budget {
            set.insert(sid);
            self.entries += 1;
            return link;
        }
        Link {
            sid: Some(Sid::other()),
            ..link
        }
    }

    /// Remembers sids already counted (read back from the store when it opens), so a
    /// restart does not grant another day's worth.
    #[cfg(any(feature = "sled", feature = "postgres"))]
    pub(crate) fn seed(&mut self, day: u32, link: &Link) {
        if link.sid.is_some_and(|s| !s.is_other()) {
            let _ = self.cap(*link, day);
        }
    }
}
