//! The transactional port over a sled transaction ([`SledTx`]): one transaction over
//! the trees a money write touches (`conversions`, `conversions-by-day`, `customers`,
//! `conversions-per-click`, `replaced-conversions`, `ledger`, `ledger-sums`, `payouts`,
//! `payout-runs`, `outbox`, `conversions-pending`), recorded in the money journal
//! (`journal.rs`) and durable (the journal synced, group commit) before
//! [`Store::transact`] returns.
//!
//! sled holds its global write lock while a transaction's closure runs, so nothing
//! inside may scan a tree. The one operation that must, [`Tx::payable_entries`], is
//! done in two steps: the first run of the closure asks for the scan and stops; the
//! scan runs outside the transaction; the closure runs again, reading each candidate
//! inside the transaction as it is now (an entry another run took meanwhile is no
//! longer payable and is left out).

use std::cell::RefCell;

use sled::transaction::{ConflictableTransactionError, TransactionError, Transactional as _};

use super::fail::{corrupt, store_err};
use super::journal::{JOURNAL, JTree, SEQ_KEY};
use super::ledger::{self, LedgerTx};
use super::{SledStore, day_key, outbox, pending_key};
use crate::click_id::ClickId;
use crate::code::Code;
use crate::error::{Error, Result};
use crate::ledger::{Balance, Entry, EntryFilter, EntryId, EntryState, Payout};
use crate::money::Currency;
use crate::port::{ConversionRow, EventRow, PayoutRun, Tx, TxFn};
use crate::records::{Conversion, Status};
use crate::store::{Bindings, day_of};

type Conflict = ConflictableTransactionError<Error>;

/// The trees of the transaction, in the order of [`SledStore::tx_trees`].
const CONVERSIONS: usize = 0;
const BY_DAY: usize = 1;
const CUSTOMERS: usize = 2;
const PER_CLICK: usize = 3;
const REPLACED: usize = 4;
const LEDGER: usize = 5;
const SUMS: usize = 6;
const PAYOUTS: usize = 7;
const RUNS: usize = 8;
const OUTBOX: usize = 9;
const PENDING: usize = 10;

/// The suffix of the copy of an order's last replaced record (`order id, \x01`): the
/// audit trail's own keys are `order id, \0, sequence`, which a transaction cannot scan.
const LAST_REPLACED: u8 = 1;

/// A payable-entries scan the transaction asked for.
type Scan = (Option<Code>, Option<Currency>);

/// Why an operation stopped the transaction, kept until the closure returns.
enum Stop {
    Sled(Conflict),
    Scan(Scan),
}

pub(super) struct SledTx<'a> {
    t: &'a [JTree<'a>],
    /// The payable candidates of a scan made before this run.
    candidates: Option<&'a [EntryId]>,
    stop: Option<Stop>,
}

/// The error an operation answers once it has kept the cause in `stop`.
fn stopped() -> Error {
    Error::Store("the transaction did not go through".into())
}

fn sled_stop(e: ConflictableTransactionError<&'static str>) -> Conflict {
    match e {
        ConflictableTransactionError::Abort(what) => {
            ConflictableTransactionError::Abort(corrupt(what))
        }
        ConflictableTransactionError::Conflict => ConflictableTransactionError::Conflict,
        ConflictableTransactionError::Storage(e) => ConflictableTransactionError::Storage(e),
    }
}

impl SledTx<'_> {
    /// Passes a sled result on, keeping a sled failure for the transaction.
    fn ok<T>(&mut self, r: Result<T, ConflictableTransactionError<&'static str>>) -> Result<T> {
        r.map_err(|e| {
            self.stop = Some(Stop::Sled(sled_stop(e)));
            stopped()
        })
    }

    fn get(&mut self, tree: usize, key: &[u8]) -> Result<Option<sled::IVec>> {
        let r = self.t[tree].get(key).map_err(Into::into);
        self.ok(r)
    }

    fn insert(&mut self, tree: usize, key: &[u8], value: &[u8]) -> Result<()> {
        let r = self.t[tree]
            .insert(key, value)
            .map(drop)
            .map_err(Into::into);
        self.ok(r)
    }

    fn ledger(&self) -> LedgerTx<'_> {
        LedgerTx {
            entries: &self.t[LEDGER],
            sums: &self.t[SUMS],
        }
    }

    fn remove(&mut self, tree: usize, key: &[u8]) -> Result<()> {
        let r = self.t[tree].remove(key).map(drop).map_err(Into::into);
        self.ok(r)
    }

    /// Writes a record over `old` (none for a new order id), with its index entries:
    /// by day, and (while pending) by campaign and time.
    fn write_conversion(&mut self, old: Option<&Conversion>, row: ConversionRow<'_>) -> Result<()> {
        let c = row.record;
        let day = day_of(c.converted_at);
        if let Some(old) = old {
            if day_of(old.converted_at) != day {
                self.remove(
                    BY_DAY,
                    &day_key(day_of(old.converted_at), old.order_id.as_bytes()),
                )?;
            }
            if old.status == Status::Pending {
                self.remove(PENDING, &pending_key(old))?;
            }
        }
        self.insert(BY_DAY, &day_key(day, c.order_id.as_bytes()), &[])?;
        if c.status == Status::Pending {
            self.insert(PENDING, &pending_key(c), &[])?;
        }
        self.insert(CONVERSIONS, c.order_id.as_bytes(), row.json.as_bytes())
    }
}

