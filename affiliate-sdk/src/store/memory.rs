//! [`MemoryStore`]: everything in one mutex-guarded map set; nothing survives the process.

mod inner;
mod tx;

use crate::store::{ClickSink, ConversionReads, LedgerReads, Maintenance, Outbox, ProgramRecords};
use std::collections::BTreeMap;
use std::sync::{Mutex, MutexGuard, PoisonError};

use self::inner::Inner;
use self::tx::MemoryTx;
use super::TxFn;
use super::caps;
use super::erase::{Erased, erase_json};
use super::limits::{SidCap, StoreLimits};
use super::{
    Bindings, BotClickRecord, ClickRecord, CounterKey, Counters, ImpressionRecord, RecordKind,
    Store, day_of,
};
use crate::click_id::ClickId;
use crate::code::Code;
use crate::error::Result;
use crate::ledger::{Entry, EntryFilter, Payout, PayoutFilter, newest_first};
use crate::outbound::{Delivery, DeliveryFilter, Event, EventKind, EventObject};
use crate::records::Conversion;

/// A [`Store`] in memory, for tests, wasm and short-lived tools. "Durable" here means
/// "recorded in this process": a restart loses everything. It has no buffer (so drops
/// nothing, and nothing bounds it but the sids a day's counters keep).
#[derive(Debug, Default)]
pub struct MemoryStore {
    inner: Mutex<Inner>,
}

impl MemoryStore {
    /// An empty store with the default limits.
    #[must_use]
    pub fn new() -> MemoryStore {
        MemoryStore::with_limits(&StoreLimits::default())
    }

    /// An empty store whose counters keep at most `limits.max_sids_per_day` sids per
    /// campaign, partner and day.
    #[must_use]
    pub fn with_limits(limits: &StoreLimits) -> MemoryStore {
        MemoryStore {
            inner: Mutex::new(Inner {
                sids: SidCap::new(limits),
                ..Inner::default()
            }),
        }
    }

    fn lock(&self) -> MutexGuard<'_, Inner> {
        // A panic elsewhere while holding the lock leaves the maps consistent (every
        // change below is a single insert), so a poisoned lock is still usable.
        self.inner.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

impl Store for MemoryStore {
    fn transact(&self, f: &mut TxFn<'_>) -> Result<()> {
        let mut g = self.lock();
        let mut tx = MemoryTx {
            g: &mut g,
            undo: Vec::new(),
        };
        let done = f(&mut tx);
        if done.is_err() {
            tx.roll_back();
        }
        done
    }
}

impl ClickSink for MemoryStore {
    fn record_click(&self, click: &ClickRecord) -> Result<()> {
        let mut g = self.lock();
        g.clicks.insert(click.click_id, *click);
        let key = g.count(
            click.link,
            click.at,
            click.currency,
            &Counters::of_click(click),
        );
        let mut owed = caps::Owed::new();
        if caps::owe_click(&mut owed, key, click) {
            g.settle(&owed);
        }
        Ok(())
    }

    fn record_impression(&self, i: &ImpressionRecord) -> Result<()> {
        let mut g = self.lock();
        let key = g.count(i.link, i.at, i.currency, &Counters::of_impression(i));
        let mut owed = caps::Owed::new();
        if caps::owe_impression(&mut owed, key, i) {
            g.settle(&owed);
        }
        Ok(())
    }

    fn record_bot_click(&self, b: &BotClickRecord) -> Result<()> {
        self.lock()
            .count(b.link, b.at, b.currency, &Counters::of_bot_click());
        Ok(())
    }

    fn click(&self, id: ClickId) -> Result<Option<ClickRecord>> {
        Ok(self.lock().clicks.get(&id).copied())
    }

    fn counters(
        &self,
        from_day: u32,
        to_day: u32,
        campaign: Option<&Code>,
    ) -> Result<BTreeMap<CounterKey, Counters>> {
        Ok(self
            .lock()
            .counters
            .iter()
            .filter(|(k, _)| {
                (from_day..=to_day).contains(&k.day)
                    && campaign.is_none_or(|c| *c == k.link.campaign)
            })
            .map(|(k, v)| (*k, *v))
            .collect())
    }

    fn flush(&self) -> Result<()> {
        Ok(())
    }
}

impl ConversionReads for MemoryStore {
    fn replaced_conversions(&self, order_id: &str) -> Result<Vec<Conversion>> {
        Ok(self
            .lock()
            .replaced
            .get(order_id)
            .cloned()
            .unwrap_or_default())
    }

