//! Refunding part or all of an order, over the transactional port.

use super::outbox::push;
use crate::error::{Error, Result};
use crate::ledger::apply_refund;
use crate::outbound::{Event, EventKind};
use crate::records::{Conversion, Refund, Status};
use crate::store::{ConversionRow, Store, run};

/// What a refund did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Refunded {
    /// Recorded now: the conversion as it now reads.
    Created(Conversion),
    /// This refund id was recorded before with the same amount: the conversion as it
    /// reads, unchanged.
    Replayed(Conversion),
    /// No conversion under the order id.
    Missing,
}

/// See [`StoreWrites::refund`](super::StoreWrites::refund).
pub(super) fn refund<S: Store + ?Sized>(
    store: &S,
    order_id: &str,
    refund: &Refund,
    at: u64,
) -> Result<Refunded> {
    run(store, |tx| {
        let Some(old) = tx.conversion(order_id)? else {
            return Ok(Refunded::Missing);
        };
        if let Some(known) = old.refunds.iter().find(|r| r.id == refund.id) {
            if known.amount != refund.amount {
                return Err(Error::Exists(format!(
                    "refund {:?} of order {order_id:?} was recorded with amount {}",
                    refund.id, known.amount
                )));
            }
            // Our own write after a lost answer reads as the first run's answer.
            return Ok(if tx.retrying() && known.at == at {
                Refunded::Created(old)
            } else {
                Refunded::Replayed(old)
            });
        }
        let entries = tx.order_entries(&old)?;
        let (new, changed) = apply_refund(&old, &entries, refund, at)?;
        let text = serde_json::to_string(&new).map_err(|e| Error::Store(e.to_string()))?;
        tx.update_conversion(
            &old,
            ConversionRow {
                record: &new,
                json: &text,
            },
        )?;
        tx.put_entries(&changed)?;
        push(
            tx,
            &Event::conversion(EventKind::ConversionRefunded, &new, at),
        )?;
        if new.status == Status::Reversed {
            push(
                tx,
                &Event::conversion(EventKind::ConversionUpdated, &new, at),
            )?;
        }
        Ok(Refunded::Created(new))
    })
}
