//! The outbox in PostgreSQL: table `affiliate_outbox` (a sequence number, the event's
//! JSON), written by the transactions that cause events ([`push`]), and table
//! `affiliate_deliveries` (the delivery's JSON with its target, creation time and due
//! time, `NULL` once delivered or failed, indexed).
//!
//! Several servers fan out at once safely: each deletes the events it planned, and only
//! the deletions that found their row write deliveries, in the same transaction. A
//! swap is an `UPDATE … WHERE record = expected`, so of two servers leasing one
//! delivery, one wins.

use crate::store::Outbox;
use r2d2_postgres::postgres::GenericClient;

use super::PostgresStore;
use super::connect::{Attempt, Failure};
use super::rows::{to_i64, to_u64};
use crate::error::Result;
use crate::outbound::{Delivery, Event};

/// Adds `event` to the outbox, inside the caller's transaction.
pub(super) fn push(c: &mut impl GenericClient, event: &Event) -> Attempt<()> {
    let text = event.encode().map_err(|_| Failure::Corrupt("event"))?;
    c.execute("INSERT INTO affiliate_outbox (event) VALUES ($1)", &[&text])?;
    Ok(())
}

fn parse(text: &str) -> Attempt<Delivery> {
    Delivery::decode(text).map_err(|_| Failure::Corrupt("delivery"))
}

fn encode(d: &Delivery) -> Attempt<String> {
    d.encode().map_err(|_| Failure::Corrupt("delivery"))
}

impl PostgresStore {
    pub(super) fn prune_in_db(&self, before: u64, max: usize) -> Result<usize> {
        let limit = i64::try_from(max).unwrap_or(i64::MAX);
        self.inner.attempt(|c| {
            let n = c.execute(
                "DELETE FROM affiliate_deliveries WHERE id IN (
                   SELECT id FROM affiliate_deliveries
                   WHERE due_at IS NULL AND created < $1 LIMIT $2)",
                &[&to_i64(before), &limit],
            )?;
            Ok(usize::try_from(n).unwrap_or(usize::MAX))
        })
    }
}

impl Outbox for PostgresStore {
    fn outbox(&self, max: usize) -> Result<Vec<(u64, crate::outbound::Event)>> {
        let limit = i64::try_from(max).unwrap_or(i64::MAX);
        self.inner.attempt(|c| {
            c.query(
                "SELECT seq, event FROM affiliate_outbox ORDER BY seq LIMIT $1",
                &[&limit],
            )?
            .iter()
            .map(|r| {
                let event = Event::decode(r.get(1)).map_err(|_| Failure::Corrupt("event"))?;
                Ok((to_u64(r.get(0)), event))
            })
            .collect()
        })
    }

    fn outbox_len(&self) -> Result<u64> {
        self.inner.attempt(|c| {
            let n: i64 = c
                .query_one("SELECT count(*) FROM affiliate_outbox", &[])?
                .get(0);
            Ok(to_u64(n))
        })
    }

    fn fan_out(&self, planned: &[(u64, Vec<crate::outbound::Delivery>)]) -> Result<usize> {
        let seqs: Vec<i64> = planned.iter().map(|(s, _)| to_i64(*s)).collect();
        self.inner.attempt(|c| {
            let mut tx = c.transaction()?;
            let taken: Vec<i64> = tx
                .query(
                    "DELETE FROM affiliate_outbox WHERE seq = ANY($1) RETURNING seq",
                    &[&seqs],
                )?
                .iter()
                .map(|r| r.get(0))
                .collect();
            for (seq, ds) in planned {
                if !taken.contains(&to_i64(*seq)) {
                    continue;
                }
                for d in ds {
                    tx.execute(
                        "INSERT INTO affiliate_deliveries (id, target, created, due_at, record, subject)
                         VALUES ($1, $2, $3, $4, $5, $6)",
                        &[
                            &d.id,
                            &d.target.key(),
                            &to_i64(d.created),
                            &d.due_at().map(to_i64),
                            &encode(d)?,
                            &d.subject,
                        ],
                    )?;
                }
            }
            tx.commit()?;
            Ok(taken.len())
        })
    }

