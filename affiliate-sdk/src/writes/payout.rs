//! Making a payout run and settling a payout, over the transactional port.

use super::outbox::push;
use crate::error::{Error, Result};
use crate::ledger::{
    EntryKind, Payout, PayoutRequest, PayoutStatus, key_reused, make_payouts, payout_orders,
    settle, traffic_ids,
};
use crate::outbound::{Event, EventKind};
use crate::records::Status;
use crate::store::{ConversionRow, PayoutRun, PayoutsMade, Store, run};

/// See [`StoreWrites::create_payouts`](super::StoreWrites::create_payouts).
pub(super) fn make_run<S: Store + ?Sized>(
    store: &S,
    key: &str,
    req: &PayoutRequest,
    now: u64,
) -> Result<PayoutsMade> {
    let fingerprint = req.fingerprint();
    run(store, |tx| {
        if let Some(made) = tx.claim_payout_run(key, &fingerprint)? {
            if made.fingerprint != fingerprint {
                return Err(key_reused(key));
            }
            let mut payouts = Vec::with_capacity(made.payouts.len());
            for id in &made.payouts {
                payouts.push(
                    tx.payout(id)?
                        .ok_or_else(|| Error::Store("corrupt payout run record".into()))?,
                );
            }
            return Ok(PayoutsMade::Replayed(payouts));
        }
        let candidates = tx.payable_entries(req.partner, req.currency)?;
        let (made, held) = make_payouts(&candidates, req, key, now);
        tx.put_entries(&held)?;
        for p in &made {
            tx.put_payout(p)?;
            push(tx, &Event::payout(EventKind::PayoutCreated, p, now))?;
        }
        tx.finish_payout_run(
            key,
            &PayoutRun {
                fingerprint: fingerprint.clone(),
                payouts: made.iter().map(|p| p.id.clone()).collect(),
            },
        )?;
        Ok(PayoutsMade::Created(made))
    })
}

/// See [`StoreWrites::set_payout_status`](super::StoreWrites::set_payout_status).
pub(super) fn settle_payout<S: Store + ?Sized>(
    store: &S,
    id: &str,
    to: PayoutStatus,
    at: u64,
) -> Result<Option<Payout>> {
    run(store, |tx| {
        let Some(mut payout) = tx.payout(id)? else {
            return Ok(None);
        };
        if payout.status != PayoutStatus::Pending || to == PayoutStatus::Pending {
            // Already at `to` with this very time after a lost answer: our own change.
            if tx.retrying() && payout.status == to && payout.updated == at {
                return Ok(Some(payout));
            }
            return Err(Error::InvalidTransition {
                from: payout.status.as_str(),
                to: to.as_str(),
            });
        }
        // The payout, then each order's conversion and entries, in order id order (a
        // status change locks a conversion, then its entries: the two cannot deadlock).
        let mut orders = Vec::new();
        let mut mine = Vec::new();
        for o in payout_orders(&payout) {
            if let Some(c) = tx.conversion(&o)? {
                mine.extend(tx.order_entries(&c)?);
                orders.push(c);
            }
        }
        // Adjustments belong to no order: read by id. A day's traffic is read whole
        // (its earnings and the clawbacks of a rejection), as an order's entries are,
        // so that a failed payout voids what nets to zero there too.
        let mut days: Vec<&str> = Vec::new();
        for id in payout.entries.iter().filter(|id| !id.of_order()) {
            if id.kind == EntryKind::Traffic {
                days.push(&id.reference);
            } else {
                mine.extend(tx.entry(id)?);
            }
        }
        days.sort_unstable();
        days.dedup();
        for day in days {
            for id in traffic_ids(day) {
                mine.extend(tx.entry(&id)?);
            }
        }
        let paid = settle(&mut payout, &mut mine, to, at)?;
        tx.put_entries(&mine)?;
        // The paid-payout rule: an approved conversion whose entries are now all paid
        // reads `paid`.
        for c in orders
            .iter_mut()
            .filter(|c| c.status == Status::Approved && paid.contains(&c.order_id))
        {
            let old = c.clone();
            c.status = Status::Paid;
            let text = serde_json::to_string(&*c).map_err(|e| Error::Store(e.to_string()))?;
            tx.update_conversion(
                &old,
                ConversionRow {
                    record: c,
                    json: &text,
                },
            )?;
            push(tx, &Event::conversion(EventKind::ConversionUpdated, c, at))?;
        }
        tx.put_payout(&payout)?;
        push(tx, &Event::payout(EventKind::PayoutUpdated, &payout, at))?;
        Ok(Some(payout))
    })
}
