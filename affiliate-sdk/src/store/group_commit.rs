//! Group commit: concurrent writers share one flush to disk, and none is answered
//! before a flush that started after its write has succeeded.

use std::sync::{Condvar, Mutex, PoisonError};

use crate::error::{Error, Result};

/// Flushes shared between concurrent writers.
#[derive(Default)]
pub(crate) struct GroupCommit {
    state: Mutex<CommitState>,
    done: Condvar,
}

#[derive(Default)]
struct CommitState {
    /// Flushes started so far (each gets the next number).
    started: u64,
    /// The number of the last flush that finished.
    finished: u64,
    /// The number of the last flush that succeeded.
    succeeded: u64,
    running: bool,
}

impl GroupCommit {
    pub(crate) fn sync(&self, flush: impl Fn() -> Result<()>) -> Result<()> {
        let mut st = self.state.lock().unwrap_or_else(PoisonError::into_inner);
        // A flush already running may have started before our write: we need one that
        // starts after now.
        let needed = st.started + 1;
        loop {
            if st.succeeded >= needed {
                return Ok(());
            }
            if st.finished >= needed {
                // Flushes finish in order, so a later success would have shown above.
                return Err(Error::Store("flush to disk failed".into()));
            }
            if st.running {
                st = self.done.wait(st).unwrap_or_else(PoisonError::into_inner);
                continue;
            }
            st.running = true;
            st.started += 1;
            let this = st.started;
            drop(st);
            let result = flush();
            st = self.state.lock().unwrap_or_else(PoisonError::into_inner);
            st.running = false;
            st.finished = this;
            if result.is_ok() {
                st.succeeded = this;
            }
            self.done.notify_all();
        }
    }
}
