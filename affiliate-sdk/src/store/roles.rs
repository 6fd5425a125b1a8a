//! The store's role traits: what [`Store`](super::Store) is made of, one trait per
//! part of the data (the way tower-sessions splits `SessionStore` and
//! `ExpiredDeletion`). A backend implements each, and [`Store::transact`](super::Store::transact)
//! for the money writes; a caller that holds a `dyn Store` or a `S: Store` calls them
//! all without importing them.

use std::collections::BTreeMap;

use super::{
    Bindings, BotClickRecord, ClickRecord, CounterKey, Counters, Dropped, Erased, ImpressionRecord,
    RecordKind, WriterStats,
};
use crate::click_id::ClickId;
use crate::code::Code;
use crate::error::Result;
use crate::money::Currency;
use crate::records::Conversion;

/// The click sink: clicks, impressions and bot clicks (buffered), their day counters, and what the buffer did.
pub trait ClickSink: Send + Sync {
    /// Records a click (for click-id attribution and the day's counters). May be
    /// buffered; see the backend's bound on what a power cut can lose.
    fn record_click(&self, click: &ClickRecord) -> Result<()>;

    /// Adds an impression to the day's counters. May be buffered like clicks.
    fn record_impression(&self, impression: &ImpressionRecord) -> Result<()>;

    /// Adds a bot's click to the day's `bot_clicks`. May be buffered like clicks.
    fn record_bot_click(&self, bot: &BotClickRecord) -> Result<()>;

    /// The click with this id, buffered ones included.
    fn click(&self, id: ClickId) -> Result<Option<ClickRecord>>;

    /// Counters for the days `from_day..=to_day`, buffered clicks included, optionally
    /// for one campaign only.
    fn counters(
        &self,
        from_day: u32,
        to_day: u32,
        campaign: Option<&Code>,
    ) -> Result<BTreeMap<CounterKey, Counters>>;

    /// Makes everything buffered durable.
    fn flush(&self) -> Result<()>;

    /// What the store could not keep since it opened because its buffer was full
    /// ([`StoreLimits::click_buffer_bytes`](super::StoreLimits::click_buffer_bytes)). Stores without a buffer drop nothing.
    fn dropped(&self) -> Dropped {
        Dropped::default()
    }

    /// What the background click writer has done since the store opened (buffer depth,
    /// writes, failures, time spent). Stores without one answer zeros.
    fn writer_stats(&self) -> WriterStats {
        WriterStats::default()
    }
}

/// Reading conversions and customer bindings (they are written by the money writes, over [`Store::transact`](super::Store::transact)).
pub trait ConversionReads: Send + Sync {
    /// The records replaced under `order_id`, oldest first (see
    /// [`StoreWrites::insert_conversion`](crate::writes::StoreWrites::insert_conversion)).
    fn replaced_conversions(&self, order_id: &str) -> Result<Vec<Conversion>>;

    /// The conversion recorded under `order_id`.
    fn conversion(&self, order_id: &str) -> Result<Option<Conversion>>;

    /// The bindings of `customer_id`, one per campaign (empty when none).
    fn customer(&self, customer_id: &str) -> Result<Bindings>;

    /// Conversions made in the days `from_day..=to_day`.
    fn conversions(&self, from_day: u32, to_day: u32) -> Result<Vec<Conversion>>;

    /// Up to `max` pending conversions of `campaign` made at or before `made_by` (Unix
    /// seconds), oldest first (by time, then order id), after the cursor `after` (the
    /// time and order id of the last one a previous call returned): what approval
    /// finds due. Read by an index of pending conversions (sled, PostgreSQL), so it
    /// costs what is due, not the history.
    fn pending_due(
        &self,
        campaign: &Code,
        made_by: u64,
        after: Option<(u64, &str)>,
        max: usize,
    ) -> Result<Vec<Conversion>>;
}

