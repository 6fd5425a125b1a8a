//! The ledger in PostgreSQL (`affiliate_ledger`, migration 5): one row per entry,
//! the entry as JSON with its key, beneficiary and currency as columns, and (migration
//! 6) its state and amount as columns generated from the JSON, which balances sum and
//! payout runs select on; written in the transactions of the conversion, of its status
//! change and of payouts. A database from before
//! the ledger gets its entries in the migration's transaction.

use r2d2_postgres::postgres::GenericClient;

use super::connect::{Attempt, Failure};

use std::collections::BTreeMap;

use crate::code::Code;
use crate::ledger::{Balance, Entry, EntryFilter, EntryId, EntryKind, EntryState};
use crate::money::Currency;

fn kind(k: EntryKind) -> &'static str {
    k.as_str()
}

/// Writes (or replaces) `entries`, in one statement.
pub(super) fn write(c: &mut impl GenericClient, entries: &[Entry]) -> Attempt<()> {
    if entries.is_empty() {
        return Ok(());
    }
    let mut order_ids = Vec::with_capacity(entries.len());
    let mut levels = Vec::with_capacity(entries.len());
    let mut kinds = Vec::with_capacity(entries.len());
    let mut refs = Vec::with_capacity(entries.len());
    let mut partners = Vec::with_capacity(entries.len());
    let mut currencies = Vec::with_capacity(entries.len());
    let mut records = Vec::with_capacity(entries.len());
    for e in entries {
        order_ids.push(e.id.order_id.as_str());
        levels.push(i16::from(e.id.level));
        kinds.push(kind(e.id.kind));
        refs.push(e.id.reference.as_str());
        partners.push(e.partner.as_str());
        currencies.push(e.currency.code());
        records.push(serde_json::to_string(e).map_err(|_| Failure::Corrupt("ledger"))?);
    }
    c.execute(
        "INSERT INTO affiliate_ledger (order_id, level, kind, partner, currency, record, ref)
         SELECT * FROM unnest($1::text[], $2::int2[], $3::text[], $4::text[], $5::text[],
                              $6::text[], $7::text[])
         ON CONFLICT (order_id, level, kind, ref) DO UPDATE SET record = EXCLUDED.record",
        &[
            &order_ids,
            &levels,
            &kinds,
            &partners,
            &currencies,
            &records,
            &refs,
        ],
    )?;
    Ok(())
}

/// The payable entries a payout run may take, locked for the transaction in key
/// order (a row another run took meanwhile is no longer payable when the lock is
/// granted, and is left out).
pub(super) fn payable(
    c: &mut impl GenericClient,
    currency: Option<&str>,
    partner: Option<&str>,
) -> Attempt<Vec<Entry>> {
    c.query(
        "SELECT record FROM affiliate_ledger
         WHERE state = 'payable' AND ($1::text IS NULL OR currency = $1)
           AND ($2::text IS NULL OR partner = $2)
         ORDER BY order_id, level, kind, ref FOR UPDATE",
        &[&currency, &partner],
    )?
    .iter()
    .map(|row| serde_json::from_str(row.get(0)).map_err(|_| Failure::Corrupt("ledger")))
    .collect()
}

/// Balances summed by the database (`GROUP BY` over the columns migration 6 made).
pub(super) fn balances(
    c: &mut impl GenericClient,
    filter: &EntryFilter,
) -> Attempt<BTreeMap<(Code, Currency), Balance>> {
    let partner = filter.partner.map(|p| p.to_string());
    let currency = filter.currency.map(|c| c.code().to_owned());
    let rows = c.query(
        "SELECT partner, currency, kind, state, sum(amount)::text FROM affiliate_ledger
         WHERE ($1::text IS NULL OR partner = $1) AND ($2::text IS NULL OR currency = $2)
         GROUP BY partner, currency, kind, state",
        &[&partner, &currency],
    )?;
    let mut out: BTreeMap<(Code, Currency), Balance> = BTreeMap::new();
    for row in rows {
        let bad = || Failure::Corrupt("ledger");
        let partner = Code::new(row.get::<_, &str>(0)).map_err(|_| bad())?;
        let currency = Currency::new(row.get::<_, &str>(1)).map_err(|_| bad())?;
        let text = row.get::<_, &str>(2);
        let kind = EntryKind::ALL
            .into_iter()
            .find(|k| k.as_str() == text)
            .ok_or_else(bad)?;
        let state: EntryState =
            serde_json::from_value(serde_json::Value::String(row.get::<_, String>(3)))
                .map_err(|_| bad())?;
        let sum: i128 = row.get::<_, &str>(4).parse().map_err(|_| bad())?;
        let signed = if kind.is_negative() { -sum } else { sum };
        out.entry((partner, currency))
            .or_default()
            .add(&Balance::of_parts(kind, state, signed), 1);
    }
    out.retain(|_, b| !b.is_zero());
    Ok(out)
}

