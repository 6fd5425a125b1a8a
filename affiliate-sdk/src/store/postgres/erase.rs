//! Erasing a customer and pruning old clicks in PostgreSQL.

use super::PostgresStore;
use super::connect::Failure;
use super::rows::to_i64;
use crate::error::Result;
use crate::outbound::Delivery;
use crate::store::erase::{Erased, erase_json};

/// Tables whose JSON text may carry a customer id: (table, column).
const JSON_TABLES: [(&str, &str); 3] = [
    ("affiliate_conversions", "record"),
    ("affiliate_replaced_conversions", "record"),
    ("affiliate_outbox", "event"),
];

/// A delivery's JSON with the customer id erased from its request (a webhook's body,
/// JSON in a string).
fn erase_delivery(text: &str, customer_id: &str) -> Option<String> {
    let mut d = Delivery::decode(text).ok()?;
    let body = erase_json(d.request.as_bytes(), customer_id)?;
    d.request = String::from_utf8(body).ok()?;
    d.encode().ok()
}

impl PostgresStore {
    pub(super) fn erase_in_db(&self, customer_id: &str) -> Result<Erased> {
        self.inner.attempt(|c| {
            let mut tx = c.transaction()?;
            let bindings = tx.execute(
                "DELETE FROM affiliate_customers WHERE customer_id = $1",
                &[&customer_id],
            )?;
            let mut changed = [0usize; 4];
            // The rows whose text holds the id at all (a superset), each rewritten
            // exactly, under a row lock until the commit.
            for (i, (table, column)) in JSON_TABLES.iter().enumerate() {
                let rows = tx.query(
                    &format!(
                        "SELECT ctid::text, {column} FROM {table}
                         WHERE strpos({column}, $1) > 0 FOR UPDATE"
                    ),
                    &[&customer_id],
                )?;
                for row in rows {
                    let (at, text): (String, String) = (row.get(0), row.get(1));
                    if let Some(new) = erase_json(text.as_bytes(), customer_id) {
                        let new = String::from_utf8(new).map_err(|_| Failure::Corrupt(table))?;
                        tx.execute(
                            &format!(
                                "UPDATE {table} SET {column} = $2 WHERE ctid = ($1::text)::tid"
                            ),
                            &[&at, &new],
                        )?;
                        changed[i] += 1;
                    }
                }
            }
            for row in tx.query(
                "SELECT id, record FROM affiliate_deliveries
                 WHERE strpos(record, $1) > 0 FOR UPDATE",
                &[&customer_id],
            )? {
                let (id, text): (String, String) = (row.get(0), row.get(1));
                if let Some(new) = erase_delivery(&text, customer_id) {
                    tx.execute(
                        "UPDATE affiliate_deliveries SET record = $2 WHERE id = $1",
                        &[&id, &new],
                    )?;
                    changed[3] += 1;
                }
            }
            tx.commit()?;
            Ok(Erased {
                bindings: usize::try_from(bindings).unwrap_or(usize::MAX),
                conversions: changed[0] + changed[1],
                events: changed[2] + changed[3],
                rewrite_pending: false,
            })
        })
    }

    pub(super) fn prune_clicks_in_db(&self, before: u64, max: usize) -> Result<usize> {
        // Click ids start with their millisecond (big-endian), tallies with their day:
        // old ones sort first.
        let ms = before.saturating_mul(1000).to_be_bytes();
        let bound: &[u8] = &ms[2..];
        let day = crate::store::day_of(before).to_be_bytes();
        let day: &[u8] = &day;
        let limit = to_i64(u64::try_from(max).unwrap_or(u64::MAX));
        self.inner.attempt(|c| {
            let mut tx = c.transaction()?;
            let n = tx.execute(
                "DELETE FROM affiliate_clicks WHERE click_id IN (
                   SELECT click_id FROM affiliate_clicks WHERE click_id < $1 LIMIT $2)",
                &[&bound, &limit],
            )?;
            tx.execute(
                "DELETE FROM affiliate_conversions_per_click WHERE click_id < $1",
                &[&bound],
            )?;
            tx.execute(
                "DELETE FROM affiliate_paid_tallies WHERE tally < $1",
                &[&day],
            )?;
            tx.commit()?;
            Ok(usize::try_from(n).unwrap_or(usize::MAX))
        })
    }
}