fn decode<T: serde::de::DeserializeOwned>(v: &[u8], what: &str) -> Result<T> {
    serde_json::from_slice(v).map_err(|_| corrupt(what))
}

fn encode<T: serde::Serialize>(v: &T) -> Result<Vec<u8>> {
    serde_json::to_vec(v).map_err(store_err)
}

impl Tx for SledTx<'_> {
    fn conversion(&mut self, order_id: &str) -> Result<Option<Conversion>> {
        self.get(CONVERSIONS, order_id.as_bytes())?
            .map(|v| decode(&v, "conversion"))
            .transpose()
    }

    fn insert_conversion(&mut self, row: ConversionRow<'_>) -> Result<()> {
        self.write_conversion(None, row)
    }

    fn update_conversion(&mut self, old: &Conversion, row: ConversionRow<'_>) -> Result<()> {
        self.write_conversion(Some(old), row)
    }

    fn keep_replaced(&mut self, old: &Conversion) -> Result<()> {
        let bytes = encode(old)?;
        let seq = self.t[REPLACED].generate_id().map_err(Into::into);
        let seq = self.ok(seq)?;
        let mut key = old.order_id.as_bytes().to_vec();
        key.push(0);
        key.extend_from_slice(&seq.to_be_bytes());
        self.insert(REPLACED, &key, &bytes)?;
        let mut last = old.order_id.as_bytes().to_vec();
        last.push(LAST_REPLACED);
        self.insert(REPLACED, &last, &bytes)
    }

    fn last_replaced(&mut self, order_id: &str) -> Result<Option<Conversion>> {
        let mut last = order_id.as_bytes().to_vec();
        last.push(LAST_REPLACED);
        self.get(REPLACED, &last)?
            .map(|v| decode(&v, "conversion"))
            .transpose()
    }

    fn count_click_conversion(&mut self, click: ClickId, cap: u32) -> Result<bool> {
        let key = *click.as_bytes();
        let made = self
            .get(PER_CLICK, &key)?
            .and_then(|v| v.as_ref().try_into().ok())
            .map_or(0, u32::from_le_bytes);
        if made >= cap {
            return Ok(false);
        }
        self.insert(PER_CLICK, &key, &(made + 1).to_le_bytes())?;
        Ok(true)
    }

    fn customer(&mut self, customer_id: &str) -> Result<Bindings> {
        self.get(CUSTOMERS, customer_id.as_bytes())?
            .map_or_else(|| Ok(Bindings::default()), |v| decode(&v, "customer"))
    }

    fn put_customer(&mut self, customer_id: &str, bindings: &Bindings) -> Result<()> {
        self.insert(CUSTOMERS, customer_id.as_bytes(), &encode(bindings)?)
    }

    fn order_entries(&mut self, conversion: &Conversion) -> Result<Vec<Entry>> {
        let r = ledger::read_order(&self.t[LEDGER], conversion);
        self.ok(r)
    }

    fn remove_order_entries(&mut self, conversion: &Conversion) -> Result<()> {
        let r = ledger::remove_order(&self.ledger(), conversion);
        self.ok(r)
    }

    fn put_entries(&mut self, entries: &[Entry]) -> Result<()> {
        let r = ledger::write(&self.ledger(), entries);
        self.ok(r)
    }

    fn entry(&mut self, id: &EntryId) -> Result<Option<Entry>> {
        let r = ledger::read_entry(&self.t[LEDGER], id);
        self.ok(r)
    }

    fn balance(&mut self, partner: Code, currency: Currency) -> Result<Balance> {
        let r = ledger::read_sum(&self.t[SUMS], partner, currency);
        self.ok(r)
    }

    fn payable_entries(
        &mut self,
        partner: Option<Code>,
        currency: Option<Currency>,
    ) -> Result<Vec<Entry>> {
        let Some(ids) = self.candidates else {
            self.stop = Some(Stop::Scan((partner, currency)));
            return Err(stopped());
        };
        let mut out = Vec::with_capacity(ids.len());
        for id in ids {
            let r = ledger::read_entry(&self.t[LEDGER], id);
            if let Some(e) = self.ok(r)?
                && e.state == EntryState::Payable
            {
                out.push(e);
            }
        }
        Ok(out)
    }

    fn claim_payout_run(&mut self, key: &str, fingerprint: &str) -> Result<Option<PayoutRun>> {
        if let Some(v) = self.get(RUNS, key.as_bytes())? {
            return decode(&v, "payout run").map(Some);
        }
        let run = PayoutRun {
            fingerprint: fingerprint.to_owned(),
            payouts: Vec::new(),
        };
        self.insert(RUNS, key.as_bytes(), &encode(&run)?)?;
        Ok(None)
    }

    fn finish_payout_run(&mut self, key: &str, run: &PayoutRun) -> Result<()> {
        self.insert(RUNS, key.as_bytes(), &encode(run)?)
    }

    fn payout(&mut self, id: &str) -> Result<Option<Payout>> {
        self.get(PAYOUTS, id.as_bytes())?
            .map(|v| decode(&v, "payout"))
            .transpose()
    }

    fn put_payout(&mut self, payout: &Payout) -> Result<()> {
        self.insert(PAYOUTS, payout.id.as_bytes(), &encode(payout)?)
    }

    fn push_event(&mut self, event: EventRow<'_>) -> Result<()> {
        let r = outbox::push_encoded(&self.t[OUTBOX], event.encoded.as_bytes());
        self.ok(r)
    }
}

