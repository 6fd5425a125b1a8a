//! Payouts in PostgreSQL (migration 6): `affiliate_payouts` (one row per payout, its
//! JSON with partner, currency, status and time as columns) and
//! `affiliate_payout_runs` (idempotency key → request fingerprint and payout ids).
//!
//! A run is one transaction: it inserts its key first (`ON CONFLICT DO NOTHING`, so a
//! second run with the key waits for the first to commit and then answers its
//! payouts), locks the payable entries in key order, plans over them as they are, and
//! writes the payouts, the entries they hold and the ids. Settling locks the payout,
//! then its orders' conversions, then their entries, all in key order, as a status
//! change does, so the two cannot deadlock.

use r2d2_postgres::postgres::GenericClient;

use super::PostgresStore;
use super::connect::{Attempt, Failure};
use super::{ledger, outbox};
use crate::attribution::{Conversion, Status};
use crate::error::{Error, Result};
use crate::ledger::{
    Payout, PayoutFilter, PayoutRequest, PayoutStatus, key_reused, make_payouts, newest_first,
    payout_orders, settle,
};
use crate::outbound::{Event, EventKind};
use crate::store::PayoutsMade;

fn parse(text: &str) -> Attempt<Payout> {
    serde_json::from_str(text).map_err(|_| Failure::Corrupt("payout"))
}

fn write(c: &mut impl GenericClient, payouts: &[Payout]) -> Attempt<()> {
    for p in payouts {
        let record = serde_json::to_string(p).map_err(|_| Failure::Corrupt("payout"))?;
        c.execute(
            "INSERT INTO affiliate_payouts (id, partner, currency, status, created, record)
             VALUES ($1, $2, $3, $4, $5, $6)
             ON CONFLICT (id) DO UPDATE SET status = EXCLUDED.status, record = EXCLUDED.record",
            &[
                &p.id,
                &p.partner.as_str(),
                &p.currency.code(),
                &p.status.as_str(),
                &i64::try_from(p.created).unwrap_or(i64::MAX),
                &record,
            ],
        )?;
    }
    Ok(())
}

fn read(c: &mut impl GenericClient, ids: &[String]) -> Attempt<Vec<Payout>> {
    let rows = c.query(
        "SELECT record FROM affiliate_payouts WHERE id = ANY($1)",
        &[&ids],
    )?;
    let mut out = rows
        .iter()
        .map(|r| parse(r.get(0)))
        .collect::<Attempt<Vec<_>>>()?;
    out.sort_by_key(|p| ids.iter().position(|id| *id == p.id));
    Ok(out)
}

impl PostgresStore {
    pub(super) fn create_payouts_in_db(
        &self,
        key: &str,
        req: &PayoutRequest,
        now: u64,
    ) -> Result<PayoutsMade> {
        let fingerprint = req.fingerprint();
        let currency = req.currency.map(|c| c.code().to_owned());
        let partner = req.partner.map(|p| p.to_string());
        let made = self.inner.attempt_again(|c, _retry| {
            let mut tx = c.transaction()?;
            let fresh = tx.execute(
                "INSERT INTO affiliate_payout_runs (key, fingerprint) VALUES ($1, $2)
                 ON CONFLICT (key) DO NOTHING",
                &[&key, &fingerprint],
            )?;
            if fresh == 0 {
                // Made before (or by a writer that committed while we waited).
                let row = tx.query_one(
                    "SELECT fingerprint, payouts FROM affiliate_payout_runs WHERE key = $1",
                    &[&key],
                )?;
                let stored: String = row.get(0);
                if stored != fingerprint {
                    return Ok(None);
                }
                let ids: Vec<String> = row.get(1);
                let payouts = read(&mut tx, &ids)?;
                return Ok(Some(PayoutsMade::Replayed(payouts)));
            }
            let candidates = ledger::payable(&mut tx, currency.as_deref(), partner.as_deref())?;
            let (made, held) = make_payouts(&candidates, req, key, now);
            ledger::write(&mut tx, &held)?;
            write(&mut tx, &made)?;
            for p in &made {
                outbox::push(&mut tx, &Event::payout(EventKind::PayoutCreated, p, now))?;
            }
            let ids: Vec<&str> = made.iter().map(|p| p.id.as_str()).collect();
            tx.execute(
                "UPDATE affiliate_payout_runs SET payouts = $2 WHERE key = $1",
                &[&key, &ids],
            )?;
            tx.commit()?;
            Ok(Some(PayoutsMade::Created(made)))
        })?;
        made.ok_or_else(|| key_reused(key))
    }