    fn conversion(&self, order_id: &str) -> Result<Option<Conversion>> {
        Ok(self.lock().conversions.get(order_id).cloned())
    }

    fn customer(&self, customer_id: &str) -> Result<Bindings> {
        Ok(self
            .lock()
            .customers
            .get(customer_id)
            .cloned()
            .unwrap_or_default())
    }

    fn conversions(&self, from_day: u32, to_day: u32) -> Result<Vec<Conversion>> {
        Ok(self
            .lock()
            .conversions
            .values()
            .filter(|c| (from_day..=to_day).contains(&day_of(c.converted_at)))
            .cloned()
            .collect())
    }

    fn pending_due(
        &self,
        campaign: &Code,
        made_by: u64,
        after: Option<(u64, &str)>,
        max: usize,
    ) -> Result<Vec<Conversion>> {
        // A scan: the memory store holds what a test or a short-lived tool makes.
        let mut due: Vec<Conversion> = self
            .lock()
            .conversions
            .values()
            .filter(|c| {
                c.status == crate::records::Status::Pending
                    && c.link.campaign == *campaign
                    && c.converted_at <= made_by
                    && after.is_none_or(|(at, id)| (c.converted_at, c.order_id.as_str()) > (at, id))
            })
            .cloned()
            .collect();
        due.sort_by(|a, b| (a.converted_at, &a.order_id).cmp(&(b.converted_at, &b.order_id)));
        due.truncate(max);
        Ok(due)
    }
}

impl LedgerReads for MemoryStore {
    fn ledger_entries(&self, filter: &EntryFilter) -> Result<Vec<Entry>> {
        let g = self.lock();
        let mut out: Vec<Entry> = match &filter.order_id {
            Some(o) => g.ledger.get(o).cloned().unwrap_or_default(),
            None => g.ledger.values().flatten().cloned().collect(),
        };
        out.retain(|e| filter.matches(e));
        out.sort_by(|a, b| a.id.cmp(&b.id));
        Ok(out)
    }

    fn payouts(&self, filter: &PayoutFilter) -> Result<Vec<Payout>> {
        let g = self.lock();
        let mut out: Vec<Payout> = g
            .payouts
            .values()
            .filter(|p| filter.matches(p))
            .cloned()
            .collect();
        newest_first(&mut out);
        Ok(out)
    }

    fn payout(&self, id: &str) -> Result<Option<Payout>> {
        Ok(self.lock().payouts.get(id).cloned())
    }
}

impl ProgramRecords for MemoryStore {
    fn program_version(&self) -> Result<u64> {
        Ok(self.lock().program_version)
    }

    fn put_record(&self, kind: RecordKind, key: &str, json: &str, only_new: bool) -> Result<bool> {
        let mut g = self.lock();
        let slot = (kind, key.to_owned());
        match g.records.get(&slot) {
            // The same record again (a config applied at every start): nothing to do.
            Some(same) if same == json => return Ok(true),
            Some(_) if only_new => return Ok(false),
            None if only_new && kind == RecordKind::Partner => g.push(Event {
                kind: EventKind::PartnerCreated,
                at: crate::clock::Clock::now(&crate::clock::SystemClock),
                object: EventObject::Partner(json.to_owned()),
            }),
            _ => {}
        }
        g.records.insert(slot, json.to_owned());
        g.program_version += 1;
        Ok(true)
    }

    fn swap_record(&self, kind: RecordKind, key: &str, expected: &str, json: &str) -> Result<bool> {
        let mut g = self.lock();
        let slot = (kind, key.to_owned());
        match g.records.get(&slot) {
            Some(current) if current == json => Ok(true),
            Some(current) if current == expected => {
                g.records.insert(slot, json.to_owned());
                g.program_version += 1;
                Ok(true)
            }
            _ => Ok(false),
        }
    }

    fn delete_record(&self, kind: RecordKind, key: &str) -> Result<bool> {
        let mut g = self.lock();
        if g.records.remove(&(kind, key.to_owned())).is_none() {
            return Ok(false);
        }
        g.program_version += 1;
        Ok(true)
    }

    fn records(&self, kind: RecordKind) -> Result<Vec<(String, String)>> {
        Ok(self
            .lock()
            .records
            .iter()
            .filter(|((k, _), _)| *k == kind)
            .map(|((_, key), json)| (key.clone(), json.clone()))
            .collect())
    }
}

impl Outbox for MemoryStore {
    fn outbox(&self, max: usize) -> Result<Vec<(u64, Event)>> {
        let g = self.lock();
        Ok(g.outbox
            .iter()
            .take(max)
            .map(|(k, e)| (*k, e.clone()))
            .collect())
    }

