//! The ledger in PostgreSQL (`affiliate_ledger`, migration 5): one row per entry,
//! the entry as JSON with its key, beneficiary and currency as columns; written in the
//! transactions of the conversion and of its status change. A database from before
//! the ledger gets its entries in the migration's transaction.

use r2d2_postgres::postgres::GenericClient;

use super::connect::{Attempt, Failure};
use crate::attribution::Conversion;
use crate::ledger::{Entry, EntryFilter, EntryKind, entries_of};

fn kind(k: EntryKind) -> &'static str {
    match k {
        EntryKind::Commission => "commission",
        EntryKind::Clawback => "clawback",
    }
}

/// Writes (or replaces) `entries`.
pub(super) fn write(c: &mut impl GenericClient, entries: &[Entry]) -> Attempt<()> {
    for e in entries {
        let record = serde_json::to_string(e).map_err(|_| Failure::Corrupt("ledger"))?;
        c.execute(
            "INSERT INTO affiliate_ledger (order_id, level, kind, partner, currency, record)
             VALUES ($1, $2, $3, $4, $5, $6)
             ON CONFLICT (order_id, level, kind) DO UPDATE SET record = EXCLUDED.record",
            &[
                &e.id.order_id,
                &i16::from(e.id.level),
                &kind(e.id.kind),
                &e.partner.as_str(),
                &e.currency.code(),
                &record,
            ],
        )?;
    }
    Ok(())
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

/// The entries the filter matches, by order id, level and kind.
pub(super) fn entries(c: &mut impl GenericClient, filter: &EntryFilter) -> Attempt<Vec<Entry>> {
    let partner = filter.partner.map(|p| p.to_string());
    let currency = filter.currency.map(|c| c.code().to_owned());
    c.query(
        "SELECT record FROM affiliate_ledger
         WHERE ($1::text IS NULL OR partner = $1) AND ($2::text IS NULL OR currency = $2)
           AND ($3::text IS NULL OR order_id = $3)
         ORDER BY order_id, level, kind",
        &[&partner, &currency, &filter.order_id],
    )?
    .iter()
    .map(|row| serde_json::from_str(row.get(0)).map_err(|_| Failure::Corrupt("ledger")))
    .collect()
}

/// Gives every stored conversion its entries (the migration that made the table).
pub(super) fn backfill(c: &mut impl GenericClient) -> Attempt<()> {
    let rows = c.query("SELECT record FROM affiliate_conversions", &[])?;
    for row in rows {
        let conv: Conversion =
            serde_json::from_str(row.get(0)).map_err(|_| Failure::Corrupt("conversion"))?;
        write(c, &entries_of(&conv))?;
    }
    Ok(())
}
