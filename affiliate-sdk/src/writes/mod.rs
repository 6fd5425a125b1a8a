//! The money writes, each written once over the store's transactional port
//! ([`Tx`](crate::store::Tx)): recording a conversion, changing its status, making a
//! payout run and settling a payout. Every backend runs the same sequence inside its
//! own transaction, so they cannot differ in what they decide; the pure decisions
//! (`ledger::entries_of`, `Conversion::replaceable_by`, `ledger::make_payouts`,
//! `ledger::settle`) are called from here and nowhere in a backend.
//!
//! [`StoreWrites`] puts the four on every [`Store`]: `store.insert_conversion(…)`,
//! `store.set_status(…)`, `store.create_payouts(…)`, `store.set_payout_status(…)`.

mod adjustment;
mod conversion;
mod outbox;
mod payout;
mod refund;
mod traffic;

pub use adjustment::Adjusted;
pub use refund::Refunded;

use crate::error::Result;
use crate::ledger::{Adjustment, Entry, Payout, PayoutRequest, PayoutStatus};
use crate::records::{Conversion, Refund, Status};
use crate::store::{Binding, Inserted, PayoutsMade, StatusChange, Store};

/// The money writes on any [`Store`] (see the [module docs](self)).
pub trait StoreWrites {
    /// Records `conversion` unless its order id exists, or replaces the existing record
    /// when [`Conversion::replaceable_by`] says so (the old record moves to the audit
    /// trail of [`ConversionReads::replaced_conversions`](crate::store::ConversionReads::replaced_conversions)). With `binding`, the conversion's
    /// `customer_id` is bound to it for its campaign in the same transaction, unless
    /// that customer is bound in that campaign already (the first binding of a campaign
    /// wins); a binding the replaced record made is removed with it. With `per_click_cap`, a new conversion is written only while its click
    /// has made fewer than that many conversions under a cap (`CapReached` otherwise).
    /// The conversion's ledger entries ([`ledger::entries_of`](crate::ledger::entries_of))
    /// and its event are written with it. Durable before it returns, in every outcome.
    fn insert_conversion(
        &self,
        conversion: &Conversion,
        binding: Option<&Binding>,
        per_click_cap: Option<u32>,
    ) -> Result<Inserted>;

    /// Sets the status of `order_id` to `to` if it is `from` (compare and swap), at
    /// Unix time `at`, and moves its ledger entries in the same transaction
    /// ([`ledger::apply_status`](crate::ledger::apply_status): approved entries become
    /// payable at `at`, a reversal of a paid one writes its clawback). Durable before
    /// it returns.
    fn set_status(&self, order_id: &str, from: Status, to: Status, at: u64)
    -> Result<StatusChange>;

    /// Makes the payouts of a run ([`ledger::make_payouts`](crate::ledger::make_payouts)
    /// over the payable entries now) under the idempotency `key`, in one transaction
    /// with the entries they hold and the key. A key used before answers the payouts it
    /// made (`Replayed`), or `conflict` when it came with another request
    /// ([`PayoutRequest::fingerprint`]). With several writers at once, no entry is
    /// taken by two payouts.
    fn create_payouts(&self, key: &str, req: &PayoutRequest, now: u64) -> Result<PayoutsMade>;

    /// Moves a pending payout to `paid` or `failed` at `at` with its entries
    /// ([`ledger::settle`](crate::ledger::settle)), and sets `paid` the approved
    /// conversions whose entries are now all paid, in one transaction. `None` when no
    /// such payout; `invalid_transition` (nothing changed) when it is not pending.
    fn set_payout_status(&self, id: &str, to: PayoutStatus, at: u64) -> Result<Option<Payout>>;

    /// Records `refund` of `order_id` at `at` with its ledger entries
    /// ([`ledger::apply_refund`](crate::ledger::apply_refund): each level gives back its
    /// share; the whole amount reverses the conversion) and its event, in one
    /// transaction. A refund id recorded before with the same amount is `Replayed`,
    /// with another amount `conflict`; nothing changes then. Durable before it returns.
    fn refund(&self, order_id: &str, refund: &Refund, at: u64) -> Result<Refunded>;

    /// Records `adjustment` under the idempotency `key` at `now`: one entry, payable at
    /// once ([`Adjustment::entry`]). A negative one that would leave the partner owed
    /// less than nothing is `conflict` unless it allows that (checked against the
    /// balance inside the transaction). A key used before by the same request is
    /// `Replayed`; by another, `conflict`. Durable before it returns.
    fn adjust(&self, key: &str, adjustment: &Adjustment, now: u64) -> Result<Adjusted>;

    /// Writes days of traffic earnings (each the entries of one day, campaign and
    /// partner: [`ledger::traffic_entries`](crate::ledger::traffic_entries)) that are
    /// not written yet, in one transaction: a day whose level-0 entry exists is left as
    /// it is, so closing a day twice, or on two servers at once, writes it once.
    /// Returns how many entries were written. Durable before it returns.
    fn write_traffic(&self, days: &[Vec<Entry>]) -> Result<usize>;

    /// Makes the pending traffic entries under each of `references` payable at `at`,
    /// in one transaction; returns how many moved. Void ones stay void.
    fn approve_traffic(&self, references: &[String], at: u64) -> Result<usize>;

    /// Rejects the traffic earnings under `reference` at `at`, as a conversion's
    /// rejection moves its entries ([`ledger::apply_status`](crate::ledger::apply_status)):
    /// what no payout took is void, what one took is owed back by a clawback. Returns
    /// the entries as they are now, or `None` when the day has none.
    fn reject_traffic(&self, reference: &str, at: u64) -> Result<Option<Vec<Entry>>>;
}

impl<S: Store + ?Sized> StoreWrites for S {
    fn insert_conversion(
        &self,
        conversion: &Conversion,
        binding: Option<&Binding>,
        per_click_cap: Option<u32>,
    ) -> Result<Inserted> {
        conversion::record(self, conversion, binding, per_click_cap)
    }

    fn set_status(
        &self,
        order_id: &str,
        from: Status,
        to: Status,
        at: u64,
    ) -> Result<StatusChange> {
        conversion::change_status(self, order_id, from, to, at)
    }

    fn create_payouts(&self, key: &str, req: &PayoutRequest, now: u64) -> Result<PayoutsMade> {
        payout::make_run(self, key, req, now)
    }

    fn set_payout_status(&self, id: &str, to: PayoutStatus, at: u64) -> Result<Option<Payout>> {
        payout::settle_payout(self, id, to, at)
    }

    fn refund(&self, order_id: &str, refund: &Refund, at: u64) -> Result<Refunded> {
        refund::refund(self, order_id, refund, at)
    }

    fn adjust(&self, key: &str, adjustment: &Adjustment, now: u64) -> Result<Adjusted> {
        adjustment::adjust(self, key, adjustment, now)
    }

    fn write_traffic(&self, days: &[Vec<Entry>]) -> Result<usize> {
        traffic::write(self, days)
    }

    fn approve_traffic(&self, references: &[String], at: u64) -> Result<usize> {
        traffic::approve(self, references, at)
    }

    fn reject_traffic(&self, reference: &str, at: u64) -> Result<Option<Vec<Entry>>> {
        traffic::reject(self, reference, at)
    }
}
