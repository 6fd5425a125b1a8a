//! Conversions in sled: recording one (with its binding, its click's count, the record
//! it replaces, its ledger entries and its event, in one transaction) and changing its
//! status (with the entries it moves and its event).

use super::outbox;
use super::{SledStore, day_key, ledger, store_err, tx_err};
use crate::attribution::{Conversion, Status};
use crate::error::Result;
use crate::outbound::{Event, EventKind};
use crate::store::{Binding, Inserted, StatusChange, day_of, takes_binding};

impl SledStore {
    pub(super) fn insert_conversion_in_trees(
        &self,
        conversion: &Conversion,
        binding: Option<&Binding>,
        per_click_cap: Option<u32>,
    ) -> Result<Inserted> {
        use sled::Transactional as _;
        use sled::transaction::ConflictableTransactionError;

        enum Outcome {
            New,
            Existing(Conversion),
            Replaced(Conversion),
            CapReached,
        }
        let value = serde_json::to_vec(conversion).map_err(store_err)?;
        // The event of a new record, encoded before the transaction.
        let created = Event::conversion(
            EventKind::ConversionCreated,
            conversion,
            conversion.converted_at,
        )
        .encode()?;
        let entries = crate::ledger::entries_of(conversion);
        let bind = match (binding, &conversion.customer_id) {
            (Some(b), Some(customer)) => Some((
                customer.as_bytes(),
                serde_json::to_vec(b).map_err(store_err)?,
            )),
            _ => None,
        };
        // The index entry first (see the module docs). For a replay or a conflict it
        // may name another day than the record's: reads check.
        self.conversions_by_day
            .insert(
                day_key(
                    day_of(conversion.converted_at),
                    conversion.order_id.as_bytes(),
                ),
                &[],
            )
            .map_err(store_err)?;
        // The conversion, its customer binding, the click's count and the replaced
        // record in one transaction: all or none.
        let key = conversion.order_id.as_bytes();
        let click_key = conversion.click_id.map(|c| *c.as_bytes());
        let corrupt_record = || ConflictableTransactionError::Abort("conversion");
        let outcome = (
            &self.conversions,
            &self.customers,
            &self.per_click,
            &self.replaced,
            &self.ledger,
            &self.ledger_sums,
            &self.outbox,
        )
            .transaction(
                |(conversions, customers, per_click, replaced, entries_tree, sums, events)| {
                    let ledger_tx = ledger::LedgerTx {
                        entries: entries_tree,
                        sums,
                    };
                    let old = match conversions.get(key)? {
                        Some(bytes) => {
                            let old: Conversion =
                                serde_json::from_slice(&bytes).map_err(|_| corrupt_record())?;
                            if !old.replaceable_by(conversion) {
                                return Ok(Outcome::Existing(old));
                            }
                            let mut audit_key = key.to_vec();
                            audit_key.push(0);
                            audit_key.extend_from_slice(&replaced.generate_id()?.to_be_bytes());
                            replaced.insert(audit_key, bytes)?;
                            Some(old)
                        }
                        None => None,
                    };
                    if let (None, Some(cap), Some(click)) = (&old, per_click_cap, &click_key) {
                        let made = per_click
                            .get(click)?
                            .and_then(|v| v.as_ref().try_into().ok())
                            .map_or(0, u32::from_le_bytes);
                        if made >= cap {
                            return Ok(Outcome::CapReached);
                        }
                        per_click.insert(click, &(made + 1).to_le_bytes())?;
                    }
                    conversions.insert(key, value.as_slice())?;
                    // The ledger with it: a replaced record's entries go with the record.
                    if let Some(old) = &old {
                        ledger::remove_order(&ledger_tx, old)?;
                    }
                    ledger::write(&ledger_tx, &entries)?;
                    if let Some((customer, b)) = &bind {
                        let current = match customers.get(*customer)? {
                            Some(v) => Some(
                                serde_json::from_slice::<Binding>(&v)
                                    .map_err(|_| ConflictableTransactionError::Abort("customer"))?,
                            ),
                            None => None,
                        };
                        if takes_binding(current.as_ref(), old.as_ref()) {
                            customers.insert(*customer, b.as_slice())?;
                        }
                    }
                    let kind = if old.is_some() {
                        EventKind::ConversionUpdated
                    } else {
                        EventKind::ConversionCreated
                    };
                    if kind == EventKind::ConversionCreated {
                        outbox::push_encoded(events, created.as_bytes())?;
                    } else {
                        outbox::push(
                            events,
                            &Event::conversion(kind, conversion, conversion.converted_at),
                        )?;
                    }
                    Ok(old.map_or(Outcome::New, Outcome::Replaced))
                },
            )
            .map_err(tx_err)?;
        // Flush in every case: an existing record may come from a writer that has not
        // flushed yet, and it must not be acknowledged before it is durable.
        self.sync()?;
        Ok(match outcome {
            Outcome::New => Inserted::New,
            Outcome::Existing(c) => Inserted::Existing(Box::new(c)),
            Outcome::Replaced(c) => Inserted::Replaced(Box::new(c)),
            Outcome::CapReached => Inserted::CapReached,
        })
    }

    pub(super) fn set_status_in_trees(
        &self,
        order_id: &str,
        from: Status,
        to: Status,
        at: u64,
    ) -> Result<StatusChange> {
        use sled::Transactional as _;
        use sled::transaction::ConflictableTransactionError;
        enum Outcome {
            Missing,
            Unchanged(Conversion),
            Changed(Conversion),
        }
        // The status and the entries it moves, in one transaction.
        let outcome = (
            &self.conversions,
            &self.ledger,
            &self.ledger_sums,
            &self.outbox,
        )
            .transaction(|(conversions, entries, sums, events)| {
                let Some(old) = conversions.get(order_id.as_bytes())? else {
                    return Ok(Outcome::Missing);
                };
                let mut c: Conversion = serde_json::from_slice(&old)
                    .map_err(|_| ConflictableTransactionError::Abort("conversion"))?;
                if c.status != from {
                    return Ok(Outcome::Unchanged(c));
                }
                c.status = to;
                let new = serde_json::to_vec(&c)
                    .map_err(|_| ConflictableTransactionError::Abort("conversion"))?;
                conversions.insert(order_id.as_bytes(), new)?;
                let mut mine = ledger::read_order(entries, &c)?;
                let clawbacks = crate::ledger::apply_status(&mut mine, to, at);
                let ledger_tx = ledger::LedgerTx { entries, sums };
                ledger::write(&ledger_tx, &mine)?;
                ledger::write(&ledger_tx, &clawbacks)?;
                outbox::push(
                    events,
                    &Event::conversion(EventKind::ConversionUpdated, &c, at),
                )?;
                Ok(Outcome::Changed(c))
            })
            .map_err(tx_err)?;
        Ok(match outcome {
            Outcome::Missing => StatusChange::Missing,
            Outcome::Unchanged(c) => StatusChange::Unchanged(c),
            Outcome::Changed(c) => {
                self.sync()?;
                StatusChange::Changed(c)
            }
        })
    }
}
