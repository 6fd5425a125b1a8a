//! The program's records in sled: the tree `program`, its version under a key no
//! record key starts with, each change written and bumped in one transaction.

use crate::store::ProgramRecords;
use sled::transaction::{ConflictableTransactionResult, TransactionError, TransactionalTree};

use super::fail::{corrupt, store_err, tx_err};
use super::{PROGRAM_VERSION, SledStore, record_key};
use crate::error::Result;
use crate::outbound::{Event, EventKind, EventObject};
use crate::store::RecordKind;

/// Inside a program transaction: the version moves by one.
fn bump<E>(t: &TransactionalTree) -> ConflictableTransactionResult<(), E> {
    let version = t
        .get(PROGRAM_VERSION)?
        .and_then(|v| v.as_ref().try_into().ok())
        .map_or(0, u64::from_be_bytes);
    t.insert(PROGRAM_VERSION, &(version + 1).to_be_bytes())?;
    Ok(())
}

impl SledStore {
    /// Runs `f` as one transaction on the program tree, then waits until it is on disk.
    fn program_write<T>(
        &self,
        f: impl Fn(&TransactionalTree) -> ConflictableTransactionResult<T, ()>,
    ) -> Result<T> {
        let out = self
            .program
            .transaction(f)
            .map_err(|e: TransactionError<()>| match e {
                TransactionError::Storage(e) => store_err(e),
                TransactionError::Abort(()) => store_err("aborted"),
            })?;
        self.sync()?;
        Ok(out)
    }

    /// A new partner and its `partner.created` event, in one transaction.
    fn create_partner(&self, rk: &[u8], json: &str) -> Result<bool> {
        use sled::Transactional as _;
        let event = Event {
            kind: EventKind::PartnerCreated,
            at: crate::clock::Clock::now(&crate::clock::SystemClock),
            object: EventObject::Partner(json.to_owned()),
        };
        let written = (&self.program, &self.outbox)
            .transaction(|(t, events)| {
                if t.get(rk)?.is_some() {
                    return Ok(false);
                }
                t.insert(rk, json.as_bytes())?;
                bump(t)?;
                super::outbox::push(&super::journal::JTree::unrecorded(events), &event)?;
                Ok(true)
            })
            .map_err(tx_err)?;
        self.sync()?;
        Ok(written)
    }
}

impl ProgramRecords for SledStore {
    fn program_version(&self) -> Result<u64> {
        Ok(self
            .program
            .get(PROGRAM_VERSION)
            .map_err(store_err)?
            .and_then(|v| v.as_ref().try_into().ok())
            .map_or(0, u64::from_be_bytes))
    }

    fn put_record(&self, kind: RecordKind, key: &str, json: &str, only_new: bool) -> Result<bool> {
        let rk = record_key(kind, key);
        // The same record again (a config applied at every start) writes nothing.
        if self.program.get(&rk).map_err(store_err)?.as_deref() == Some(json.as_bytes()) {
            return Ok(true);
        }
        if only_new && kind == RecordKind::Partner {
            return self.create_partner(&rk, json);
        }
        let written = self.program_write(|t| {
            if only_new && t.get(&rk)?.is_some() {
                return Ok(false);
            }
            t.insert(rk.as_slice(), json.as_bytes())?;
            bump(t)?;
            Ok(true)
        })?;
        Ok(written)
    }

    fn swap_record(&self, kind: RecordKind, key: &str, expected: &str, json: &str) -> Result<bool> {
        let rk = record_key(kind, key);
        let swapped = self.program_write(|t| {
            let current = t.get(&rk)?;
            if current.as_deref() == Some(json.as_bytes()) {
                return Ok(true);
            }
            if current.as_deref() != Some(expected.as_bytes()) {
                return Ok(false);
            }
            t.insert(rk.as_slice(), json.as_bytes())?;
            bump(t)?;
            Ok(true)
        })?;
        Ok(swapped)
    }

    fn delete_record(&self, kind: RecordKind, key: &str) -> Result<bool> {
        let rk = record_key(kind, key);
        let removed = self.program_write(|t| {
            if t.remove(rk.as_slice())?.is_none() {
                return Ok(false);
            }
            bump(t)?;
            Ok(true)
        })?;
        Ok(removed)
    }

    fn put_records(&self, records: &[(RecordKind, String, Option<String>)]) -> Result<usize> {
        // Only what differs from the store goes into the one transaction.
        let mut writes: Vec<(Vec<u8>, Option<&str>)> = Vec::new();
        for (kind, key, json) in records {
            let rk = record_key(*kind, key);
            let stored = self.program.get(&rk).map_err(store_err)?;
            if stored.as_deref() != json.as_deref().map(str::as_bytes) {
                writes.push((rk, json.as_deref()));
            }
        }
        if writes.is_empty() {
            return Ok(0);
        }
        // One atomic batch (much lighter than a transaction of this size), then the
        // version is bumped as every other program write bumps it.
        let mut batch = sled::Batch::default();
        for (rk, json) in &writes {
            match json {
                Some(json) => batch.insert(rk.as_slice(), json.as_bytes()),
                None => batch.remove(rk.as_slice()),
            }
        }
        self.program.apply_batch(batch).map_err(store_err)?;
        self.program_write(bump::<()>)?;
        Ok(writes.len())
    }

    fn records(&self, kind: RecordKind) -> Result<Vec<(String, String)>> {
        self.program
            .scan_prefix([kind as u8])
            .map(|kv| {
                let (k, v) = kv.map_err(store_err)?;
                let key = std::str::from_utf8(&k[1..]).map_err(|_| corrupt("program"))?;
                let json = std::str::from_utf8(&v).map_err(|_| corrupt("program"))?;
                Ok((key.to_owned(), json.to_owned()))
            })
            .collect()
    }
}
