//! Payouts in PostgreSQL (migration 6): `affiliate_payouts` (one row per payout, its
//! JSON with partner, currency, status and time as columns) and
//! `affiliate_payout_runs` (idempotency key → request fingerprint and payout ids).
//!
//! Runs and settlements are sequences of the core over the port (`tx.rs`): a run inserts
//! its key first (`ON CONFLICT DO NOTHING`, so a second run with the key waits for the
//! first to commit and then answers its payouts) and locks the payable entries in key
//! order; settling locks the payout, then each order's conversion and its entries in
//! order id order, as a status change does, so the two cannot deadlock.

use super::ledger;
use crate::code::Code;
use crate::store::LedgerReads;
use r2d2_postgres::postgres::GenericClient;
use std::collections::BTreeMap;

use super::PostgresStore;
use super::connect::{Attempt, Failure};
use crate::error::Result;
use crate::ledger::{Payout, PayoutStatus, newest_first};

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

impl PostgresStore {}

impl LedgerReads for PostgresStore {
    fn ledger_entries(
        &self,
        filter: &crate::ledger::EntryFilter,
    ) -> Result<Vec<crate::ledger::Entry>> {
        self.inner.attempt(|c| ledger::entries(c, filter))
    }

    fn balances(
        &self,
        filter: &crate::ledger::EntryFilter,
    ) -> Result<BTreeMap<(Code, crate::money::Currency), crate::ledger::Balance>> {
        self.inner.attempt(|c| ledger::balances(c, filter))
    }

    fn payouts(&self, filter: &crate::ledger::PayoutFilter) -> Result<Vec<crate::ledger::Payout>> {
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

    fn payout(&self, id: &str) -> Result<Option<crate::ledger::Payout>> {
        self.inner.attempt(|c| {
            c.query_opt("SELECT record FROM affiliate_payouts WHERE id = $1", &[&id])?
                .map(|r| parse(r.get(0)))
                .transpose()
        })
    }
}
