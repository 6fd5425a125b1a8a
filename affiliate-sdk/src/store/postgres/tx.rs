//! The transactional port over a PostgreSQL transaction ([`PgTx`]). Records read for a
//! change are locked (`FOR UPDATE`); the transaction commits before
//! [`Store::transact`](crate::store::Store::transact) returns (`synchronous_commit` is
//! on by default). A failure the database calls passing (a lost connection, a
//! serialization failure, a deadlock) runs the whole closure again in a new transaction,
//! telling it [`Tx::retrying`] once an attempt had reached the database.

use r2d2_postgres::postgres::Transaction;

use super::connect::{Attempt, Failure};
use super::rows::parse_conversion;
use super::rows::{day_i32, to_i64};
use super::{PostgresStore, ledger, payouts};
use crate::click_id::ClickId;
use crate::code::Code;
use crate::error::{Error, Result};
use crate::ledger::{Balance, Entry, EntryId, Payout};
use crate::money::Currency;
use crate::port::{ConversionRow, EventRow, PayoutRun, Tx, TxFn};
use crate::records::Conversion;
use crate::store::{Bindings, day_of};

pub(super) struct PgTx<'a, 'c> {
    tx: &'a mut Transaction<'c>,
    retrying: bool,
    /// The database's own failure, kept for the attempt loop.
    failure: Option<Failure>,
    /// A concurrent writer made the order id this transaction inserts: run it again.
    restart: bool,
}

fn stopped() -> Error {
    Error::Store("the transaction did not go through".into())
}

impl PgTx<'_, '_> {
    fn ok<T>(&mut self, r: Attempt<T>) -> Result<T> {
        r.map_err(|e| {
            self.failure = Some(e);
            stopped()
        })
    }

    fn execute(
        &mut self,
        sql: &str,
        params: &[&(dyn r2d2_postgres::postgres::types::ToSql + Sync)],
    ) -> Result<u64> {
        let r = self.tx.execute(sql, params).map_err(Failure::from);
        self.ok(r)
    }

    fn query_opt(
        &mut self,
        sql: &str,
        params: &[&(dyn r2d2_postgres::postgres::types::ToSql + Sync)],
    ) -> Result<Option<r2d2_postgres::postgres::Row>> {
        let r = self.tx.query_opt(sql, params).map_err(Failure::from);
        self.ok(r)
    }

    /// Runs `sql` (an insert or an update of a conversion row) with the row's columns
    /// as `$1`..`$6`: order id, day, status, record, campaign, time.
    fn write_conversion(&mut self, sql: &str, row: ConversionRow<'_>) -> Result<u64> {
        let c = row.record;
        self.execute(
            sql,
            &[
                &c.order_id,
                &day_i32(day_of(c.converted_at)),
                &c.status.as_str(),
                &row.json,
                &c.link.campaign.as_str(),
                &to_i64(c.converted_at),
            ],
        )
    }

    fn parse<T: serde::de::DeserializeOwned>(
        &mut self,
        text: &str,
        what: &'static str,
    ) -> Result<T> {
        let r = serde_json::from_str(text).map_err(|_| Failure::Corrupt(what));
        self.ok(r)
    }
}

impl Tx for PgTx<'_, '_> {
    fn retrying(&self) -> bool {
        self.retrying
    }

    fn conversion(&mut self, order_id: &str) -> Result<Option<Conversion>> {
        let row = self.query_opt(
            "SELECT record FROM affiliate_conversions WHERE order_id = $1 FOR UPDATE",
            &[&order_id],
        )?;
        let r = row.map(|r| parse_conversion(r.get(0))).transpose();
        self.ok(r)
    }

