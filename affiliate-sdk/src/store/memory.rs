//! [`MemoryStore`]: everything in one mutex-guarded map set; nothing survives the process.

use std::collections::{BTreeMap, HashMap};
use std::sync::{Mutex, MutexGuard, PoisonError};

use super::caps;
use super::erase::{Erased, erase_json};
use super::limits::{SidCap, StoreLimits};
use super::tx::{ConversionRow, EventRow, PayoutRun, Tx, TxFn};
use super::{
    Binding, BotClickRecord, ClickRecord, CounterKey, Counters, ImpressionRecord, RecordKind,
    Store, day_of,
};
use crate::attribution::Conversion;
use crate::click_id::ClickId;
use crate::code::Code;
use crate::error::Result;
use crate::ledger::{Entry, EntryFilter, EntryState, Payout, PayoutFilter, newest_first};
use crate::link::Link;
use crate::money::Currency;
use crate::outbound::{Delivery, DeliveryFilter, Event, EventKind, EventObject};

/// One change a [`MemoryTx`] made, with what it changed (undone in reverse order when
/// the transaction fails).
#[derive(Debug)]
enum Undo {
    Conversion(String, Option<Conversion>),
    Replaced(String),
    PerClick(ClickId, Option<u32>),
    Customer(String, Option<Binding>),
    Ledger(String, Option<Vec<Entry>>),
    Payout(String, Option<Payout>),
    Run(String, Option<PayoutRun>),
    Outbox(u64),
}

/// The memory store's transaction: its lock, and an undo log so that a failed
/// transaction leaves nothing behind.
struct MemoryTx<'a> {
    g: &'a mut Inner,
    undo: Vec<Undo>,
}

impl MemoryTx<'_> {
    fn roll_back(&mut self) {
        let g = &mut *self.g;
        while let Some(u) = self.undo.pop() {
            match u {
                Undo::Conversion(k, v) => restore(&mut g.conversions, k, v),
                Undo::Replaced(k) => {
                    if let Some(list) = g.replaced.get_mut(&k) {
                        list.pop();
                        if list.is_empty() {
                            g.replaced.remove(&k);
                        }
                    }
                }
                Undo::PerClick(k, v) => restore(&mut g.per_click, k, v),
                Undo::Customer(k, v) => restore(&mut g.customers, k, v),
                Undo::Ledger(k, v) => restore(&mut g.ledger, k, v),
                Undo::Payout(k, v) => restore(&mut g.payouts, k, v),
                Undo::Run(k, v) => restore(&mut g.payout_runs, k, v),
                Undo::Outbox(seq) => {
                    g.outbox.remove(&seq);
                    g.outbox_seq = seq - 1;
                }
            }
        }
    }

    fn save_order(&mut self, order_id: &str) {
        self.undo.push(Undo::Ledger(
            order_id.to_owned(),
            self.g.ledger.get(order_id).cloned(),
        ));
    }
}

fn restore<K: std::hash::Hash + Eq, V>(map: &mut HashMap<K, V>, k: K, v: Option<V>) {
    match v {
        Some(v) => map.insert(k, v),
        None => map.remove(&k),
    };
}

