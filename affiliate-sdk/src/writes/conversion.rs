//! Recording a conversion and changing its status, over the transactional port.

use crate::error::{Error, Result};
use crate::ledger::{apply_status, entries_of};
use crate::outbound::{Event, EventKind};
use crate::records::{Conversion, Status};
use crate::store::{Binding, ConversionRow, EventRow, Inserted, StatusChange, Store, run};

fn json(c: &Conversion) -> Result<String> {
    serde_json::to_string(c).map_err(|e| Error::Store(e.to_string()))
}

/// See [`StoreWrites::insert_conversion`](super::StoreWrites::insert_conversion).
pub(super) fn record<S: Store + ?Sized>(
    store: &S,
    conversion: &Conversion,
    binding: Option<&Binding>,
    per_click_cap: Option<u32>,
) -> Result<Inserted> {
    let mut new = conversion.clone();
    new.duplicate = false;
    new.replaced = false;
    // Everything that does not depend on what is stored, before the transaction.
    let text = json(&new)?;
    let row = ConversionRow {
        record: &new,
        json: &text,
    };
    let entries = entries_of(&new);
    let created = Event::conversion(EventKind::ConversionCreated, &new, new.converted_at);
    let created_text = created.encode()?;
    run(store, |tx| {
        let replaced = match tx.conversion(&new.order_id)? {
            // Our own write, committed by a run whose answer was lost. (Only then: a
            // concurrent writer of the same order may write the same record.)
            Some(stored) if tx.retrying() && stored == new => {
                return Ok(match tx.last_replaced(&new.order_id)? {
                    Some(old) if old.replaceable_by(&new) => Inserted::Replaced(Box::new(old)),
                    _ => Inserted::New,
                });
            }
            Some(stored) if !stored.replaceable_by(&new) => {
                return Ok(Inserted::Existing(Box::new(stored)));
            }
            Some(stored) => Some(stored),
            None => None,
        };
        match &replaced {
            Some(old) => {
                tx.keep_replaced(old)?;
                // The ledger with it: a replaced record's entries go with the record.
                tx.remove_order_entries(old)?;
                tx.update_conversion(old, row)?;
            }
            None => {
                if let (Some(cap), Some(click)) = (per_click_cap, new.click_id)
                    && (cap == 0 || !tx.count_click_conversion(click, cap)?)
                {
                    return Ok(Inserted::CapReached);
                }
                tx.insert_conversion(row)?;
            }
        }
        tx.put_entries(&entries)?;
        // A binding the replaced record made goes with it.
        if let Some(old) = &replaced
            && let Some(customer) = &old.customer_id
        {
            let mut bindings = tx.customer(customer)?;
            if let Some(b) = bindings.of(&old.link.campaign).copied()
                && b.link == old.link
                && b.bound_at == old.converted_at
            {
                bindings.remove(&b);
                tx.put_customer(customer, &bindings)?;
            }
        }
        // The first binding of a campaign wins.
        if let (Some(b), Some(customer)) = (binding, &new.customer_id) {
            let mut bindings = tx.customer(customer)?;
            if bindings.of(&b.link.campaign).is_none() {
                bindings.put(*b);
                tx.put_customer(customer, &bindings)?;
            }
        }
        match replaced {
            Some(old) => {
                let updated =
                    Event::conversion(EventKind::ConversionUpdated, &new, new.converted_at);
                let text = updated.encode()?;
                tx.push_event(EventRow {
                    event: &updated,
                    encoded: &text,
                })?;
                Ok(Inserted::Replaced(Box::new(old)))
            }
            None => {
                tx.push_event(EventRow {
                    event: &created,
                    encoded: &created_text,
                })?;
                Ok(Inserted::New)
            }
        }
    })
}

/// See [`StoreWrites::set_status`](super::StoreWrites::set_status).
pub(super) fn change_status<S: Store + ?Sized>(
    store: &S,
    order_id: &str,
    from: Status,
    to: Status,
    at: u64,
) -> Result<StatusChange> {
    // The record as a run changed it: a later run that finds exactly this record after
    // a lost answer finds its own change.
    let mut planned: Option<Conversion> = None;
    run(store, |tx| {
        let Some(old) = tx.conversion(order_id)? else {
            return Ok(StatusChange::Missing);
        };
        let mut c = old.clone();
        if c.status != from {
            if tx.retrying() && planned.as_ref() == Some(&c) {
                return Ok(StatusChange::Changed(c));
            }
            return Ok(StatusChange::Unchanged(c));
        }
        c.status = to;
        planned = Some(c.clone());
        let text = json(&c)?;
        tx.update_conversion(
            &old,
            ConversionRow {
                record: &c,
                json: &text,
            },
        )?;
        let mut mine = tx.order_entries(&c)?;
        let clawbacks = apply_status(&mut mine, to, at)?;
        tx.put_entries(&mine)?;
        tx.put_entries(&clawbacks)?;
        let event = Event::conversion(EventKind::ConversionUpdated, &c, at);
        let encoded = event.encode()?;
        tx.push_event(EventRow {
            event: &event,
            encoded: &encoded,
        })?;
        Ok(StatusChange::Changed(c))
    })
}