    fn insert_conversion(&mut self, row: ConversionRow<'_>) -> Result<()> {
        let inserted = self.write_conversion(
            "INSERT INTO affiliate_conversions
                 (order_id, day, status, record, campaign, converted_at)
             VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (order_id) DO NOTHING",
            row,
        )?;
        if inserted == 0 {
            // A concurrent first writer of the same order id: the transaction starts
            // again and finds its row.
            self.restart = true;
            return Err(stopped());
        }
        Ok(())
    }

    fn update_conversion(&mut self, _old: &Conversion, row: ConversionRow<'_>) -> Result<()> {
        self.write_conversion(
            "UPDATE affiliate_conversions
             SET day = $2, status = $3, record = $4, campaign = $5, converted_at = $6
             WHERE order_id = $1",
            row,
        )?;
        Ok(())
    }

    fn keep_replaced(&mut self, old: &Conversion) -> Result<()> {
        let text = serde_json::to_string(old).map_err(|e| Error::Store(e.to_string()))?;
        self.execute(
            "INSERT INTO affiliate_replaced_conversions (order_id, record) VALUES ($1, $2)",
            &[&old.order_id, &text],
        )?;
        Ok(())
    }

    fn last_replaced(&mut self, order_id: &str) -> Result<Option<Conversion>> {
        let row = self.query_opt(
            "SELECT record FROM affiliate_replaced_conversions WHERE order_id = $1
             ORDER BY seq DESC LIMIT 1",
            &[&order_id],
        )?;
        let r = row.map(|r| parse_conversion(r.get(0))).transpose();
        self.ok(r)
    }

    fn count_click_conversion(&mut self, click: ClickId, cap: u32) -> Result<bool> {
        let cap = i32::try_from(cap).unwrap_or(i32::MAX);
        let click = click.as_bytes().to_vec();
        // Counted only below the cap: at the cap the row stays as it is and no row is
        // returned.
        let counted = self.query_opt(
            "INSERT INTO affiliate_conversions_per_click (click_id, made) VALUES ($1, 1)
             ON CONFLICT (click_id) DO UPDATE SET made = affiliate_conversions_per_click.made + 1
             WHERE affiliate_conversions_per_click.made < $2
             RETURNING made",
            &[&click, &cap],
        )?;
        Ok(counted.is_some())
    }

    fn customer(&mut self, customer_id: &str) -> Result<Bindings> {
        let row = self.query_opt(
            "SELECT record FROM affiliate_customers WHERE customer_id = $1 FOR UPDATE",
            &[&customer_id],
        )?;
        match row {
            Some(r) => self.parse(r.get(0), "customer"),
            None => Ok(Bindings::default()),
        }
    }

    fn put_customer(&mut self, customer_id: &str, bindings: &Bindings) -> Result<()> {
        let text = serde_json::to_string(bindings).map_err(|e| Error::Store(e.to_string()))?;
        self.execute(
            "INSERT INTO affiliate_customers (customer_id, record) VALUES ($1, $2)
             ON CONFLICT (customer_id) DO UPDATE SET record = EXCLUDED.record",
            &[&customer_id, &text],
        )?;
        Ok(())
    }

    fn order_entries(&mut self, conversion: &Conversion) -> Result<Vec<Entry>> {
        let r = ledger::read_order(self.tx, &conversion.order_id);
        self.ok(r)
    }

    fn remove_order_entries(&mut self, conversion: &Conversion) -> Result<()> {
        let r = ledger::remove_order(self.tx, &conversion.order_id);
        self.ok(r)
    }

    fn put_entries(&mut self, entries: &[Entry]) -> Result<()> {
        let r = ledger::write(self.tx, entries);
        self.ok(r)
    }

    fn entry(&mut self, id: &EntryId) -> Result<Option<Entry>> {
        let r = ledger::read_entry(self.tx, id);
        self.ok(r)
    }

    fn balance(&mut self, partner: Code, currency: Currency) -> Result<Balance> {
        let r = ledger::read_balance(self.tx, partner, currency);
        self.ok(r)
    }