impl Tx for MemoryTx<'_> {
    fn conversion(&mut self, order_id: &str) -> Result<Option<Conversion>> {
        Ok(self.g.conversions.get(order_id).cloned())
    }

    fn insert_conversion(&mut self, row: ConversionRow<'_>) -> Result<()> {
        let c = row.record.clone();
        let old = self.g.conversions.insert(c.order_id.clone(), c);
        self.undo
            .push(Undo::Conversion(row.record.order_id.clone(), old));
        Ok(())
    }

    fn update_conversion(&mut self, _old: &Conversion, row: ConversionRow<'_>) -> Result<()> {
        let c = row.record.clone();
        let old = self.g.conversions.insert(c.order_id.clone(), c);
        self.undo
            .push(Undo::Conversion(row.record.order_id.clone(), old));
        Ok(())
    }

    fn keep_replaced(&mut self, old: &Conversion) -> Result<()> {
        self.g
            .replaced
            .entry(old.order_id.clone())
            .or_default()
            .push(old.clone());
        self.undo.push(Undo::Replaced(old.order_id.clone()));
        Ok(())
    }

    fn last_replaced(&mut self, order_id: &str) -> Result<Option<Conversion>> {
        Ok(self
            .g
            .replaced
            .get(order_id)
            .and_then(|l| l.last().cloned()))
    }

    fn count_click_conversion(&mut self, click: ClickId, cap: u32) -> Result<bool> {
        let made = self.g.per_click.get(&click).copied();
        if made.unwrap_or(0) >= cap {
            return Ok(false);
        }
        self.g.per_click.insert(click, made.unwrap_or(0) + 1);
        self.undo.push(Undo::PerClick(click, made));
        Ok(true)
    }

    fn customer(&mut self, customer_id: &str) -> Result<Option<Binding>> {
        Ok(self.g.customers.get(customer_id).copied())
    }

    fn put_customer(&mut self, customer_id: &str, binding: &Binding) -> Result<()> {
        let old = self.g.customers.insert(customer_id.to_owned(), *binding);
        self.undo.push(Undo::Customer(customer_id.to_owned(), old));
        Ok(())
    }

    fn order_entries(&mut self, conversion: &Conversion) -> Result<Vec<Entry>> {
        Ok(self
            .g
            .ledger
            .get(&conversion.order_id)
            .cloned()
            .unwrap_or_default())
    }

    fn remove_order_entries(&mut self, conversion: &Conversion) -> Result<()> {
        let old = self.g.ledger.remove(&conversion.order_id);
        self.undo
            .push(Undo::Ledger(conversion.order_id.clone(), old));
        Ok(())
    }

    fn put_entries(&mut self, entries: &[Entry]) -> Result<()> {
        for e in entries {
            self.save_order(&e.id.order_id);
            let mine = self.g.ledger.entry(e.id.order_id.clone()).or_default();
            match mine.iter_mut().find(|x| x.id == e.id) {
                Some(slot) => *slot = e.clone(),
                None => mine.push(e.clone()),
            }
        }
        Ok(())
    }

    fn payable_entries(
        &mut self,
        partner: Option<Code>,
        currency: Option<Currency>,
    ) -> Result<Vec<Entry>> {
        let mut out: Vec<Entry> = self
            .g
            .ledger
            .values()
            .flatten()
            .filter(|e| {
                e.state == EntryState::Payable
                    && partner.is_none_or(|p| e.partner == p)
                    && currency.is_none_or(|c| e.currency == c)
            })
            .cloned()
            .collect();
        out.sort_by(|a, b| a.id.cmp(&b.id));
        Ok(out)
    }

    fn claim_payout_run(&mut self, key: &str, fingerprint: &str) -> Result<Option<PayoutRun>> {
        if let Some(run) = self.g.payout_runs.get(key) {
            return Ok(Some(run.clone()));
        }
        let run = PayoutRun {
            fingerprint: fingerprint.to_owned(),
            payouts: Vec::new(),
        };
        self.g.payout_runs.insert(key.to_owned(), run);
        self.undo.push(Undo::Run(key.to_owned(), None));
        Ok(None)
    }

    fn finish_payout_run(&mut self, key: &str, run: &PayoutRun) -> Result<()> {
        let old = self.g.payout_runs.insert(key.to_owned(), run.clone());
        self.undo.push(Undo::Run(key.to_owned(), old));
        Ok(())
    }

    fn payout(&mut self, id: &str) -> Result<Option<Payout>> {
        Ok(self.g.payouts.get(id).cloned())
    }

    fn put_payout(&mut self, payout: &Payout) -> Result<()> {
        let old = self.g.payouts.insert(payout.id.clone(), payout.clone());
        self.undo.push(Undo::Payout(payout.id.clone(), old));
        Ok(())
    }

    fn push_event(&mut self, event: EventRow<'_>) -> Result<()> {
        self.g.push(event.event.clone());
        self.undo.push(Undo::Outbox(self.g.outbox_seq));
        Ok(())
    }
}