    fn due_deliveries(&self, now: u64, max: usize) -> Result<Vec<crate::outbound::Delivery>> {
        let limit = i64::try_from(max).unwrap_or(i64::MAX);
        self.inner.attempt(|c| {
            c.query(
                "SELECT record FROM affiliate_deliveries WHERE due_at <= $1
                 ORDER BY due_at, id LIMIT $2",
                &[&to_i64(now), &limit],
            )?
            .iter()
            .map(|r| parse(r.get(0)))
            .collect()
        })
    }

    fn pending_about(&self, subject: &str) -> Result<Vec<crate::outbound::Delivery>> {
        self.inner.attempt(|c| {
            c.query(
                "SELECT record FROM affiliate_deliveries
                 WHERE subject = $1 AND due_at IS NOT NULL",
                &[&subject],
            )?
            .iter()
            .map(|r| parse(r.get(0)))
            .collect()
        })
    }

    fn swap_delivery(
        &self,
        expected: &crate::outbound::Delivery,
        new: &crate::outbound::Delivery,
    ) -> Result<bool> {
        if expected.id != new.id {
            return Ok(false);
        }
        self.inner.attempt_again(|c, retry| {
            let (old, text) = (encode(expected)?, encode(new)?);
            let n = c.execute(
                "UPDATE affiliate_deliveries SET record = $3, due_at = $4
                 WHERE id = $1 AND record = $2",
                &[&new.id, &old, &text, &new.due_at().map(to_i64)],
            )?;
            if n == 1 {
                return Ok(true);
            }
            // Our own change, committed by an attempt whose answer was lost.
            Ok(retry
                && c.query_opt(
                    "SELECT 1 FROM affiliate_deliveries WHERE id = $1 AND record = $2",
                    &[&new.id, &text],
                )?
                .is_some())
        })
    }

    fn swap_deliveries(
        &self,
        swaps: &[(crate::outbound::Delivery, crate::outbound::Delivery)],
    ) -> Result<Vec<bool>> {
        let encoded: Vec<Option<(String, String, Option<i64>)>> = swaps
            .iter()
            .map(|(e, n)| {
                (e.id == n.id)
                    .then(|| Ok((encode(e)?, encode(n)?, n.due_at().map(to_i64))))
                    .transpose()
            })
            .collect::<Attempt<_>>()
            .map_err(|_| crate::error::Error::Store("corrupt delivery".into()))?;
        self.inner.attempt_again(|c, retry| {
            let mut tx = c.transaction()?;
            let mut done = Vec::with_capacity(swaps.len());
            for ((_, new), enc) in swaps.iter().zip(&encoded) {
                let Some((old, text, due)) = enc else {
                    done.push(false);
                    continue;
                };
                let n = tx.execute(
                    "UPDATE affiliate_deliveries SET record = $3, due_at = $4
                     WHERE id = $1 AND record = $2",
                    &[&new.id, old, text, due],
                )?;
                // A retry after a lost answer finds its own change.
                let ours = n == 0
                    && retry
                    && tx
                        .query_opt(
                            "SELECT 1 FROM affiliate_deliveries WHERE id = $1 AND record = $2",
                            &[&new.id, text],
                        )?
                        .is_some();
                done.push(n == 1 || ours);
            }
            tx.commit()?;
            Ok(done)
        })
    }

    fn delivery(&self, id: &str) -> Result<Option<crate::outbound::Delivery>> {
        self.inner.attempt(|c| {
            c.query_opt(
                "SELECT record FROM affiliate_deliveries WHERE id = $1",
                &[&id],
            )?
            .map(|r| parse(r.get(0)))
            .transpose()
        })
    }

    fn deliveries(
        &self,
        filter: &crate::outbound::DeliveryFilter,
    ) -> Result<Vec<crate::outbound::Delivery>> {
        let (created, id) = filter
            .before
            .clone()
            .map_or((i64::MAX, String::new()), |(c, id)| (to_i64(c), id));
        let limit = i64::try_from(filter.limit).unwrap_or(i64::MAX);
        let unbounded = filter.before.is_none();
        self.inner.attempt(|c| {
            c.query(
                "SELECT record FROM affiliate_deliveries WHERE target = $1
                   AND ($5 OR (created, id) < ($2, $3))
                 ORDER BY created DESC, id DESC LIMIT $4",
                &[&filter.target.key(), &created, &id, &limit, &unbounded],
            )?
            .iter()
            .map(|r| parse(r.get(0)))
            .collect()
        })
    }
}