    pub(super) fn payouts_in_db(&self, filter: &PayoutFilter) -> Result<Vec<Payout>> {
        let partner = filter.partner.map(|p| p.to_string());
        let currency = filter.currency.map(|c| c.code().to_owned());
        let status = filter.status.map(PayoutStatus::as_str);
        let mut out = self.inner.attempt(|c| {
            c.query(
                "SELECT record FROM affiliate_payouts
                 WHERE ($1::text IS NULL OR partner = $1) AND ($2::text IS NULL OR currency = $2)
                   AND ($3::text IS NULL OR status = $3)",
                &[&partner, &currency, &status],
            )?
            .iter()
            .map(|r| parse(r.get(0)))
            .collect::<Attempt<Vec<_>>>()
        })?;
        newest_first(&mut out);
        Ok(out)
    }

    pub(super) fn payout_in_db(&self, id: &str) -> Result<Option<Payout>> {
        self.inner.attempt(|c| {
            c.query_opt("SELECT record FROM affiliate_payouts WHERE id = $1", &[&id])?
                .map(|r| parse(r.get(0)))
                .transpose()
        })
    }

    pub(super) fn set_payout_status_in_db(
        &self,
        id: &str,
        to: PayoutStatus,
        at: u64,
    ) -> Result<Option<Payout>> {
        let outcome = self.inner.attempt_again(|c, _retry| {
            let mut tx = c.transaction()?;
            let Some(row) = tx.query_opt(
                "SELECT record FROM affiliate_payouts WHERE id = $1 FOR UPDATE",
                &[&id],
            )?
            else {
                return Ok(None);
            };
            let mut payout = parse(row.get(0))?;
            if payout.status != PayoutStatus::Pending || to == PayoutStatus::Pending {
                // A retry whose first attempt committed finds its own change.
                return Ok(Some(Err(payout)));
            }
            let orders = payout_orders(&payout);
            let mut conversions: Vec<Conversion> = tx
                .query(
                    "SELECT record FROM affiliate_conversions WHERE order_id = ANY($1)
                     ORDER BY order_id FOR UPDATE",
                    &[&orders],
                )?
                .iter()
                .map(|r| super::rows::parse_conversion(r.get(0)))
                .collect::<Attempt<_>>()?;
            let mut mine = ledger::read_orders(&mut tx, &orders)?;
            let paid =
                settle(&mut payout, &mut mine, to, at).map_err(|_| Failure::Corrupt("payout"))?;
            ledger::write(&mut tx, &mine)?;
            for conv in conversions
                .iter_mut()
                .filter(|c| c.status == Status::Approved && paid.contains(&c.order_id))
            {
                conv.status = Status::Paid;
                let text =
                    serde_json::to_string(conv).map_err(|_| Failure::Corrupt("conversion"))?;
                tx.execute(
                    "UPDATE affiliate_conversions SET status = $2, record = $3 WHERE order_id = $1",
                    &[&conv.order_id, &Status::Paid.as_str(), &text],
                )?;
                outbox::push(
                    &mut tx,
                    &Event::conversion(EventKind::ConversionUpdated, conv, at),
                )?;
            }
            write(&mut tx, std::slice::from_ref(&payout))?;
            outbox::push(
                &mut tx,
                &Event::payout(EventKind::PayoutUpdated, &payout, at),
            )?;
            tx.commit()?;
            Ok(Some(Ok(payout)))
        })?;
        match outcome {
            None => Ok(None),
            Some(Ok(p)) => Ok(Some(p)),
            // Already at `to` with this very time: our own committed change.
            Some(Err(p)) if p.status == to && p.updated == at && to != PayoutStatus::Pending => {
                Ok(Some(p))
            }
            Some(Err(p)) => Err(Error::InvalidTransition {
                from: p.status.as_str(),
                to: to.as_str(),
            }),
        }
    }
}