/// A [`Store`] in memory, for tests, wasm and short-lived tools. "Durable" here means
/// "recorded in this process": a restart loses everything. It has no buffer (so drops
/// nothing, and nothing bounds it but the sids a day's counters keep).
#[derive(Debug, Default)]
pub struct MemoryStore {
    inner: Mutex<Inner>,
}

#[derive(Debug, Default)]
struct Inner {
    clicks: HashMap<ClickId, ClickRecord>,
    counters: BTreeMap<CounterKey, Counters>,
    conversions: HashMap<String, Conversion>,
    customers: HashMap<String, Binding>,
    replaced: HashMap<String, Vec<Conversion>>,
    per_click: HashMap<ClickId, u32>,
    sids: SidCap,
    /// What each partner was paid under a daily cap.
    tallies: HashMap<caps::Tally, u64>,
    records: BTreeMap<(RecordKind, String), String>,
    program_version: u64,
    /// Each order's ledger entries.
    ledger: HashMap<String, Vec<Entry>>,
    payouts: HashMap<String, Payout>,
    /// Each idempotency key's run.
    payout_runs: HashMap<String, PayoutRun>,
    /// Claims made once (`claim_once`), with when they may be forgotten.
    claims: HashMap<(String, String), u64>,
    /// The outbox, by sequence number, and the last number given.
    outbox: BTreeMap<u64, Event>,
    outbox_seq: u64,
    deliveries: BTreeMap<String, Delivery>,
}

impl Inner {
    /// Adds `delta` to the day's counters of `link` (its sid capped); returns the key.
    fn count(&mut self, link: Link, at: u64, currency: Currency, delta: &Counters) -> CounterKey {
        let day = day_of(at);
        let key = CounterKey {
            day,
            link: self.sids.cap(link, day),
            currency,
        };
        self.counters.entry(key).or_default().add(delta);
        key
    }

    /// Pays what `owed` asks under the daily caps.
    fn settle(&mut self, owed: &caps::Owed) {
        let tallies = &mut self.tallies;
        let earned = caps::settle(owed, |tally, cap, want| {
            let paid = tallies.entry(tally.clone()).or_insert(0);
            let n = caps::grantable(*paid, cap, want);
            *paid += n;
            Ok::<_, std::convert::Infallible>(n)
        });
        let Ok(earned) = earned;
        for (key, delta) in earned {
            self.counters.entry(key).or_default().add(&delta);
        }
    }

    fn push(&mut self, event: Event) {
        self.outbox_seq += 1;
        self.outbox.insert(self.outbox_seq, event);
    }
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

    fn customer(&self, customer_id: &str) -> Result<Option<Binding>> {
        Ok(self.lock().customers.get(customer_id).copied())
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

    fn conversions(&self, from_day: u32, to_day: u32) -> Result<Vec<Conversion>> {
        Ok(self
            .lock()
            .conversions
            .values()
            .filter(|c| (from_day..=to_day).contains(&day_of(c.converted_at)))
            .cloned()
            .collect())
    }

    fn pending_due(&self, campaign: &Code, made_by: u64, max: usize) -> Result<Vec<Conversion>> {
        // A scan: the memory store holds what a test or a short-lived tool makes.
        let mut due: Vec<Conversion> = self
            .lock()
            .conversions
            .values()
            .filter(|c| {
                c.status == crate::attribution::Status::Pending
                    && c.link.campaign == *campaign
                    && c.converted_at <= made_by
            })
            .cloned()
            .collect();
        due.sort_by(|a, b| (a.converted_at, &a.order_id).cmp(&(b.converted_at, &b.order_id)));
        due.truncate(max);
        Ok(due)
    }

    fn flush(&self) -> Result<()> {
        Ok(())
    }

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