/// Reading the ledger and the payouts (written by the money writes).
pub trait LedgerReads: Send + Sync {
    /// The ledger entries the filter matches (commissions and clawbacks), by order id,
    /// level and kind. Every recorded conversion has its entries
    /// (made by [`StoreWrites`](crate::writes::StoreWrites)), written in the same write
    /// as the conversion; a replaced record's entries are replaced with it.
    fn ledger_entries(
        &self,
        filter: &crate::ledger::EntryFilter,
    ) -> Result<Vec<crate::ledger::Entry>>;

    /// Balances per beneficiary and currency of the entries the filter matches (its
    /// `order_id` is ignored): [`ledger::balances`](crate::ledger::balances) over
    /// [`LedgerReads::ledger_entries`], which a backend may keep summed as it writes.
    fn balances(
        &self,
        filter: &crate::ledger::EntryFilter,
    ) -> Result<BTreeMap<(Code, Currency), crate::ledger::Balance>> {
        let filter = crate::ledger::EntryFilter {
            order_id: None,
            ..filter.clone()
        };
        Ok(crate::ledger::balances(&self.ledger_entries(&filter)?))
    }

    /// The payouts the filter matches, newest first.
    fn payouts(&self, filter: &crate::ledger::PayoutFilter) -> Result<Vec<crate::ledger::Payout>>;

    /// The payout `id`.
    fn payout(&self, id: &str) -> Result<Option<crate::ledger::Payout>>;
}

/// The program's records: campaigns, partners, coupons, ads, keys and webhooks as the core's JSON, with a version that grows with every change.
pub trait ProgramRecords: Send + Sync {
    /// The program's version: it grows with every change of a program record
    /// ([`ProgramRecords::put_record`]), so a tracker polls it to know when to reload. 0 for a
    /// store without records.
    fn program_version(&self) -> Result<u64>;

    /// Writes a program record (the core's JSON of a campaign or partner) under
    /// `key`, durably, and bumps the program version in the same write. With
    /// `only_new`, an existing record is left as it is and `false` is returned (unless it
    /// is exactly this record). Writing a record exactly as stored changes nothing (not
    /// the version either) and returns `true`.
    fn put_record(&self, kind: RecordKind, key: &str, json: &str, only_new: bool) -> Result<bool>;

    /// Every record of `kind`, as `(key, json)`, in key order.
    fn records(&self, kind: RecordKind) -> Result<Vec<(String, String)>>;

    /// Replaces a program record only if it is exactly `expected` now (a
    /// compare-and-swap, so two servers changing one partner at once cannot lose a
    /// change): `true` when written (or already `json`), `false` and nothing changed
    /// otherwise, a missing record included.
    fn swap_record(&self, kind: RecordKind, key: &str, expected: &str, json: &str) -> Result<bool>;

    /// Removes a program record, durably, bumping the version; `false` (and nothing
    /// changed) when there is none.
    fn delete_record(&self, kind: RecordKind, key: &str) -> Result<bool>;

    /// Writes many program records (`Some(json)`) and removes others (`None`) as
    /// [`ProgramRecords::put_record`] and [`ProgramRecords::delete_record`] would, returning how many
    /// changed. Backends that can do it in one durable write (sled, PostgreSQL) do, so
    /// a configuration of 100,000 partners is applied in one fsync or transaction.
    fn put_records(&self, records: &[(RecordKind, String, Option<String>)]) -> Result<usize> {
        let mut changed = 0;
        for (kind, key, json) in records {
            let before = self.program_version()?;
            match json {
                Some(json) => {
                    self.put_record(*kind, key, json, false)?;
                }
                None => {
                    self.delete_record(*kind, key)?;
                }
            }
            changed += usize::from(self.program_version()? != before);
        }
        Ok(changed)
    }
}

/// The outbox of events and their deliveries to webhooks and partner postbacks.
pub trait Outbox: Send + Sync {
    /// Up to `max` of the oldest events in the outbox, with their sequence numbers.
    /// The writes that cause events (a conversion recorded or replaced, a status
    /// changed, payouts made or settled, a partner created) record them in the same
    /// durable write ([`Event`](crate::outbound::Event)).
    fn outbox(&self, max: usize) -> Result<Vec<(u64, crate::outbound::Event)>>;

