//! The events bell: the write paths that put an event in the outbox ring it
//! (`Tracker::events_written`), and a delivery loop waits on it
//! ([`Tracker::wait_for_events`]) instead of sleeping out its poll, so an event this
//! tracker wrote is sent as soon as it is durable. (Events written by another tracker on
//! the same database are found by the loop's poll.)

use std::time::Duration;

use super::Tracker;

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
