//! [`MemoryStore`]: everything in one mutex-guarded map set; nothing survives the process.

use std::collections::{BTreeMap, HashMap};
use std::sync::{Mutex, MutexGuard, PoisonError};

use super::limits::{SidCap, StoreLimits};
use super::{
    Binding, ClickRecord, CounterKey, Counters, ImpressionRecord, Inserted, RecordKind,
    StatusChange, Store, day_of, takes_binding,
};
use crate::attribution::{Conversion, Status};
use crate::click_id::ClickId;
use crate::code::Code;
use crate::error::Result;
use crate::ledger::{Entry, EntryFilter, apply_status, entries_of};

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
    records: BTreeMap<(RecordKind, String), String>,
    program_version: u64,
    /// Each order's ledger entries.
    ledger: HashMap<String, Vec<Entry>>,
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
    fn record_click(&self, click: &ClickRecord) -> Result<()> {
        let mut g = self.lock();
        g.clicks.insert(click.click_id, *click);
        let day = day_of(click.at);
        let key = CounterKey {
            day,
            link: g.sids.cap(click.link, day),
            currency: click.currency,
        };
        g.counters
            .entry(key)
            .or_default()
            .add(&Counters::of_click(click));
        Ok(())
    }

    fn record_impression(&self, i: &ImpressionRecord) -> Result<()> {
        let mut g = self.lock();
        let day = day_of(i.at);
        let key = CounterKey {
            day,
            link: g.sids.cap(i.link, day),
            currency: i.currency,
        };
        g.counters
            .entry(key)
            .or_default()
            .add(&Counters::of_impression(i));
        Ok(())
    }

    fn click(&self, id: ClickId) -> Result<Option<ClickRecord>> {
        Ok(self.lock().clicks.get(&id).copied())
    }

    fn insert_conversion(
        &self,
        conversion: &Conversion,
        binding: Option<&Binding>,
        per_click_cap: Option<u32>,
    ) -> Result<Inserted> {
        let mut g = self.lock();
        // Under one lock: every write or none.
        let replaced = match g.conversions.get(&conversion.order_id) {
            Some(existing) if existing.replaceable_by(conversion) => Some(existing.clone()),
            Some(existing) => return Ok(Inserted::Existing(Box::new(existing.clone()))),
            None => None,
        };
        if let (None, Some(cap), Some(click)) = (&replaced, per_click_cap, conversion.click_id) {
            let made = g.per_click.entry(click).or_default();
            if *made >= cap {
                return Ok(Inserted::CapReached);
            }
            *made += 1;
        }
        if let (Some(b), Some(customer)) = (binding, &conversion.customer_id)
            && takes_binding(g.customers.get(customer), replaced.as_ref())
        {
            g.customers.insert(customer.clone(), *b);
        }
        let mut c = conversion.clone();
        c.duplicate = false;
        c.replaced = false;
        // The ledger with it: a replaced record's entries go with the record.
        g.ledger.insert(c.order_id.clone(), entries_of(&c));
        g.conversions.insert(c.order_id.clone(), c);
        Ok(match replaced {
            Some(old) => {
                g.replaced
                    .entry(old.order_id.clone())
                    .or_default()
                    .push(old.clone());
                Inserted::Replaced(Box::new(old))
            }
            None => Inserted::New,
        })
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

    fn set_status(
        &self,
        order_id: &str,
        from: Status,
        to: Status,
        at: u64,
    ) -> Result<StatusChange> {
        let mut g = self.lock();
        let changed = match g.conversions.get_mut(order_id) {
            None => return Ok(StatusChange::Missing),
            Some(c) if c.status == from => {
                c.status = to;
                c.clone()
            }
            Some(c) => return Ok(StatusChange::Unchanged(c.clone())),
        };
        let mine = g.ledger.entry(order_id.to_owned()).or_default();
        let clawbacks = apply_status(mine, to, at);
        mine.extend(clawbacks);
        Ok(StatusChange::Changed(changed))
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

    fn customer(&self, customer_id: &str) -> Result<Option<Binding>> {
        Ok(self.lock().customers.get(customer_id).copied())
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
