//! The program's records in PostgreSQL (`affiliate_program`, migration 4): every
//! change takes the version row's lock first, so versions follow the order of the
//! writes every server sees.

use crate::store::ProgramRecords;
use r2d2_postgres::postgres::Transaction;

use super::PostgresStore;
use super::connect::Attempt;
use super::to_u64;
use crate::error::Result;
use crate::outbound::{Event, EventKind, EventObject};
use crate::store::RecordKind;

/// Program writers take turns on the version row, so versions follow the order of
/// the writes every server sees.
fn lock_version(tx: &mut Transaction<'_>) -> Attempt<()> {
    tx.execute(
        "SELECT version FROM affiliate_program_version FOR UPDATE",
        &[],
    )?;
    Ok(())
}

/// The version moves by one (in the transaction that changed a record).
fn bump(tx: &mut Transaction<'_>) -> Attempt<()> {
    tx.execute(
        "UPDATE affiliate_program_version SET version = version + 1",
        &[],
    )?;
    Ok(())
}

/// Takes the version row's lock (program writers take turns, so versions follow the
/// order of the writes every server sees), then reads the record `kind`/`key`.
fn locked_record(tx: &mut Transaction<'_>, kind: RecordKind, key: &str) -> Attempt<Option<String>> {
    lock_version(tx)?;
    Ok(tx
        .query_opt(
            "SELECT record FROM affiliate_program WHERE kind = $1 AND key = $2",
            &[&kind.as_str(), &key],
        )?
        .map(|r| r.get(0)))
}

impl PostgresStore {}

impl ProgramRecords for PostgresStore {
    fn program_version(&self) -> Result<u64> {
        self.inner.attempt(|c| {
            let row = c.query_one("SELECT version FROM affiliate_program_version", &[])?;
            Ok(to_u64(row.get(0)))
        })
    }

    fn put_record(&self, kind: RecordKind, key: &str, json: &str, only_new: bool) -> Result<bool> {
        self.inner.attempt_again(|c, _retry| {
            let mut tx = c.transaction()?;
            let current = locked_record(&mut tx, kind, key)?;
            if let Some(stored) = &current {
                // The same record again (a config applied at every start, or our own
                // write whose answer was lost): nothing to do.
                if stored == json {
                    return Ok(true);
                }
                if only_new {
                    return Ok(false);
                }
            }
            tx.execute(
                "INSERT INTO affiliate_program (kind, key, record) VALUES ($1, $2, $3)
                 ON CONFLICT (kind, key) DO UPDATE SET record = EXCLUDED.record",
                &[&kind.as_str(), &key, &json],
            )?;
            bump(&mut tx)?;
            if only_new && kind == RecordKind::Partner && current.is_none() {
                super::outbox::push(
                    &mut tx,
                    &Event {
                        kind: EventKind::PartnerCreated,
                        at: crate::clock::Clock::now(&crate::clock::SystemClock),
                        object: EventObject::Partner(json.to_owned()),
                    },
                )?;
            }
            tx.commit()?;
            Ok(true)
        })
    }

    fn swap_record(&self, kind: RecordKind, key: &str, expected: &str, json: &str) -> Result<bool> {
        self.inner.attempt_again(|c, _retry| {
            let mut tx = c.transaction()?;
            let current = locked_record(&mut tx, kind, key)?;
            // Already the new record: a retry whose first answer was lost, or the same
            // change made twice.
            if current.as_deref() == Some(json) {
                return Ok(true);
            }
            if current.as_deref() != Some(expected) {
                return Ok(false);
            }
            tx.execute(
                "UPDATE affiliate_program SET record = $3 WHERE kind = $1 AND key = $2",
                &[&kind.as_str(), &key, &json],
            )?;
            bump(&mut tx)?;
            tx.commit()?;
            Ok(true)
        })
    }

    fn delete_record(&self, kind: RecordKind, key: &str) -> Result<bool> {
        self.inner.attempt_again(|c, _retry| {
            let mut tx = c.transaction()?;
            lock_version(&mut tx)?;
            // A retry whose first attempt removed the row finds none: `false`, which
            // the caller reads as "not there" (it is not).
            let removed = tx.execute(
                "DELETE FROM affiliate_program WHERE kind = $1 AND key = $2",
                &[&kind.as_str(), &key],
            )?;
            if removed == 0 {
                return Ok(false);
            }
            bump(&mut tx)?;
            tx.commit()?;
            Ok(true)
        })
    }

    fn put_records(&self, records: &[(RecordKind, String, Option<String>)]) -> Result<usize> {
        let (mut kinds, mut keys, mut jsons) = (Vec::new(), Vec::new(), Vec::new());
        let (mut gone_kinds, mut gone_keys) = (Vec::new(), Vec::new());
        for (kind, key, json) in records {
            match json {
                Some(json) => {
                    kinds.push(kind.as_str());
                    keys.push(key.as_str());
                    jsons.push(json.as_str());
                }
                None => {
                    gone_kinds.push(kind.as_str());
                    gone_keys.push(key.as_str());
                }
            }
        }
        self.inner.attempt_again(|c, _retry| {
            let mut tx = c.transaction()?;
            // A whole configuration may take longer than a request's 5 s budget.
            tx.batch_execute("SET LOCAL statement_timeout = '120s'")?;
            lock_version(&mut tx)?;
            // One statement each way; rows equal to what is stored are left alone, so
            // a configuration applied again changes nothing.
            let written = tx.execute(
                "INSERT INTO affiliate_program (kind, key, record)
                 SELECT * FROM unnest($1::text[], $2::text[], $3::text[])
                 ON CONFLICT (kind, key) DO UPDATE SET record = EXCLUDED.record
                 WHERE affiliate_program.record IS DISTINCT FROM EXCLUDED.record",
                &[&kinds, &keys, &jsons],
            )?;
            let removed = tx.execute(
                "DELETE FROM affiliate_program p
                 USING unnest($1::text[], $2::text[]) AS g(kind, key)
                 WHERE p.kind = g.kind AND p.key = g.key",
                &[&gone_kinds, &gone_keys],
            )?;
            let changed = written + removed;
            if changed > 0 {
                bump(&mut tx)?;
            }
            tx.commit()?;
            Ok(usize::try_from(changed).unwrap_or(usize::MAX))
        })
    }

    fn records(&self, kind: RecordKind) -> Result<Vec<(String, String)>> {
        self.inner.attempt(|c| {
            Ok(c.query(
                "SELECT key, record FROM affiliate_program WHERE kind = $1 ORDER BY key",
                &[&kind.as_str()],
            )?
            .iter()
            .map(|r| (r.get(0), r.get(1)))
            .collect())
        })
    }
}