/// The entry `id`, locked for the transaction.
pub(super) fn read_entry(c: &mut impl GenericClient, id: &EntryId) -> Attempt<Option<Entry>> {
    c.query_opt(
        "SELECT record FROM affiliate_ledger
         WHERE order_id = $1 AND level = $2 AND kind = $3 AND ref = $4 FOR UPDATE",
        &[
            &id.order_id,
            &i16::from(id.level),
            &kind(id.kind),
            &id.reference,
        ],
    )?
    .map(|row| serde_json::from_str(row.get(0)).map_err(|_| Failure::Corrupt("ledger")))
    .transpose()
}

/// The balance of `partner` in `currency` from its entries not yet paid or void, which
/// it locks (an advisory lock per partner and currency first, so two adjustments of
/// one balance run one after the other and the second sees the first).
pub(super) fn read_balance(
    c: &mut impl GenericClient,
    partner: Code,
    currency: Currency,
) -> Attempt<Balance> {
    let key = format!("balance:{partner}:{}", currency.code());
    c.execute(
        "SELECT pg_advisory_xact_lock(hashtextextended($1, 0))",
        &[&key],
    )?;
    let mut b = Balance::default();
    for row in c.query(
        "SELECT record FROM affiliate_ledger
         WHERE partner = $1 AND currency = $2 AND state IN ('pending', 'payable', 'in_payout')
         FOR UPDATE",
        &[&partner.as_str(), &currency.code()],
    )? {
        let e: Entry = serde_json::from_str(row.get(0)).map_err(|_| Failure::Corrupt("ledger"))?;
        b.add(&Balance::of_entry(&e), 1);
    }
    Ok(b)
}

/// The entries of an order, locked for the transaction.
pub(super) fn read_order(c: &mut impl GenericClient, order_id: &str) -> Attempt<Vec<Entry>> {
    c.query(
        "SELECT record FROM affiliate_ledger WHERE order_id = $1 FOR UPDATE",
        &[&order_id],
    )?
    .iter()
    .map(|row| serde_json::from_str(row.get(0)).map_err(|_| Failure::Corrupt("ledger")))
    .collect()
}

/// Removes an order's entries (its record is being replaced).
pub(super) fn remove_order(c: &mut impl GenericClient, order_id: &str) -> Attempt<()> {
    c.execute(
        "DELETE FROM affiliate_ledger WHERE order_id = $1",
        &[&order_id],
    )?;
    Ok(())
}

/// The entries the filter matches, by order id, level, kind and reference.
pub(super) fn entries(c: &mut impl GenericClient, filter: &EntryFilter) -> Attempt<Vec<Entry>> {
    let partner = filter.partner.map(|p| p.to_string());
    let currency = filter.currency.map(|c| c.code().to_owned());
    c.query(
        "SELECT record FROM affiliate_ledger
         WHERE ($1::text IS NULL OR partner = $1) AND ($2::text IS NULL OR currency = $2)
           AND ($3::text IS NULL OR order_id = $3)
         ORDER BY order_id, level, kind, ref",
        &[&partner, &currency, &filter.order_id],
    )?
    .iter()
    .map(|row| serde_json::from_str(row.get(0)).map_err(|_| Failure::Corrupt("ledger")))
    .collect()
}
