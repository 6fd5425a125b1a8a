//! The events bell: the write paths that put an event in the outbox ring it, and a
//! delivery loop waits on it instead of sleeping out its poll, so an event this tracker
//! wrote is sent as soon as it is durable. (Events written by another tracker on the
//! same database are found by the loop's poll.)

use std::sync::{Condvar, Mutex, PoisonError};
use std::time::Duration;

use super::Tracker;

/// Whether an event was written since the last wait took it.
#[derive(Debug, Default)]
pub(super) struct Bell {
    rung: Mutex<bool>,
    cv: Condvar,
}

impl Bell {
    fn ring(&self) {
        *self.rung.lock().unwrap_or_else(PoisonError::into_inner) = true;
        self.cv.notify_one();
    }

    fn wait(&self, timeout: Duration) -> bool {
        let rung = self.rung.lock().unwrap_or_else(PoisonError::into_inner);
        let (mut rung, _) = self
            .cv
            .wait_timeout_while(rung, timeout, |rung| !*rung)
            .unwrap_or_else(PoisonError::into_inner);
        std::mem::take(&mut *rung)
    }
}

impl Tracker {
    /// Waits up to `timeout` for this tracker to write an event (a conversion made,
    /// changed or refunded, a payout made or settled, a partner created), and takes it:
    /// `true` when one was written since the last call took one, at once if so. One
    /// waiter is woken per event; a delivery loop calls it between rounds instead of
    /// sleeping, so a new event is fanned out and sent without waiting for the poll.
    pub fn wait_for_events(&self, timeout: Duration) -> bool {
        self.bell.wait(timeout)
    }

    /// Rings the bell: an event was written.
    pub(super) fn events_written(&self) {
        self.bell.ring();
    }
}

#[cfg(test)]
mod tests {
    use super::Bell;
    use std::sync::Arc;
    use std::time::{Duration, Instant};

    #[test]
    fn a_ring_wakes_a_waiter_at_once_and_is_taken_once() {
        let bell = Arc::new(Bell::default());
        // Nothing rung: the wait runs out.
        let started = Instant::now();
        assert!(!bell.wait(Duration::from_millis(50)));
        assert!(started.elapsed() >= Duration::from_millis(50));
        // Rung before the wait: taken at once, then gone.
        bell.ring();
        assert!(bell.wait(Duration::from_secs(5)));
        assert!(!bell.wait(Duration::from_millis(1)));
        // Rung while waiting: the waiter wakes long before its timeout.
        let waiter = {
            let bell = bell.clone();
            std::thread::spawn(move || {
                let started = Instant::now();
                (bell.wait(Duration::from_secs(10)), started.elapsed())
            })
        };
        std::thread::sleep(Duration::from_millis(50));
        bell.ring();
        let (rung, waited) = waiter.join().unwrap();
        assert!(rung && waited < Duration::from_secs(5), "{waited:?}");
    }
}
