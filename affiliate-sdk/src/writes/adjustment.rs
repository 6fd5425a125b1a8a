//! Adjusting a partner's balance by hand, over the transactional port.

use crate::error::Result;
use crate::ledger::{Adjustment, Entry};
use crate::store::{Store, run};

/// What an adjustment did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Adjusted {
    /// Recorded now: its entry.
    Created(Entry),
    /// Its key was used before by the same request: the entry it made, as it is now.
    Replayed(Entry),
}

impl Adjusted {
    /// The adjustment's entry.
    #[must_use]
    pub fn entry(&self) -> &Entry {
        match self {
            Adjusted::Created(e) | Adjusted::Replayed(e) => e,
        }
    }
}

/// See [`StoreWrites::adjust`](super::StoreWrites::adjust).
pub(super) fn adjust<S: Store + ?Sized>(
    store: &S,
    key: &str,
    adjustment: &Adjustment,
    now: u64,
) -> Result<Adjusted> {
    let entry = adjustment.entry(key, now);
    run(store, |tx| {
        if let Some(found) = tx.entry(&entry.id)? {
            adjustment.same_as(key, &found)?;
            // Our own write after a lost answer reads as the first run's answer.
            let ours = found.note.as_ref().is_some_and(|n| n.created == now);
            return Ok(if tx.retrying() && ours {
                Adjusted::Created(found)
            } else {
                Adjusted::Replayed(found)
            });
        }
        if adjustment.negative && !adjustment.allow_negative {
            adjustment.check_balance(&tx.balance(adjustment.partner, adjustment.currency())?)?;
        }
        tx.put_entries(std::slice::from_ref(&entry))?;
        Ok(Adjusted::Created(entry.clone()))
    })
}
