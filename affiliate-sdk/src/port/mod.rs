//! The transactional port: the typed reads and writes that one money write needs, which
//! each backend implements over its own native transaction (the memory store's lock
//! with an undo log, a sled transaction, a PostgreSQL transaction).
//!
//! The sequences written over it — record a conversion, change its status, make a
//! payout run, settle a payout — live once in the core
//! ([`StoreWrites`](crate::writes::StoreWrites)); a backend only reads and writes what
//! it is told, and never decides. The one sequence a backend runs itself, as it opens
//! a database of an early version, is here too (`backfill.rs`), so that no backend
//! decides which ledger entries a conversion has.

#[cfg(any(feature = "sled", feature = "postgres"))]
pub(crate) mod backfill;

use crate::click_id::ClickId;
use crate::code::Code;
use crate::error::Result;
use crate::ledger::{Balance, Entry, EntryId, Payout};
use crate::money::Currency;
use crate::outbound::Event;
use crate::records::{Bindings, Conversion};

/// An idempotency key's payout run: the fingerprint of the request that made it and the
/// payouts it made.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct PayoutRun {
    /// [`PayoutRequest::fingerprint`](crate::ledger::PayoutRequest::fingerprint).
    pub fingerprint: String,
    /// The ids of the payouts the run made, in order.
    pub payouts: Vec<String>,
}

/// A conversion as the port writes it: the record and its stored JSON, encoded by the
/// core before the transaction (a backend that keeps JSON writes `json`; sled runs one
/// transaction at a time, so the less done inside, the less the others wait).
#[derive(Debug, Clone, Copy)]
pub struct ConversionRow<'a> {
    /// The record.
    pub record: &'a Conversion,
    /// `serde_json` of `record`.
    pub json: &'a str,
}

/// An outbox event as the port writes it: the event and its stored form
/// ([`Event::encode`]), encoded before the transaction.
#[derive(Debug, Clone, Copy)]
pub struct EventRow<'a> {
    /// The event.
    pub event: &'a Event,
    /// [`Event::encode`] of `event`.
    pub encoded: &'a str,
}

/// The operations of one transaction, which a backend implements over its own.
///
/// # The contract
///
/// * [`Store::transact`](crate::store::Store::transact) runs the closure in one transaction:
///   when it returns `Ok`, everything it wrote is durable before `transact` returns;
///   when it returns `Err` (or a store operation failed), nothing it wrote is kept.
/// * The closure may run more than once (a sled conflict, a PostgreSQL serialization
///   failure or lost connection): it must start from scratch each time. Reads inside
///   see the transaction's own writes.
/// * A read of a record that the transaction may then change locks it (PostgreSQL's
///   `FOR UPDATE`), so two writers of one order or one payout run one after the other.
/// * An operation's error must be passed on (`?`): the backend keeps its own cause and
///   decides whether to run the closure again.
pub trait Tx {
    /// Whether an earlier run of this transaction failed after reaching the store, so
    /// that its commit may have gone through with its answer lost (PostgreSQL). A
    /// sequence that finds its own write then answers as the first run would have.
    fn retrying(&self) -> bool {
        false
    }

    /// The conversion recorded under `order_id`, locked for the transaction.
    fn conversion(&mut self, order_id: &str) -> Result<Option<Conversion>>;

    /// Writes a conversion under an order id that had none when
    /// [`Tx::conversion`] read it. A backend where a concurrent writer may have
    /// written the order id since runs the transaction again.
    fn insert_conversion(&mut self, row: ConversionRow<'_>) -> Result<()>;

    /// Writes a conversion over `old`, the record its order id has (as
    /// [`Tx::conversion`] read it).
    fn update_conversion(&mut self, old: &Conversion, row: ConversionRow<'_>) -> Result<()>;

    /// Keeps `old`, a record being replaced, in its order id's audit trail.
    fn keep_replaced(&mut self, old: &Conversion) -> Result<()>;

    /// The record most recently kept by [`Tx::keep_replaced`] under `order_id`.
    fn last_replaced(&mut self, order_id: &str) -> Result<Option<Conversion>>;

    /// Counts one more conversion of `click` if it has made fewer than `cap` (at least
    /// 1): `true` when counted, `false` (nothing changed) when the cap is reached.
    fn count_click_conversion(&mut self, click: ClickId, cap: u32) -> Result<bool>;

    /// The bindings of `customer_id` (empty when none), locked for the transaction.
    fn customer(&mut self, customer_id: &str) -> Result<Bindings>;

    /// Writes the bindings of `customer_id`, over what it had.
    fn put_customer(&mut self, customer_id: &str, bindings: &Bindings) -> Result<()>;

    /// The ledger entries of `conversion`'s order (both kinds, every level it has),
    /// locked for the transaction.
    fn order_entries(&mut self, conversion: &Conversion) -> Result<Vec<Entry>>;

    /// Removes the ledger entries of `conversion`'s order.
    fn remove_order_entries(&mut self, conversion: &Conversion) -> Result<()>;

    /// Writes `entries`, each over the entry with its id (balances a backend keeps
    /// summed move with them).
    fn put_entries(&mut self, entries: &[Entry]) -> Result<()>;

    /// The entry `id`, locked for the transaction (an adjustment's, which belongs to no
    /// order).
    fn entry(&mut self, id: &EntryId) -> Result<Option<Entry>>;

    /// What `partner` has in `currency` now ([`Balance`]), read so that a concurrent
    /// write to it makes one of the two transactions wait or run again.
    fn balance(&mut self, partner: Code, currency: Currency) -> Result<Balance>;

    /// The payable entries of `partner` (or every partner) in `currency` (or every
    /// currency), by id, locked for the transaction: an entry another run took
    /// meanwhile is not payable when read.
    fn payable_entries(
        &mut self,
        partner: Option<Code>,
        currency: Option<Currency>,
    ) -> Result<Vec<Entry>>;

    /// Claims the idempotency `key` for a run with `fingerprint`: `None` when the key
    /// is new (it is now taken, with no payouts yet), or the run recorded under it.
    fn claim_payout_run(&mut self, key: &str, fingerprint: &str) -> Result<Option<PayoutRun>>;

    /// Records the payouts of the run claimed under `key`.
    fn finish_payout_run(&mut self, key: &str, run: &PayoutRun) -> Result<()>;

    /// The payout `id`, locked for the transaction.
    fn payout(&mut self, id: &str) -> Result<Option<Payout>>;

    /// Writes a payout, over the one with its id.
    fn put_payout(&mut self, payout: &Payout) -> Result<()>;

    /// Adds an event to the outbox.
    fn push_event(&mut self, event: EventRow<'_>) -> Result<()>;
}

/// The closure [`Store::transact`](crate::store::Store::transact) runs.
pub type TxFn<'a> = dyn FnMut(&mut dyn Tx) -> Result<()> + Send + 'a;