    fn payable_entries(
        &mut self,
        partner: Option<Code>,
        currency: Option<Currency>,
    ) -> Result<Vec<Entry>> {
        let partner = partner.map(|p| p.to_string());
        let currency = currency.map(|c| c.code().to_owned());
        let r = ledger::payable(self.tx, currency.as_deref(), partner.as_deref());
        self.ok(r)
    }

    fn claim_payout_run(&mut self, key: &str, fingerprint: &str) -> Result<Option<PayoutRun>> {
        // The key first: a second run with it waits here for the first to commit.
        let fresh = self.execute(
            "INSERT INTO affiliate_payout_runs (key, fingerprint) VALUES ($1, $2)
             ON CONFLICT (key) DO NOTHING",
            &[&key, &fingerprint],
        )?;
        if fresh == 1 {
            return Ok(None);
        }
        let row = self.query_opt(
            "SELECT fingerprint, payouts FROM affiliate_payout_runs WHERE key = $1",
            &[&key],
        )?;
        let Some(row) = row else {
            return self.ok(Err(Failure::Corrupt("payout run")));
        };
        Ok(Some(PayoutRun {
            fingerprint: row.get(0),
            payouts: row.get::<_, Option<Vec<String>>>(1).unwrap_or_default(),
        }))
    }

    fn finish_payout_run(&mut self, key: &str, run: &PayoutRun) -> Result<()> {
        self.execute(
            "UPDATE affiliate_payout_runs SET payouts = $2 WHERE key = $1",
            &[&key, &run.payouts],
        )?;
        Ok(())
    }

    fn payout(&mut self, id: &str) -> Result<Option<Payout>> {
        let row = self.query_opt(
            "SELECT record FROM affiliate_payouts WHERE id = $1 FOR UPDATE",
            &[&id],
        )?;
        match row {
            Some(r) => self.parse(r.get(0), "payout").map(Some),
            None => Ok(None),
        }
    }

    fn put_payout(&mut self, payout: &Payout) -> Result<()> {
        let r = payouts::write(self.tx, std::slice::from_ref(payout));
        self.ok(r)
    }

    fn push_event(&mut self, event: EventRow<'_>) -> Result<()> {
        self.execute(
            "INSERT INTO affiliate_outbox (event) VALUES ($1)",
            &[&event.encoded],
        )?;
        Ok(())
    }
}

/// Gives every stored conversion its ledger entries, in the transaction of the
/// migration that made the ledger table.
pub(super) fn backfill(tx: &mut Transaction<'_>) -> Attempt<()> {
    let rows = tx.query("SELECT record FROM affiliate_conversions", &[])?;
    let mut port = PgTx {
        tx,
        retrying: false,
        failure: None,
        restart: false,
    };
    for row in rows {
        let c: Conversion =
            serde_json::from_str(row.get(0)).map_err(|_| Failure::Corrupt("conversion"))?;
        if crate::port::backfill::give_entries(&mut port, &c).is_err() {
            return Err(port.failure.take().unwrap_or(Failure::Corrupt("ledger")));
        }
    }
    Ok(())
}

impl PostgresStore {
    pub(super) fn transact_in_db(&self, f: &mut TxFn<'_>) -> Result<()> {
        self.inner.attempt_again(|c, retrying| {
            loop {
                let mut tx = c.transaction()?;
                let mut port = PgTx {
                    tx: &mut tx,
                    retrying,
                    failure: None,
                    restart: false,
                };
                let done = f(&mut port);
                let (failure, restart) = (port.failure.take(), port.restart);
                if restart {
                    continue; // rolled back as `tx` drops
                }
                if let Some(failure) = failure {
                    return Err(failure);
                }
                return match done {
                    Ok(()) => {
                        tx.commit()?;
                        Ok(Ok(()))
                    }
                    // The sequence's own refusal: nothing is kept.
                    Err(e) => Ok(Err(e)),
                };
            }
        })?
    }
}
