//! Conversions in PostgreSQL: recording one (with its binding, its click's count, the
//! record it replaces, its ledger entries and its event, in one transaction) and
//! changing its status (with the entries it moves and its event).

use super::connect::Failure;
use super::rows::{last_replaced, parse_conversion, read_conversion};
use super::{PostgresStore, day_i32, ledger, outbox};
use crate::attribution::{Conversion, Status};
use crate::error::{Error, Result};
use crate::outbound::{Event, EventKind};
use crate::store::{Binding, Inserted, StatusChange, day_of, takes_binding};

impl PostgresStore {
    pub(super) fn insert_conversion_in_db(
        &self,
        conversion: &Conversion,
        binding: Option<&Binding>,
        per_click_cap: Option<u32>,
    ) -> Result<Inserted> {
        let text = serde_json::to_string(conversion).map_err(|e| Error::Store(e.to_string()))?;
        let bind = match (binding, &conversion.customer_id) {
            (Some(b), Some(customer)) => Some((
                customer,
                serde_json::to_string(b).map_err(|e| Error::Store(e.to_string()))?,
            )),
            _ => None,
        };
        let day = day_i32(day_of(conversion.converted_at));
        let entries = crate::ledger::entries_of(conversion);
        let click = conversion.click_id.map(|c| c.as_bytes().to_vec());
        let cap = per_click_cap.map(|n| i32::try_from(n).unwrap_or(i32::MAX));
        self.inner.attempt_again(|c, retry| {
            // A concurrent first writer of the same order id makes our insert a no-op:
            // then the transaction starts again and finds its row.
            loop {
                // The conversion, its binding, its click's count and the record it
                // replaces, in one transaction.
                let mut tx = c.transaction()?;
                let current = tx.query_opt(
                    "SELECT record FROM affiliate_conversions WHERE order_id = $1 FOR UPDATE",
                    &[&conversion.order_id],
                )?;
                let replaced = match current {
                    // Our own write, committed by an attempt whose answer was lost.
                    // (Only then: a concurrent writer of the same order may write the
                    // same text.)
                    Some(row) if retry && row.get::<_, &str>(0) == text => {
                        return last_replaced(&mut tx, &conversion.order_id, conversion);
                    }
                    Some(row) => {
                        let stored: &str = row.get(0);
                        let old = parse_conversion(stored)?;
                        if !old.replaceable_by(conversion) {
                            return Ok(Inserted::Existing(Box::new(old)));
                        }
                        tx.execute(
                            "INSERT INTO affiliate_replaced_conversions (order_id, record)
                             VALUES ($1, $2)",
                            &[&conversion.order_id, &stored],
                        )?;
                        ledger::remove_order(&mut tx, &conversion.order_id)?;
                        tx.execute(
                            "UPDATE affiliate_conversions SET day = $2, status = $3, record = $4
                             WHERE order_id = $1",
                            &[
                                &conversion.order_id,
                                &day,
                                &conversion.status.as_str(),
                                &text,
                            ],
                        )?;
                        Some(old)
                    }
                    None => {
                        if let (Some(cap), Some(click)) = (cap, &click) {
                            let made: i32 = tx
                                .query_one(
                                    "INSERT INTO affiliate_conversions_per_click (click_id, made)
                                     VALUES ($1, 1) ON CONFLICT (click_id) DO UPDATE
                                     SET made = affiliate_conversions_per_click.made + 1
                                     RETURNING made",
                                    &[click],
                                )?
                                .get(0);
                            if made > cap {
                                return Ok(Inserted::CapReached);
                            }
                        }
                        let inserted = tx.execute(
                            "INSERT INTO affiliate_conversions (order_id, day, status, record)
                             VALUES ($1, $2, $3, $4) ON CONFLICT (order_id) DO NOTHING",
                            &[
                                &conversion.order_id,
                                &day,
                                &conversion.status.as_str(),
                                &text,
                            ],
                        )?;
                        if inserted == 0 {
                            continue;
                        }
                        None
                    }
                };
                ledger::write(&mut tx, &entries)?;
                if let Some((customer, binding)) = &bind {
                    let current = tx
                        .query_opt(
                            "SELECT record FROM affiliate_customers WHERE customer_id = $1
                             FOR UPDATE",
                            &[customer],
                        )?
                        .map(|row| {
                            serde_json::from_str::<Binding>(row.get(0))
                                .map_err(|_| Failure::Corrupt("customer"))
                        })
                        .transpose()?;
                    if takes_binding(current.as_ref(), replaced.as_ref()) {
                        tx.execute(
                            "INSERT INTO affiliate_customers (customer_id, record) VALUES ($1, $2)
                             ON CONFLICT (customer_id) DO UPDATE SET record = EXCLUDED.record",
                            &[customer, binding],
                        )?;
                    }
                }
                let kind = if replaced.is_some() {
                    EventKind::ConversionUpdated
                } else {
                    EventKind::ConversionCreated
                };
                outbox::push(
                    &mut tx,
                    &Event::conversion(kind, conversion, conversion.converted_at),
                )?;
                tx.commit()?;
                return Ok(replaced.map_or(Inserted::New, |old| Inserted::Replaced(Box::new(old))));
            }
        })
    }

    pub(super) fn set_status_in_db(
        &self,
        order_id: &str,
        from: Status,
        to: Status,
        at: u64,
    ) -> Result<StatusChange> {
        self.inner.attempt_again(|c, retry| {
            let Some((_, mut conv)) = read_conversion(c, order_id)? else {
                return Ok(StatusChange::Missing);
            };
            if conv.status != from {
                return Ok(StatusChange::Unchanged(conv));
            }
            conv.status = to;
            let text = serde_json::to_string(&conv).map_err(|_| Failure::Corrupt("conversion"))?;
            // The status and the entries it moves, in one transaction.
            let mut tx = c.transaction()?;
            let changed = tx.execute(
                "UPDATE affiliate_conversions SET status = $3, record = $4
                 WHERE order_id = $1 AND status = $2",
                &[&order_id, &from.as_str(), &to.as_str(), &text],
            )?;
            if changed == 1 {
                let mut mine = ledger::read_order(&mut tx, order_id)?;
                let clawbacks = crate::ledger::apply_status(&mut mine, to, at);
                ledger::write(&mut tx, &mine)?;
                ledger::write(&mut tx, &clawbacks)?;
                outbox::push(
                    &mut tx,
                    &Event::conversion(EventKind::ConversionUpdated, &conv, at),
                )?;
                tx.commit()?;
                return Ok(StatusChange::Changed(conv));
            }
            drop(tx);
            match read_conversion(c, order_id)? {
                // Our own change, committed by an attempt whose answer was lost.
                Some((stored, current)) if retry && stored == text => {
                    Ok(StatusChange::Changed(current))
                }
                Some((_, current)) => Ok(StatusChange::Unchanged(current)),
                None => Ok(StatusChange::Missing),
            }
        })
    }
}
