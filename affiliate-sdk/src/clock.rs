//! Time sources. Everything that reads the time takes a [`Clock`], so tests and
//! known-answer vectors can pin it.

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{SystemTime, UNIX_EPOCH};

/// A source of the current UTC time.
pub trait Clock: Send + Sync {
    /// Milliseconds since the Unix epoch.
    fn now_millis(&self) -> u64;

    /// Whole seconds since the Unix epoch.
    fn now(&self) -> u64 {
        self.now_millis() / 1000
    }
}

/// The system's wall clock.
#[derive(Debug, Clone, Copy, Default)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now_millis(&self) -> u64 {
        SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX))
    }
}

/// A clock that stands still until told to move; for tests and vectors.
///
/// ```
/// use affiliate_sdk::{Clock, FixedClock};
/// let clock = FixedClock::from_secs(1_700_000_000);
/// clock.advance_secs(90);
/// assert_eq!(clock.now(), 1_700_000_090);
/// ```
#[derive(Debug, Default)]
pub struct FixedClock(AtomicU64);

impl FixedClock {
    /// A clock fixed at `secs` seconds after the epoch.
    #[must_use]
    pub fn from_secs(secs: u64) -> Self {
        Self::from_millis(secs.saturating_mul(1000))
    }

    /// A clock fixed at `millis` milliseconds after the epoch.
    #[must_use]
    pub fn from_millis(millis: u64) -> Self {
        FixedClock(AtomicU64::new(millis))
    }

    /// Moves the clock to `secs` seconds after the epoch.
    pub fn set_secs(&self, secs: u64) {
        self.0.store(secs.saturating_mul(1000), Ordering::SeqCst);
    }

    /// Moves the clock forward by `secs` seconds.
    pub fn advance_secs(&self, secs: u64) {
        self.0
            .fetch_add(secs.saturating_mul(1000), Ordering::SeqCst);
    }
}

impl Clock for FixedClock {
    fn now_millis(&self) -> u64 {
        self.0.load(Ordering::SeqCst)
    }
}

impl<C: Clock + ?Sized> Clock for std::sync::Arc<C> {
    fn now_millis(&self) -> u64 {
        (**self).now_millis()
    }
}

impl<C: Clock + ?Sized> Clock for &C {
    fn now_millis(&self) -> u64 {
        (**self).now_millis()
    }
}
