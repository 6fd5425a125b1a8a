//! The one way a money write adds its event to the outbox.

use crate::error::Result;
use crate::outbound::Event;
use crate::store::{EventRow, Tx};

/// Adds `event` to the outbox inside the transaction, encoded first.
pub(super) fn push(tx: &mut dyn Tx, event: &Event) -> Result<()> {
    let encoded = event.encode()?;
    tx.push_event(EventRow {
        event,
        encoded: &encoded,
    })
}