    /// How many events wait in the outbox to be fanned out: an operator's outbox depth.
    /// The default reads them all; the stores count.
    fn outbox_len(&self) -> Result<u64> {
        Ok(self.outbox(usize::MAX)?.len() as u64)
    }

    /// Fans out events read with [`Outbox::outbox`]: for each `(sequence, deliveries)`
    /// whose event is still in the outbox, removes the event and writes its
    /// deliveries, all in one durable write. With several trackers on the store, an
    /// event is taken by one of them. Returns how many events were taken.
    fn fan_out(&self, planned: &[(u64, Vec<crate::outbound::Delivery>)]) -> Result<usize>;

    /// Up to `max` pending deliveries due at `now` ([`Delivery::due_at`](crate::outbound::Delivery::due_at)),
    /// soonest first.
    fn due_deliveries(&self, now: u64, max: usize) -> Result<Vec<crate::outbound::Delivery>>;

    /// The pending deliveries about `subject` ([`Delivery::subject`](crate::outbound::Delivery::subject)),
    /// any target, any due time: what a delivery of a later event about it waits for.
    /// The default reads every pending delivery; the stores keep an index.
    fn pending_about(&self, subject: &str) -> Result<Vec<crate::outbound::Delivery>> {
        Ok(self
            .due_deliveries(u64::MAX, usize::MAX)?
            .into_iter()
            .filter(|d| d.subject.as_deref() == Some(subject))
            .collect())
    }

    /// Replaces a delivery only if it is exactly `expected` now (compare and swap: a
    /// lease, an attempt's outcome, a retry by hand), durably: `false` and nothing
    /// changed otherwise.
    fn swap_delivery(
        &self,
        expected: &crate::outbound::Delivery,
        new: &crate::outbound::Delivery,
    ) -> Result<bool>;

    /// [`Outbox::swap_delivery`] for each pair, in order; backends that can do it in one
    /// write do. Whether each was swapped.
    fn swap_deliveries(
        &self,
        swaps: &[(crate::outbound::Delivery, crate::outbound::Delivery)],
    ) -> Result<Vec<bool>> {
        swaps
            .iter()
            .map(|(expected, new)| self.swap_delivery(expected, new))
            .collect()
    }

    /// The delivery `id`.
    fn delivery(&self, id: &str) -> Result<Option<crate::outbound::Delivery>>;

    /// A target's deliveries, newest first ([`DeliveryFilter`](crate::outbound::DeliveryFilter)).
    fn deliveries(
        &self,
        filter: &crate::outbound::DeliveryFilter,
    ) -> Result<Vec<crate::outbound::Delivery>>;
}

/// What housekeeping does to a store: pruning old clicks and deliveries, erasing a customer, and once-only claims that expire.
pub trait Maintenance: Send + Sync {
    /// Claims `key` in `scope` once, durably: `true` the first time, `false` for every
    /// later claim (from any tracker on the store). A claim may be forgotten once
    /// `expires` (Unix seconds) has passed; what it guards must be refused by then
    /// anyway (a sign-in link that expired). `now` is the time of the claim.
    fn claim_once(&self, scope: &str, key: &str, expires: u64, now: u64) -> Result<bool>;

    /// Erases a customer: removes its binding and sets `customer_id` to none in every
    /// conversion (replaced records included) and every outbound event and delivery
    /// body that carries it, durably. A later sale under the id binds anew. Running it
    /// again finds nothing.
    fn erase_customer(&self, customer_id: &str) -> Result<Erased>;

    /// Removes up to `max` click records made before `before` (Unix seconds), and the
    /// per-click conversion counts and daily-cap tallies of those days; the day
    /// counters (and so every report) stay. Returns how many clicks were removed.
    fn prune_clicks(&self, before: u64, max: usize) -> Result<usize>;

    /// Removes up to `max` deliveries that are over (delivered or failed) and were made
    /// before `before` (Unix seconds), with their requests; pending ones stay whatever
    /// their age. Returns how many were removed.
    fn prune_deliveries(&self, before: u64, max: usize) -> Result<usize>;
}
