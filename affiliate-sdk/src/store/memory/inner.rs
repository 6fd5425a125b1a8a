//! The memory store's state: every map, behind the store's one lock.

use std::collections::{BTreeMap, HashMap};

use crate::click_id::ClickId;
use crate::ledger::{Entry, Payout};
use crate::link::Link;
use crate::money::Currency;
use crate::outbound::{Delivery, Event};
use crate::port::PayoutRun;
use crate::records::Conversion;
use crate::store::caps;
use crate::store::limits::SidCap;
use crate::store::{Bindings, ClickRecord, CounterKey, Counters, RecordKind, day_of};

#[derive(Debug, Default)]
pub(super) struct Inner {
    pub(super) clicks: HashMap<ClickId, ClickRecord>,
    pub(super) counters: BTreeMap<CounterKey, Counters>,
    pub(super) conversions: HashMap<String, Conversion>,
    pub(super) customers: HashMap<String, Bindings>,
    pub(super) replaced: HashMap<String, Vec<Conversion>>,
    pub(super) per_click: HashMap<ClickId, u32>,
    pub(super) sids: SidCap,
    /// What each partner was paid under a daily cap.
    pub(super) tallies: HashMap<caps::Tally, u64>,
    pub(super) records: BTreeMap<(RecordKind, String), String>,
    pub(super) program_version: u64,
    /// Each order's ledger entries.
    pub(super) ledger: HashMap<String, Vec<Entry>>,
    pub(super) payouts: HashMap<String, Payout>,
    /// Each idempotency key's run.
    pub(super) payout_runs: HashMap<String, PayoutRun>,
    /// Claims made once (`claim_once`), with when they may be forgotten.
    pub(super) claims: HashMap<(String, String), u64>,
    /// The outbox, by sequence number, and the last number given.
    pub(super) outbox: BTreeMap<u64, Event>,
    pub(super) outbox_seq: u64,
    pub(super) deliveries: BTreeMap<String, Delivery>,
}

impl Inner {
    /// Adds `delta` to the day's counters of `link` (its sid capped); returns the key.
    pub(super) fn count(
        &mut self,
        link: Link,
        at: u64,
        currency: Currency,
        delta: &Counters,
    ) -> CounterKey {
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
    pub(super) fn settle(&mut self, owed: &caps::Owed) {
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

    pub(super) fn push(&mut self, event: Event) {
        self.outbox_seq += 1;
        self.outbox.insert(self.outbox_seq, event);
    }
}