    fn outbox_len(&self) -> Result<u64> {
        Ok(self.lock().outbox.len() as u64)
    }

    fn fan_out(&self, planned: &[(u64, Vec<Delivery>)]) -> Result<usize> {
        let mut g = self.lock();
        let mut taken = 0;
        for (seq, ds) in planned {
            if g.outbox.remove(seq).is_some() {
                taken += 1;
                for d in ds {
                    g.deliveries.insert(d.id.clone(), d.clone());
                }
            }
        }
        Ok(taken)
    }

    fn due_deliveries(&self, now: u64, max: usize) -> Result<Vec<Delivery>> {
        let g = self.lock();
        let mut due: Vec<Delivery> = g
            .deliveries
            .values()
            .filter(|d| d.due_at().is_some_and(|at| at <= now))
            .cloned()
            .collect();
        due.sort_by_key(|d| (d.due_at(), d.id.clone()));
        due.truncate(max);
        Ok(due)
    }

    fn swap_delivery(&self, expected: &Delivery, new: &Delivery) -> Result<bool> {
        let mut g = self.lock();
        match g.deliveries.get_mut(&expected.id) {
            Some(d) if d == expected && new.id == expected.id => {
                *d = new.clone();
                Ok(true)
            }
            _ => Ok(false),
        }
    }

    fn delivery(&self, id: &str) -> Result<Option<Delivery>> {
        Ok(self.lock().deliveries.get(id).cloned())
    }

    fn deliveries(&self, filter: &DeliveryFilter) -> Result<Vec<Delivery>> {
        let g = self.lock();
        let mut out: Vec<Delivery> = g
            .deliveries
            .values()
            .filter(|d| filter.matches(d))
            .cloned()
            .collect();
        crate::outbound::newest_first(&mut out);
        out.truncate(filter.limit);
        Ok(out)
    }
}

impl Maintenance for MemoryStore {
    fn claim_once(&self, scope: &str, key: &str, expires: u64, now: u64) -> Result<bool> {
        let mut g = self.lock();
        if g.claims.len() >= 1024 && g.claims.len().is_power_of_two() {
            g.claims.retain(|_, until| *until > now);
        }
        let slot = (scope.to_owned(), key.to_owned());
        if g.claims.contains_key(&slot) {
            return Ok(false);
        }
        g.claims.insert(slot, expires);
        Ok(true)
    }

    fn erase_customer(&self, customer_id: &str) -> Result<Erased> {
        let mut g = self.lock();
        let mut erased = Erased {
            bindings: usize::from(g.customers.remove(customer_id).is_some()),
            ..Erased::default()
        };
        let inner = &mut *g;
        let records = inner
            .conversions
            .values_mut()
            .chain(inner.replaced.values_mut().flatten());
        for c in records {
            if c.customer_id.as_deref() == Some(customer_id) {
                c.customer_id = None;
                erased.conversions += 1;
            }
        }
        for event in inner.outbox.values_mut() {
            if let EventObject::Conversion(c) = &mut event.object
                && c.customer_id.as_deref() == Some(customer_id)
            {
                c.customer_id = None;
                erased.events += 1;
            }
        }
        for d in inner.deliveries.values_mut() {
            if let Some(body) = erase_json(d.request.as_bytes(), customer_id) {
                d.request = String::from_utf8(body).unwrap_or_default();
                erased.events += 1;
            }
        }
        Ok(erased)
    }

    fn prune_clicks(&self, before: u64, max: usize) -> Result<usize> {
        let mut g = self.lock();
        let old: Vec<ClickId> = g
            .clicks
            .values()
            .filter(|c| c.at < before)
            .map(|c| c.click_id)
            .take(max)
            .collect();
        for id in &old {
            g.clicks.remove(id);
        }
        let before_ms = before.saturating_mul(1000);
        g.per_click.retain(|id, _| id.unix_millis() >= before_ms);
        let day = day_of(before);
        g.tallies.retain(|t, _| t.day >= day);
        Ok(old.len())
    }

    fn prune_deliveries(&self, before: u64, max: usize) -> Result<usize> {
        let mut g = self.lock();
        let over: Vec<String> = g
            .deliveries
            .values()
            .filter(|d| d.due_at().is_none() && d.created < before)
            .take(max)
            .map(|d| d.id.clone())
            .collect();
        for id in &over {
            g.deliveries.remove(id);
        }
        Ok(over.len())
    }
}