impl SledStore {
    /// The trees of a money transaction, indexed by the constants above (a journal
    /// record names its trees by these numbers).
    pub(super) fn tx_trees(&self) -> [&sled::Tree; 12] {
        [
            &self.conversions,
            &self.conversions_by_day,
            &self.customers,
            &self.per_click,
            &self.replaced,
            &self.ledger,
            &self.ledger_sums,
            &self.payouts,
            &self.payout_runs,
            &self.outbox,
            &self.pending,
            &self.journal_seq,
        ]
    }

    /// The ids of the payable entries a scan finds, outside any transaction.
    fn payable_ids(&self, (partner, currency): Scan) -> Result<Vec<EntryId>> {
        let filter = EntryFilter {
            partner,
            currency,
            order_id: None,
        };
        Ok(crate::store::LedgerReads::ledger_entries(self, &filter)?
            .into_iter()
            .filter(|e| e.state == EntryState::Payable)
            .map(|e| e.id)
            .collect())
    }

    /// Flushes sled, which then holds every record of the journal, and empties it.
    pub(super) fn empty_journal(&self) -> Result<()> {
        self.flush_and_empty(&mut self.journal.lock())
    }

    fn flush_and_empty(&self, journal: &mut super::journal::Appender) -> Result<()> {
        self.db.flush().map_err(store_err)?;
        journal.empty()
    }

    pub(super) fn transact_in_trees(&self, f: &mut TxFn<'_>) -> Result<()> {
        let trees = self.tx_trees();
        let f = RefCell::new(f);
        // The writes of the run that commits, recorded by the trees.
        let log = RefCell::new(Vec::new());
        let mut candidates: Option<Vec<EntryId>> = None;
        loop {
            let scan: RefCell<Option<Scan>> = RefCell::new(None);
            // One money transaction at a time from here to its record's append, so
            // the journal's order is sled's (sled runs one transaction at a time
            // anyway).
            let mut journal = self.journal.lock();
            let seq = journal.next_seq();
            let outcome = trees[..].transaction(|views| {
                log.borrow_mut().clear();
                let recorded: Vec<JTree<'_>> = views[..JOURNAL]
                    .iter()
                    .zip(0u8..)
                    .map(|(v, id)| JTree::new(v, id, &log))
                    .collect();
                let mut tx = SledTx {
                    t: &recorded,
                    candidates: candidates.as_deref(),
                    stop: None,
                };
                let done = (*f.borrow_mut())(&mut tx);
                match tx.stop.take() {
                    Some(Stop::Sled(e)) => Err(e),
                    Some(Stop::Scan(s)) => {
                        *scan.borrow_mut() = Some(s);
                        Err(ConflictableTransactionError::Abort(stopped()))
                    }
                    None => {
                        done.map_err(ConflictableTransactionError::Abort)?;
                        if !log.borrow().is_empty() {
                            views[JOURNAL].insert(SEQ_KEY, &seq.to_be_bytes()[..])?;
                        }
                        Ok(())
                    }
                }
            });
            match outcome {
                Ok(()) => {
                    let writes = log.borrow();
                    if !writes.is_empty() {
                        journal.append(seq, &writes)?;
                        if journal.is_long() {
                            self.flush_and_empty(&mut journal)?;
                        }
                    }
                    drop(journal);
                    // Synced in every case: what was read may come from a writer whose
                    // record is appended but not yet on disk, and it must not be
                    // acknowledged before it is durable.
                    return self.journal.sync();
                }
                Err(TransactionError::Abort(e)) => {
                    drop(journal);
                    match scan.into_inner() {
                        Some(s) if candidates.is_none() => {
                            candidates = Some(self.payable_ids(s)?);
                        }
                        _ => return Err(e),
                    }
                }
                Err(TransactionError::Storage(e)) => return Err(store_err(e)),
            }
        }
    }
}
