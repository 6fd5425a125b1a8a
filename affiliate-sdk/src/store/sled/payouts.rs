//! Payouts in sled: tree `payouts` (id → the payout as JSON) and tree `payout-runs`
//! (idempotency key → the request's fingerprint and the payout ids). A run reads the
//! payable entries first, then in one transaction reads each again, plans over them as
//! they are, and writes the payouts, the entries they hold and the key; settling a
//! payout moves it, its entries and the conversions that now read `paid` in one
//! transaction.

use serde::{Deserialize, Serialize};
use sled::Transactional as _;
use sled::transaction::ConflictableTransactionError;

use super::ledger::{self, LedgerTx};
use super::outbox;
use super::{SledStore, corrupt, store_err, tx_err};
use crate::attribution::{Conversion, Status};
use crate::error::{Error, Result};
use crate::ledger::{
    EntryFilter, EntryState, Payout, PayoutFilter, PayoutRequest, PayoutStatus, key_reused,
    make_payouts, newest_first, payout_orders, settle,
};
use crate::outbound::{Event, EventKind};
use crate::store::PayoutsMade;

/// What a key records.
#[derive(Serialize, Deserialize)]
struct Run {
    fingerprint: String,
    payouts: Vec<String>,
}

fn to_json<T: Serialize>(v: &T) -> Result<Vec<u8>, ConflictableTransactionError<&'static str>> {
    serde_json::to_vec(v).map_err(|_| ConflictableTransactionError::Abort("payout"))
}

fn from_json<'a, T: Deserialize<'a>>(
    v: &'a [u8],
    what: &'static str,
) -> Result<T, ConflictableTransactionError<&'static str>> {
    serde_json::from_slice(v).map_err(|_| ConflictableTransactionError::Abort(what))
}

impl SledStore {
    pub(super) fn create_payouts_in_trees(
        &self,
        key: &str,
        req: &PayoutRequest,
        now: u64,
    ) -> Result<PayoutsMade> {
        if let Some(run) = self.payout_runs.get(key).map_err(store_err)? {
            return self.replay(key, req, &run);
        }
        let filter = EntryFilter {
            partner: req.partner,
            currency: req.currency,
            order_id: None,
        };
        let candidates: Vec<_> = self
            .ledger_entries_in_tree(&filter)?
            .into_iter()
            .filter(|e| e.state == EntryState::Payable)
            .map(|e| e.id)
            .collect();
        let made = (
            &self.ledger,
            &self.ledger_sums,
            &self.payouts,
            &self.payout_runs,
            &self.outbox,
        )
            .transaction(|(entries, sums, payouts, runs, events)| {
                if runs.get(key)?.is_some() {
                    return Ok(None);
                }
                let mut current = Vec::with_capacity(candidates.len());
                for id in &candidates {
                    current.extend(ledger::read_entry(entries, id)?);
                }
                let (made, held) = make_payouts(&current, req, key, now);
                ledger::write(&LedgerTx { entries, sums }, &held)?;
                for p in &made {
                    payouts.insert(p.id.as_bytes(), to_json(p)?)?;
                    outbox::push(events, &Event::payout(EventKind::PayoutCreated, p, now))?;
                }
                let run = Run {
                    fingerprint: req.fingerprint(),
                    payouts: made.iter().map(|p| p.id.clone()).collect(),
                };
                runs.insert(key.as_bytes(), to_json(&run)?)?;
                Ok(Some(made))
            })
            .map_err(tx_err)?;
        match made {
            Some(made) => {
                self.sync()?;
                Ok(PayoutsMade::Created(made))
            }
            // Another writer made this key's run meanwhile.
            None => match self.payout_runs.get(key).map_err(store_err)? {
                Some(run) => self.replay(key, req, &run),
                None => Err(corrupt("payout run")),
            },
        }
    }

    fn replay(&self, key: &str, req: &PayoutRequest, run: &[u8]) -> Result<PayoutsMade> {
        let run: Run = serde_json::from_slice(run).map_err(|_| corrupt("payout run"))?;
        if run.fingerprint != req.fingerprint() {
            return Err(key_reused(key));
        }
        // The run may come from a writer that has not flushed yet.
        self.sync()?;
        let mut out = Vec::with_capacity(run.payouts.len());
        for id in &run.payouts {
            out.push(
                self.payout_in_tree(id)?
                    .ok_or_else(|| corrupt("payout run"))?,
            );
        }
        Ok(PayoutsMade::Replayed(out))
    }

    pub(super) fn payout_in_tree(&self, id: &str) -> Result<Option<Payout>> {
        match self.payouts.get(id).map_err(store_err)? {
            None => Ok(None),
            Some(v) => serde_json::from_slice(&v)
                .map(Some)
                .map_err(|_| corrupt("payout")),
        }
    }

    pub(super) fn payouts_in_tree(&self, filter: &PayoutFilter) -> Result<Vec<Payout>> {
        let mut out = Vec::new();
        for kv in &self.payouts {
            let (_, v) = kv.map_err(store_err)?;
            let p: Payout = serde_json::from_slice(&v).map_err(|_| corrupt("payout"))?;
            if filter.matches(&p) {
                out.push(p);
            }
        }
        newest_first(&mut out);
        Ok(out)
    }

    pub(super) fn set_payout_status_in_trees(
        &self,
        id: &str,
        to: PayoutStatus,
        at: u64,
    ) -> Result<Option<Payout>> {
        enum Outcome {
            Missing,
            Refused(PayoutStatus),
            Settled(Payout),
        }
        let outcome = (
            &self.payouts,
            &self.conversions,
            &self.ledger,
            &self.ledger_sums,
            &self.outbox,
        )
            .transaction(|(payouts, conversions, entries, sums, events)| {
                let Some(v) = payouts.get(id)? else {
                    return Ok(Outcome::Missing);
                };
                let mut payout: Payout = from_json(&v, "payout")?;
                if payout.status != PayoutStatus::Pending || to == PayoutStatus::Pending {
                    return Ok(Outcome::Refused(payout.status));
                }
                let mut orders = Vec::new();
                let mut mine = Vec::new();
                for o in payout_orders(&payout) {
                    if let Some(v) = conversions.get(o.as_bytes())? {
                        let c: Conversion = from_json(&v, "conversion")?;
                        mine.extend(ledger::read_order(entries, &c)?);
                        orders.push(c);
                    }
                }
                let paid = settle(&mut payout, &mut mine, to, at)
                    .map_err(|_| ConflictableTransactionError::Abort("payout"))?;
                ledger::write(&LedgerTx { entries, sums }, &mine)?;
                for c in &mut orders {
                    if c.status == Status::Approved && paid.contains(&c.order_id) {
                        c.status = Status::Paid;
                        conversions.insert(c.order_id.as_bytes(), to_json(c)?)?;
                        outbox::push(
                            events,
                            &Event::conversion(EventKind::ConversionUpdated, c, at),
                        )?;
                    }
                }
                payouts.insert(id.as_bytes(), to_json(&payout)?)?;
                outbox::push(
                    events,
                    &Event::payout(EventKind::PayoutUpdated, &payout, at),
                )?;
                Ok(Outcome::Settled(payout))
            })
            .map_err(tx_err)?;
        match outcome {
            Outcome::Missing => Ok(None),
            Outcome::Refused(from) => Err(Error::InvalidTransition {
                from: from.as_str(),
                to: to.as_str(),
            }),
            Outcome::Settled(p) => {
                self.sync()?;
                Ok(Some(p))
            }
        }
    }
}
