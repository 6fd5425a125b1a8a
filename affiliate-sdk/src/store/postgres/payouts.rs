//! Payouts in PostgreSQL (migration 6): `affiliate_payouts` (one row per payout, its
//! JSON with partner, currency, status and time as columns) and
//! `affiliate_payout_runs` (idempotency key → request fingerprint and payout ids).
//!
//! Runs and settlements are sequences of the core over the port (`tx.rs`): a run inserts
//! its key first (`ON CONFLICT DO NOTHING`, so a second run with the key waits for the
//! first to commit and then answers its payouts) and locks the payable entries in key
//! order; settling locks the payout, then each order's conversion and its entries in
//! order id order, as a status change does, so the two cannot deadlock.

use r2d2_postgres::postgres::GenericClient;

use super::PostgresStore;
use super::connect::{Attempt, Failure};
use crate::error::Result;
use crate::ledger::{Payout, PayoutFilter, PayoutStatus, newest_first};

fn parse(text: &str) -> Attempt<Payout> {
    serde_json::from_str(text).map_err(|_| Failure::Corrupt("payout"))
}

pub(super) fn write(c: &mut impl GenericClient, payouts: &[Payout]) -> Attempt<()> {
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

impl PostgresStore {
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
}
