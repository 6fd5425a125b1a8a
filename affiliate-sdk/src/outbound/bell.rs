//! The events bell (see `tracker/bell.rs`): rung when an event is written, waited on
//! by a delivery loop.

use std::sync::{Condvar, Mutex, PoisonError};
use std::time::Duration;

/// Whether an event was written since the last wait took it.
#[derive(Debug, Default)]
pub(crate) struct Bell {
    rung: Mutex<bool>,
    cv: Condvar,
}

impl Bell {
    pub(crate) fn ring(&self) {
        *self.rung.lock().unwrap_or_else(PoisonError::into_inner) = true;
        self.cv.notify_one();
    }

    pub(crate) fn wait(&self, timeout: Duration) -> bool {
        let rung = self.rung.lock().unwrap_or_else(PoisonError::into_inner);
        let (mut rung, _) = self
            .cv
            .wait_timeout_while(rung, timeout, |rung| !*rung)
            .unwrap_or_else(PoisonError::into_inner);
        std::mem::take(&mut *rung)
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
