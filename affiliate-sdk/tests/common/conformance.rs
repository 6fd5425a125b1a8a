//! The store conformance suite: one set of behaviours every `Store` must show, through
//! the store itself and through a `Tracker` over it.
//!
//! `store_conformance!(name, factory)` expands to a module of tests; `factory()` returns
//! `(Arc<dyn Store>, guard)` where the guard keeps the backing resources (a temporary
//! directory, a database) alive for the test.

use affiliate_sdk::store::{
    ClickSink, ConversionReads, LedgerReads, Maintenance, Outbox, ProgramRecords,
};
use std::sync::Arc;

use affiliate_sdk::ledger::{Entry, Payout};
use affiliate_sdk::store::{
    Bindings, ClickRecord, ConversionRow, CounterKey, Counters, EventRow, ImpressionRecord,
    PayoutRun, Tx,
};
use affiliate_sdk::{CampaignSpec, Clock, FixedClock, LinkSigner, PartnerSpec, Store, Tracker};
use affiliate_sdk::{ClickId, Conversion};

pub const T0: u64 = 1_700_000_000;
pub const DAY: u64 = 86_400;
pub const BASE: &str = "https://t.shop.example/go";

/// A tracker at `T0` over `store`, with campaign `haircare` (USD, 10% of sales, 2.00
/// per lead, 0.05 per click, 1.50 per mille, overrides 10% and 5%, 28 days, last
/// click), campaign `skincare` (EUR, flat 5.00 per sale, first click, 7 days, 60 s
/// minimum, 12 recurring months), and partners `boss` ← `mid` ← `abc123` (coupon
/// `ABC10`) and `solo`. Campaign `beauty` (USD, 10% of sales) takes unsigned browser
/// conversions (`open`) up to 100.00, at most 3 per click.
pub fn tracker(store: Arc<dyn Store>) -> (Tracker, Arc<FixedClock>) {
    let ring = super::vector_keyring();
    let signer = LinkSigner::new(ring, BASE).unwrap();
    let clock = Arc::new(FixedClock::from_secs(T0));
    let t = Tracker::new(signer, store).with_clock(clock.clone() as Arc<dyn Clock>);
    let mut hair = CampaignSpec::new("haircare", "https://shop.example/hair?ref=x", "USD");
    hair.cookie_days = 28;
    hair.sale_percent = Some("10".into());
    hair.lead_flat = Some("2.00".into());
    hair.click_flat = Some("0.05".into());
    hair.impression_per_mille = Some("1.50".into());
    hair.override_percents = vec!["10".into(), "5".into()];
    t.add_campaign(&hair).unwrap();
    let mut skin = CampaignSpec::new("skincare", "https://shop.example/skin", "EUR");
    skin.cookie_days = 7;
    skin.sale_flat = Some("5.00".into());
    skin.attribution = affiliate_sdk::Attribution::First;
    skin.min_seconds_to_convert = 60;
    skin.recurring_months = 12;
    t.add_campaign(&skin).unwrap();
    let mut beauty = CampaignSpec::new("beauty", "https://shop.example/beauty", "USD");
    beauty.sale_percent = Some("10".into());
    beauty.browser_conversions = affiliate_sdk::BrowserConversions::Open;
    beauty.max_browser_amount = Some("100.00".into());
    t.add_campaign(&beauty).unwrap();
    t.add_partner(&PartnerSpec::new("boss")).unwrap();
    let mut mid = PartnerSpec::new("mid");
    mid.parent = Some("boss".into());
    t.add_partner(&mid).unwrap();
    let mut abc = PartnerSpec::new("abc123");
    abc.parent = Some("mid".into());
    abc.coupons = vec!["ABC10".into()];
    t.add_partner(&abc).unwrap();
    t.add_partner(&PartnerSpec::new("solo")).unwrap();
    (t, clock)
}

/// A store that "crashes" after `writes` durable writes: every later conversion,
/// binding or status write fails before reaching `inner`, as if the process had died
/// there. Reads and click counters pass through.
pub struct CrashAfterWrites {
    pub inner: Arc<dyn Store>,
    pub writes: std::sync::atomic::AtomicUsize,
    /// How many operations of the port a transaction may do before the next one fails
    /// (a failure injected between two operations); `usize::MAX`: never.
    pub ops: std::sync::atomic::AtomicUsize,
}

/// The port of an inner transaction whose operations fail once `left` runs out.
struct FailingTx<'a> {
    inner: &'a mut dyn Tx,
    left: &'a std::sync::atomic::AtomicUsize,
}

impl FailingTx<'_> {
    fn tick(&self) -> affiliate_sdk::Result<()> {
        use std::sync::atomic::Ordering::SeqCst;
        self.left
            .fetch_update(SeqCst, SeqCst, |n| n.checked_sub(1))
            .map(|_| ())
            .map_err(|_| affiliate_sdk::Error::Store("failed between two operations".into()))
    }
}

impl Tx for FailingTx<'_> {
    fn retrying(&self) -> bool {
        self.inner.retrying()
    }
    fn conversion(&mut self, o: &str) -> affiliate_sdk::Result<Option<Conversion>> {
        self.tick()?;
        self.inner.conversion(o)
    }
    fn insert_conversion(&mut self, row: ConversionRow<'_>) -> affiliate_sdk::Result<()> {
        self.tick()?;
        self.inner.insert_conversion(row)
    }
    fn update_conversion(
        &mut self,
        old: &Conversion,
        row: ConversionRow<'_>,
    ) -> affiliate_sdk::Result<()> {
        self.tick()?;
        self.inner.update_conversion(old, row)
    }
    fn keep_replaced(&mut self, old: &Conversion) -> affiliate_sdk::Result<()> {
        self.tick()?;
        self.inner.keep_replaced(old)
    }
    fn last_replaced(&mut self, o: &str) -> affiliate_sdk::Result<Option<Conversion>> {
        self.tick()?;
        self.inner.last_replaced(o)
    }
    fn count_click_conversion(&mut self, click: ClickId, cap: u32) -> affiliate_sdk::Result<bool> {
        self.tick()?;
        self.inner.count_click_conversion(click, cap)
    }
    fn customer(&mut self, id: &str) -> affiliate_sdk::Result<Bindings> {
        self.tick()?;
        self.inner.customer(id)
    }
    fn put_customer(&mut self, id: &str, b: &Bindings) -> affiliate_sdk::Result<()> {
        self.tick()?;
        self.inner.put_customer(id, b)
    }
    fn order_entries(&mut self, c: &Conversion) -> affiliate_sdk::Result<Vec<Entry>> {
        self.tick()?;
        self.inner.order_entries(c)
    }
    fn remove_order_entries(&mut self, c: &Conversion) -> affiliate_sdk::Result<()> {
        self.tick()?;
        self.inner.remove_order_entries(c)
    }
    fn put_entries(&mut self, e: &[Entry]) -> affiliate_sdk::Result<()> {
        self.tick()?;
        self.inner.put_entries(e)
    }
    fn entry(
        &mut self,
        id: &affiliate_sdk::ledger::EntryId,
    ) -> affiliate_sdk::Result<Option<Entry>> {
        self.tick()?;
        self.inner.entry(id)
    }
    fn balance(
        &mut self,
        p: affiliate_sdk::Code,
        c: affiliate_sdk::Currency,
    ) -> affiliate_sdk::Result<affiliate_sdk::ledger::Balance> {
        self.tick()?;
        self.inner.balance(p, c)
    }
    fn payable_entries(
        &mut self,
        p: Option<affiliate_sdk::Code>,
        c: Option<affiliate_sdk::Currency>,
    ) -> affiliate_sdk::Result<Vec<Entry>> {
        self.tick()?;
        self.inner.payable_entries(p, c)
    }
    fn claim_payout_run(&mut self, k: &str, f: &str) -> affiliate_sdk::Result<Option<PayoutRun>> {
        self.tick()?;
        self.inner.claim_payout_run(k, f)
    }
    fn finish_payout_run(&mut self, k: &str, r: &PayoutRun) -> affiliate_sdk::Result<()> {
        self.tick()?;
        self.inner.finish_payout_run(k, r)
    }
    fn payout(&mut self, id: &str) -> affiliate_sdk::Result<Option<Payout>> {
        self.tick()?;
        self.inner.payout(id)
    }
    fn put_payout(&mut self, p: &Payout) -> affiliate_sdk::Result<()> {
        self.tick()?;
        self.inner.put_payout(p)
    }
    fn push_event(&mut self, e: EventRow<'_>) -> affiliate_sdk::Result<()> {
        self.tick()?;
        self.inner.push_event(e)
    }
}

impl CrashAfterWrites {
    fn write(&self) -> affiliate_sdk::Result<()> {
        use std::sync::atomic::Ordering::SeqCst;
        self.writes
            .fetch_update(SeqCst, SeqCst, |n| n.checked_sub(1))
            .map(|_| ())
            .map_err(|_| affiliate_sdk::Error::Store("crashed before this write".into()))
    }
}

impl Store for CrashAfterWrites {
    fn transact(&self, f: &mut affiliate_sdk::store::TxFn<'_>) -> affiliate_sdk::Result<()> {
        // One money write (a conversion, a status change, a payout run or settlement).
        self.write()?;
        let left = &self.ops;
        self.inner
            .transact(&mut |tx| f(&mut FailingTx { inner: tx, left }))
    }
}

impl ClickSink for CrashAfterWrites {
    fn record_click(&self, c: &ClickRecord) -> affiliate_sdk::Result<()> {
        self.inner.record_click(c)
    }

    fn record_impression(&self, i: &ImpressionRecord) -> affiliate_sdk::Result<()> {
        self.inner.record_impression(i)
    }

    fn record_bot_click(
        &self,
        b: &affiliate_sdk::store::BotClickRecord,
    ) -> affiliate_sdk::Result<()> {
        self.inner.record_bot_click(b)
    }

    fn click(&self, id: affiliate_sdk::ClickId) -> affiliate_sdk::Result<Option<ClickRecord>> {
        self.inner.click(id)
    }

    fn counters(
        &self,
        from_day: u32,
        to_day: u32,
        campaign: Option<&affiliate_sdk::Code>,
    ) -> affiliate_sdk::Result<std::collections::BTreeMap<CounterKey, Counters>> {
        self.inner.counters(from_day, to_day, campaign)
    }

    fn flush(&self) -> affiliate_sdk::Result<()> {
        self.inner.flush()
    }
}

impl ConversionReads for CrashAfterWrites {
    fn replaced_conversions(
        &self,
        order_id: &str,
    ) -> affiliate_sdk::Result<Vec<affiliate_sdk::Conversion>> {
        self.inner.replaced_conversions(order_id)
    }

    fn conversion(
        &self,
        order_id: &str,
    ) -> affiliate_sdk::Result<Option<affiliate_sdk::Conversion>> {
        self.inner.conversion(order_id)
    }

    fn customer(&self, customer_id: &str) -> affiliate_sdk::Result<Bindings> {
        self.inner.customer(customer_id)
    }

    fn conversions(
        &self,
        from_day: u32,
        to_day: u32,
    ) -> affiliate_sdk::Result<Vec<affiliate_sdk::Conversion>> {
        self.inner.conversions(from_day, to_day)
    }

    fn pending_due(
        &self,
        campaign: &affiliate_sdk::Code,
        made_by: u64,
        after: Option<(u64, &str)>,
        max: usize,
    ) -> affiliate_sdk::Result<Vec<Conversion>> {
        self.inner.pending_due(campaign, made_by, after, max)
    }
}

impl LedgerReads for CrashAfterWrites {
    fn ledger_entries(
        &self,
        filter: &affiliate_sdk::ledger::EntryFilter,
    ) -> affiliate_sdk::Result<Vec<affiliate_sdk::ledger::Entry>> {
        self.inner.ledger_entries(filter)
    }

    fn payouts(
        &self,
        filter: &affiliate_sdk::ledger::PayoutFilter,
    ) -> affiliate_sdk::Result<Vec<affiliate_sdk::ledger::Payout>> {
        self.inner.payouts(filter)
    }

    fn payout(&self, id: &str) -> affiliate_sdk::Result<Option<affiliate_sdk::ledger::Payout>> {
        self.inner.payout(id)
    }
}

impl ProgramRecords for CrashAfterWrites {
    fn program_version(&self) -> affiliate_sdk::Result<u64> {
        self.inner.program_version()
    }

    fn put_record(
        &self,
        kind: affiliate_sdk::store::RecordKind,
        key: &str,
        json: &str,
        only_new: bool,
    ) -> affiliate_sdk::Result<bool> {
        // The program is set up before the crash under test: not counted.
        self.inner.put_record(kind, key, json, only_new)
    }

    fn records(
        &self,
        kind: affiliate_sdk::store::RecordKind,
    ) -> affiliate_sdk::Result<Vec<(String, String)>> {
        self.inner.records(kind)
    }

    fn delete_record(
        &self,
        kind: affiliate_sdk::store::RecordKind,
        key: &str,
    ) -> affiliate_sdk::Result<bool> {
        self.inner.delete_record(kind, key)
    }

    fn swap_record(
        &self,
        kind: affiliate_sdk::store::RecordKind,
        key: &str,
        expected: &str,
        json: &str,
    ) -> affiliate_sdk::Result<bool> {
        self.inner.swap_record(kind, key, expected, json)
    }
}

impl Outbox for CrashAfterWrites {
    fn outbox(
        &self,
        max: usize,
    ) -> affiliate_sdk::Result<Vec<(u64, affiliate_sdk::outbound::Event)>> {
        self.inner.outbox(max)
    }

    fn fan_out(
        &self,
        planned: &[(u64, Vec<affiliate_sdk::outbound::Delivery>)],
    ) -> affiliate_sdk::Result<usize> {
        self.inner.fan_out(planned)
    }

    fn due_deliveries(
        &self,
        now: u64,
        max: usize,
    ) -> affiliate_sdk::Result<Vec<affiliate_sdk::outbound::Delivery>> {
        self.inner.due_deliveries(now, max)
    }

    fn pending_about(
        &self,
        subject: &str,
    ) -> affiliate_sdk::Result<Vec<affiliate_sdk::outbound::Delivery>> {
        self.inner.pending_about(subject)
    }

    fn swap_delivery(
        &self,
        expected: &affiliate_sdk::outbound::Delivery,
        new: &affiliate_sdk::outbound::Delivery,
    ) -> affiliate_sdk::Result<bool> {
        self.inner.swap_delivery(expected, new)
    }

    fn delivery(
        &self,
        id: &str,
    ) -> affiliate_sdk::Result<Option<affiliate_sdk::outbound::Delivery>> {
        self.inner.delivery(id)
    }

    fn deliveries(
        &self,
        filter: &affiliate_sdk::outbound::DeliveryFilter,
    ) -> affiliate_sdk::Result<Vec<affiliate_sdk::outbound::Delivery>> {
        self.inner.deliveries(filter)
    }
}

impl Maintenance for CrashAfterWrites {
    fn erase_customer(&self, id: &str) -> affiliate_sdk::Result<affiliate_sdk::store::Erased> {
        self.write()?;
        self.inner.erase_customer(id)
    }

    fn prune_clicks(&self, before: u64, max: usize) -> affiliate_sdk::Result<usize> {
        self.inner.prune_clicks(before, max)
    }

    fn claim_once(
        &self,
        scope: &str,
        key: &str,
        expires: u64,
        now: u64,
    ) -> affiliate_sdk::Result<bool> {
        self.write()?;
        self.inner.claim_once(scope, key, expires, now)
    }

    fn prune_deliveries(&self, before: u64, max: usize) -> affiliate_sdk::Result<usize> {
        self.inner.prune_deliveries(before, max)
    }
}

#[macro_export]
macro_rules! store_conformance {
    ($name:ident, $factory:expr) => {
        mod $name {
            #[allow(unused_imports)]
            use super::*;
            use std::collections::{BTreeMap, HashSet};
            use std::sync::Arc;

            use affiliate_sdk::store::{Binding, ClickRecord, ImpressionRecord, Inserted, StatusChange};
            use affiliate_sdk::{
                BrowserConversion, Channel, ClickId, Code, Conversion, ConversionRequest, Currency,
                Dimension, Evidence, Link, ManualConversion, StatsQuery, Status, Store, StoreWrites,
            };

            use $crate::common::conformance::{tracker, DAY, T0};

            fn store() -> (Arc<dyn Store>, Box<dyn std::any::Any>) {
                store_with(&affiliate_sdk::store::StoreLimits::default())
            }

            fn store_with(limits: &affiliate_sdk::store::StoreLimits) -> (Arc<dyn Store>, Box<dyn std::any::Any>) {
                let (s, g) = ($factory)(limits);
                (s, Box::new(g))
            }

            fn usd() -> Currency {
                Currency::new("USD").unwrap()
            }

            fn sale(order: &str, amount: &str, token: Option<&str>) -> ConversionRequest {
                let mut r = ConversionRequest::sale(order, amount, "USD");
                r.token = token.map(str::to_owned);
                r
            }

            #[test]
            fn events_about_one_conversion_reach_each_destination_in_order() {
                let (s, _g) = store();
                $crate::common::ordering::events_about_one_conversion_reach_each_destination_in_order(s);
            }

            #[test]
            fn daily_paid_caps_pay_at_most_the_cap_per_partner_and_day_and_count_the_rest() {
                let (s, _g) = store();
                let day0 = (T0 / DAY) as u32;
                // 30 paid-eligible clicks over two sids, 25 impressions, under caps of
                // 20 and 10; another partner has its own cap; the next day pays again.
                for i in 0..30u64 {
                    let sid = if i % 2 == 0 { "a" } else { "b" };
                    let mut id = [7u8; 16];
                    id[8..].copy_from_slice(&i.to_be_bytes());
                    let link = Link::parse("haircare", "abc123", None, Some(sid)).unwrap();
                    s.record_click(&ClickRecord { click_id: ClickId::from_bytes(id), link, at: T0 + i, unique: true, currency: usd(), commission_minor: 3, paid_cap: 20 }).unwrap();
                    if i % 10 == 0 {
                        // Flushed between clicks too: the cap holds across batches.
                        s.flush().unwrap();
                    }
                }
                let other = Link::parse("haircare", "mid1", None, None).unwrap();
                for i in 0..25u64 {
                    let link = Link::parse("haircare", "abc123", None, None).unwrap();
                    s.record_impression(&ImpressionRecord { link, at: T0 + i, currency: usd(), per_mille_minor: 1500, paid_cap: 10 }).unwrap();
                    s.record_impression(&ImpressionRecord { link: other, at: T0 + DAY + i, currency: usd(), per_mille_minor: 1500, paid_cap: 10 }).unwrap();
                }
                let mut id = [8u8; 16];
                id[15] = 1;
                s.record_click(&ClickRecord { click_id: ClickId::from_bytes(id), link: Link::parse("haircare", "abc123", None, Some("a")).unwrap(), at: T0 + DAY, unique: true, currency: usd(), commission_minor: 3, paid_cap: 20 }).unwrap();
                s.flush().unwrap();
                let sum = |from: u32, to: u32, partner: &str| {
                    s.counters(from, to, None).unwrap().iter().filter(|(k, _)| k.link.partner.as_str() == partner).fold(affiliate_sdk::store::Counters::default(), |mut acc, (_, c)| { acc.add(c); acc })
                };
                let day = sum(day0, day0, "abc123");
                assert_eq!((day.clicks, day.click_commission_minor), (30, 60), "20 of 30 clicks paid");
                assert_eq!((day.impressions, day.impression_commission_milli), (25, 15_000), "10 of 25 impressions paid");
                let next = sum(day0 + 1, day0 + 1, "abc123");
                assert_eq!((next.clicks, next.click_commission_minor), (1, 3));
                let mid = sum(day0 + 1, day0 + 1, "mid1");
                assert_eq!((mid.impressions, mid.impression_commission_milli), (25, 15_000));
            }

            #[test]
            fn clicks_are_kept_and_counted_per_day() {
                let (s, _g) = store();
                let link = Link::parse("haircare", "abc123", Some("ad1"), Some("kw")).unwrap();
                let id = ClickId::from_bytes([1; 16]);
                let rec = ClickRecord { click_id: id, link, at: T0, unique: true, currency: usd(), commission_minor: 5, paid_cap: 0 };
                s.record_click(&rec).unwrap();
                s.record_click(&ClickRecord { click_id: ClickId::from_bytes([2; 16]), unique: false, ..rec }).unwrap();
                s.record_click(&ClickRecord { click_id: ClickId::from_bytes([3; 16]), at: T0 + DAY, ..rec }).unwrap();
                s.record_impression(&ImpressionRecord { link, at: T0, currency: usd(), per_mille_minor: 150, paid_cap: 0 }).unwrap();
                s.record_bot_click(&affiliate_sdk::store::BotClickRecord { link, at: T0, currency: usd() }).unwrap();
                assert_eq!(s.click(id).unwrap(), Some(rec));
                assert_eq!(s.click(ClickId::from_bytes([9; 16])).unwrap(), None);
                let day0 = (T0 / DAY) as u32;
                let c = s.counters(day0, day0, None).unwrap();
                assert_eq!(c.len(), 1);
                let v = c.values().next().unwrap();
                assert_eq!((v.clicks, v.unique_clicks, v.impressions, v.click_commission_minor, v.impression_commission_milli), (2, 1, 1, 10, 150));
                assert_eq!(v.bot_clicks, 1);
                assert_eq!(s.counters(day0, day0 + 1, None).unwrap().len(), 2);
                assert_eq!(s.counters(day0 + 1, day0 + 1, None).unwrap().values().next().unwrap().clicks, 1);
                let other = Code::new("skincare").unwrap();
                assert!(s.counters(0, u32::MAX, Some(&other)).unwrap().is_empty());
                s.flush().unwrap();
            }

            #[test]
            fn clicks_are_seen_at_once_and_counted_once_while_batches_are_written() {
                // Stores may batch clicks; readers must see each click as soon as it is
                // recorded, and never twice, whatever the batch writer is doing.
                use std::sync::atomic::{AtomicU64, Ordering::SeqCst};
                let (s, _g) = store();
                let link = Link::parse("haircare", "abc123", None, None).unwrap();
                // started: incremented before a click is recorded; recorded: after.
                let started = Arc::new(AtomicU64::new(0));
                let recorded = Arc::new(AtomicU64::new(0));
                const PER_THREAD: u64 = 20_000;
                let writers: Vec<_> = (0..2u8)
                    .map(|t| {
                        let (s, started, recorded) = (s.clone(), started.clone(), recorded.clone());
                        std::thread::spawn(move || {
                            for i in 0..PER_THREAD {
                                let mut id = [t; 16];
                                id[8..].copy_from_slice(&i.to_be_bytes());
                                let click_id = ClickId::from_bytes(id);
                                let rec = ClickRecord { click_id, link, at: T0, unique: true, currency: usd(), commission_minor: 1, paid_cap: 0 };
                                started.fetch_add(1, SeqCst);
                                s.record_click(&rec).unwrap();
                                recorded.fetch_add(1, SeqCst);
                                assert_eq!(s.click(click_id).unwrap(), Some(rec), "visible at once");
                            }
                        })
                    })
                    .collect();
                let total = |s: &Arc<dyn Store>| -> u64 {
                    s.counters(0, u32::MAX, None).unwrap().values().map(|c| c.clicks).sum()
                };
                let mut last = 0;
                while writers.iter().any(|w| !w.is_finished()) {
                    let before = recorded.load(SeqCst);
                    let seen = total(&s);
                    let after = started.load(SeqCst);
                    assert!(before <= seen && seen <= after, "{before} <= {seen} <= {after}");
                    assert!(seen >= last);
                    last = seen;
                }
                for w in writers {
                    w.join().unwrap();
                }
                s.flush().unwrap();
                assert_eq!(total(&s), 2 * PER_THREAD);
                // And found again once written out.
                for t in 0..2u8 {
                    for i in (0..PER_THREAD).step_by(89) {
                        let mut id = [t; 16];
                        id[8..].copy_from_slice(&i.to_be_bytes());
                        let c = s.click(ClickId::from_bytes(id)).unwrap().expect("kept");
                        assert_eq!((c.link, c.at, c.commission_minor), (link, T0, 1));
                    }
                }
                assert_eq!(s.click(ClickId::from_bytes([9; 16])).unwrap(), None);
            }

            #[test]
            fn a_conversion_is_inserted_once() {
                let (s, _g) = store();
                let (t, _) = tracker(s.clone());
                let c = t.manual(&ManualConversion::sale("o-1", "10.00", "USD", "haircare", "solo")).unwrap();
                let mut other = c.clone();
                other.amount = affiliate_sdk::Money::parse("99", "USD").unwrap();
                match s.insert_conversion(&other, None, None).unwrap() {
                    Inserted::Existing(e) => assert_eq!(*e, c),
                    other => panic!("inserted twice: {other:?}"),
                }
                assert_eq!(s.conversion("o-1").unwrap(), Some(c));
                assert_eq!(s.conversion("o-2").unwrap(), None);
            }

            #[test]
            fn conversions_are_read_by_day() {
                let (s, _g) = store();
                let (t, _) = tracker(s.clone());
                let c = t.manual(&ManualConversion::sale("o-1", "10.00", "USD", "haircare", "solo")).unwrap();
                let day = affiliate_sdk::store::day_of(c.converted_at);
                let mut stored = vec![c.clone()];
                // Three more on later days (out of order), each its own record.
                for (order, days) in [("o-3", 2), ("o-2", 1), ("o-4", 2)] {
                    let mut o = c.clone();
                    o.order_id = order.into();
                    o.converted_at = c.converted_at + days * DAY;
                    assert_eq!(s.insert_conversion(&o, None, None).unwrap(), Inserted::New);
                    stored.push(o);
                }
                // A replay of o-1 that carries another day changes nothing.
                let mut replay = c.clone();
                replay.converted_at += 2 * DAY;
                assert!(matches!(s.insert_conversion(&replay, None, None).unwrap(), Inserted::Existing(_)));
                // Status changes keep a record on its day.
                s.set_status("o-2", Status::Pending, Status::Approved, T0).unwrap();
                stored[2].status = Status::Approved;
                let ids = |from: u32, to: u32| {
                    let mut v: Vec<String> = s.conversions(from, to).unwrap().into_iter().map(|c| c.order_id).collect();
                    v.sort();
                    v
                };
                assert_eq!(ids(day, day), ["o-1"]);
                assert_eq!(ids(day + 1, day + 1), ["o-2"]);
                assert_eq!(ids(day + 2, day + 2), ["o-3", "o-4"]);
                assert_eq!(ids(day, day + 1), ["o-1", "o-2"]);
                assert_eq!(ids(0, u32::MAX), ["o-1", "o-2", "o-3", "o-4"]);
                assert!(ids(day + 3, u32::MAX).is_empty());
                assert!(ids(0, day - 1).is_empty());
                let mut all = s.conversions(0, u32::MAX).unwrap();
                all.sort_by(|a, b| a.order_id.cmp(&b.order_id));
                stored.sort_by(|a, b| a.order_id.cmp(&b.order_id));
                assert_eq!(all, stored, "whole records, current status");
            }

            #[test]
            fn status_is_compare_and_swap() {
                let (s, _g) = store();
                let (t, _) = tracker(s.clone());
                t.manual(&ManualConversion::sale("o-1", "1", "USD", "haircare", "solo")).unwrap();
                assert!(matches!(s.set_status("o-1", Status::Approved, Status::Paid, T0).unwrap(), StatusChange::Unchanged(c) if c.status == Status::Pending));
                assert!(matches!(s.set_status("o-1", Status::Pending, Status::Approved, T0).unwrap(), StatusChange::Changed(c) if c.status == Status::Approved));
                assert_eq!(s.conversion("o-1").unwrap().unwrap().status, Status::Approved);
                assert_eq!(s.set_status("nope", Status::Pending, Status::Approved, T0).unwrap(), StatusChange::Missing);
            }

            #[test]
            fn the_first_customer_binding_wins() {
                let (s, _g) = store();
                let a = Binding { link: Link::parse("skincare", "abc123", None, None).unwrap(), bound_at: T0 };
                let b = Binding { link: Link::parse("skincare", "solo", None, None).unwrap(), bound_at: T0 + 1 };
                let (t, _) = tracker(s.clone());
                let m = ManualConversion::sale("b-1", "10.00", "EUR", "skincare", "abc123");
                let first = t.manual(&m).unwrap();
                assert!(s.customer("cust-1").unwrap().is_empty());
                let skin = Code::new("skincare").unwrap();
                let of = |order: &str, customer: Option<&str>| Conversion { order_id: order.into(), customer_id: customer.map(Into::into), ..first.clone() };
                assert_eq!(s.insert_conversion(&of("b-2", Some("cust-1")), Some(&a), None).unwrap(), Inserted::New);
                assert_eq!(s.customer("cust-1").unwrap().of(&skin), Some(&a));
                assert_eq!(s.insert_conversion(&of("b-3", Some("cust-1")), Some(&b), None).unwrap(), Inserted::New);
                assert_eq!(s.customer("cust-1").unwrap().of(&skin), Some(&a), "the first binding stays");
                // Another campaign's binding is the customer's second, beside the first.
                let hair = Binding { link: Link::parse("haircare", "solo", None, None).unwrap(), bound_at: T0 + 2 };
                let in_hair = Conversion { link: hair.link, ..of("b-5", Some("cust-1")) };
                assert_eq!(s.insert_conversion(&in_hair, Some(&hair), None).unwrap(), Inserted::New);
                let both = s.customer("cust-1").unwrap();
                assert_eq!(both.iter().copied().collect::<Vec<_>>(), [a, hair]);
                // A replay binds nothing, and neither does a conversion without a customer.
                assert!(matches!(s.insert_conversion(&of("b-1", Some("cust-3")), Some(&b), None).unwrap(), Inserted::Existing(_)));
                assert!(s.customer("cust-3").unwrap().is_empty());
                assert_eq!(s.insert_conversion(&of("b-4", None), Some(&b), None).unwrap(), Inserted::New);
                assert!(s.customer("cust-2").unwrap().is_empty());
            }

            #[test]
            fn the_whole_flow_through_a_tracker() {
                let (s, _g) = store();
                let (t, clock) = tracker(s);
                let url = t.signer().build("haircare", "abc123", Some("website2"), Some("kw1")).unwrap();
                let click = t.click(&url, None).unwrap();
                assert!(click.unique && !click.kept_earlier);
                assert!(click.location.starts_with("https://shop.example/hair?ref=x&aff_token=v1."), "{}", click.location);
                let set_cookie = click.set_cookie.as_deref().unwrap();
                assert!(set_cookie.starts_with(&format!("aff_token={};", click.token)));
                assert!(set_cookie.contains("Max-Age=2419200"));
                clock.advance_secs(3_600);

                let conv = t.convert(&sale("A-1001", "49.90", Some(&click.token))).unwrap();
                assert_eq!(conv.link, Link::parse("haircare", "abc123", Some("website2"), Some("kw1")).unwrap());
                assert_eq!((conv.evidence, conv.status, conv.duplicate), (Evidence::Token, Status::Pending, false));
                assert_eq!(conv.click_id, Some(click.click_id));
                let shares: Vec<_> = conv.commissions.iter().map(|c| (c.partner.to_string(), c.level, c.amount.to_string())).collect();
                // 10% of 49.90 = 4.99; mid 10% of that = 0.499 -> 0.50; boss 5% = 0.2495 -> 0.25.
                assert_eq!(shares, [("abc123".into(), 0, "4.99".into()), ("mid".into(), 1, "0.50".into()), ("boss".into(), 2, "0.25".into())]);

                // Replay: the first record, marked duplicate, even without evidence.
                let again = t.convert(&sale("A-1001", "49.90", None)).unwrap();
                assert!(again.duplicate);
                assert_eq!(again.commissions, conv.commissions);
                // Conflict: nothing changes.
                assert_eq!(t.convert(&sale("A-1001", "50.00", Some(&click.token))).unwrap_err().code(), "conflict");
                let mut lead = sale("A-1001", "49.90", Some(&click.token));
                lead.kind = "lead".into();
                assert_eq!(t.convert(&lead).unwrap_err().code(), "conflict");
                assert_eq!(t.conversion("A-1001").unwrap().amount.to_string(), "49.90");

                let rows = t.stats(&StatsQuery::new(&[Dimension::Partner, Dimension::Sid])).unwrap();
                assert_eq!(rows.len(), 1);
                let r = &rows[0];
                assert_eq!((r.get(Dimension::Partner), r.get(Dimension::Sid)), (Some("abc123"), Some("kw1")));
                assert_eq!((r.clicks, r.unique_clicks, r.sales, r.leads), (1, 1, 1, 0));
                assert_eq!(r.revenue.decimal(usd()), "49.90");
                // 4.99 + 0.50 + 0.25, and one click at 0.05 with its overrides (10 % of it,
                // 0.005 -> 0.01; 5 %, 0.0025 -> 0.00).
                assert_eq!(r.commission.decimal(usd()), "5.80");
                assert_eq!(serde_json::to_value(r).unwrap()["revenue"], serde_json::json!({"USD": "49.90"}));
            }

            #[test]
            fn tampered_unknown_and_expired_evidence_credit_nobody() {
                let (s, _g) = store();
                let (t, clock) = tracker(s);
                let url = t.signer().build("haircare", "abc123", None, None).unwrap();
                assert_eq!(t.click(&url.replace("abc123", "abc124"), None).unwrap_err().code(), "invalid_signature");
                let ghost = t.signer().build("ghost", "abc123", None, None).unwrap();
                assert_eq!(t.click(&ghost, None).unwrap_err().code(), "unknown_campaign");
                let nobody = t.signer().build("haircare", "nobody", None, None).unwrap();
                assert_eq!(t.click(&nobody, None).unwrap_err().code(), "unknown_partner");
                let click = t.click(&url, None).unwrap();
                assert_eq!(t.convert(&sale("o", "1", None)).unwrap_err().code(), "not_attributable");
                assert_eq!(t.convert(&sale("o", "1", Some("v1.garbage"))).unwrap_err().code(), "malformed");
                clock.advance_secs(28 * DAY + 61);
                assert_eq!(t.convert(&sale("o", "1", Some(&click.token))).unwrap_err().code(), "expired");
                let mut by_id = sale("o", "1", None);
                by_id.click_id = Some(click.click_id.to_string());
                assert_eq!(t.convert(&by_id).unwrap_err().code(), "expired");
                by_id.click_id = Some(ClickId::from_bytes([7; 16]).to_string());
                assert_eq!(t.convert(&by_id).unwrap_err().code(), "not_attributable");
                assert_eq!(t.conversion("o").unwrap_err().code(), "not_found");
                let rows = t.stats(&StatsQuery::new(&[])).unwrap();
                assert_eq!((rows[0].clicks, rows[0].sales), (1, 0));
            }

            #[test]
            fn evidence_precedence_token_then_click_id_then_coupon() {
                let (s, _g) = store();
                let (t, clock) = tracker(s);
                let a = t.click(&t.signer().build("haircare", "abc123", None, None).unwrap(), None).unwrap();
                let b = t.click(&t.signer().build("haircare", "solo", None, None).unwrap(), None).unwrap();
                clock.advance_secs(120);
                let mut r = sale("p1", "10", Some(&a.token));
                r.click_id = Some(b.click_id.to_string());
                r.coupon = Some("abc10".into());
                r.campaign = Some("haircare".into());
                assert_eq!(t.convert(&r).unwrap().link.partner, "abc123");
                let mut r = sale("p2", "10", None);
                r.click_id = Some(b.click_id.to_string());
                r.coupon = Some("ABC10".into());
                r.campaign = Some("haircare".into());
                let c = t.convert(&r).unwrap();
                assert_eq!((c.link.partner.as_str(), c.evidence), ("solo", Evidence::ClickId));
                // A broken token falls back to the coupon.
                let mut r = sale("p3", "10", Some("v1.k1.broken"));
                r.coupon = Some("abc10".into());
                r.campaign = Some("haircare".into());
                let c = t.convert(&r).unwrap();
                assert_eq!((c.link.partner.as_str(), c.evidence), ("abc123", Evidence::Coupon));
                // Two campaigns exist: a coupon alone cannot say which.
                let mut r = sale("p4", "10", None);
                r.coupon = Some("ABC10".into());
                assert_eq!(t.convert(&r).unwrap_err().code(), "not_attributable");
                r.coupon = Some("NOPE".into());
                r.campaign = Some("haircare".into());
                assert_eq!(t.convert(&r).unwrap_err().code(), "not_attributable");
            }

            #[test]
            fn first_click_keeps_the_earlier_token_and_last_click_replaces_it() {
                let (s, _g) = store();
                let (t, clock) = tracker(s);
                let skin_a = t.click(&t.signer().build("skincare", "abc123", None, None).unwrap(), None).unwrap();
                clock.advance_secs(600);
                let skin_b = t.click(&t.signer().build("skincare", "solo", None, None).unwrap(), Some(&skin_a.token)).unwrap();
                assert!(skin_b.kept_earlier);
                assert_eq!(skin_b.token, skin_a.token);
                assert!(skin_b.location.ends_with(&skin_a.token));
                let hair_a = t.click(&t.signer().build("haircare", "abc123", None, None).unwrap(), None).unwrap();
                clock.advance_secs(600);
                let hair_b = t.click(&t.signer().build("haircare", "solo", None, None).unwrap(), Some(&hair_a.token)).unwrap();
                assert!(!hair_b.kept_earlier);
                assert_ne!(hair_b.token, hair_a.token);
                assert_eq!(t.verify_token(&hair_b.token).unwrap().partner(), "solo");
                let rows = t.stats(&StatsQuery::new(&[Dimension::Campaign])).unwrap();
                assert_eq!(rows.iter().map(|r| r.clicks).collect::<Vec<_>>(), [2, 2]);
            }

            #[test]
            fn a_click_is_unique_once_per_day_per_campaign_and_partner() {
                let (s, _g) = store();
                let (t, clock) = tracker(s);
                let url = t.signer().build("haircare", "abc123", None, None).unwrap();
                let first = t.click(&url, None).unwrap();
                let again = t.click(&url, Some(&first.token)).unwrap();
                let other = t.click(&t.signer().build("haircare", "solo", None, None).unwrap(), Some(&again.token)).unwrap();
                clock.advance_secs(DAY);
                let next_day = t.click(&url, Some(&again.token)).unwrap();
                let forged = t.click(&url, Some("v1.k1.forged")).unwrap();
                assert_eq!([first.unique, again.unique, other.unique, next_day.unique, forged.unique], [true, false, true, true, true]);
                let rows = t.stats(&StatsQuery::new(&[])).unwrap();
                assert_eq!((rows[0].clicks, rows[0].unique_clicks), (5, 4));
            }

            #[test]
            fn an_erased_customer_is_gone_from_every_record_and_its_next_sale_is_a_new_customers() {
                let (s, _g) = store();
                let (t, clock) = tracker(s.clone());
                let click = t.click(&t.signer().build("skincare", "abc123", None, None).unwrap(), None).unwrap();
                clock.advance_secs(120);
                let mut r = ConversionRequest::sale("s1", "80.00", "EUR");
                r.token = Some(click.token.clone());
                r.customer_id = Some("cust-erase".into());
                t.convert(&r).unwrap();
                let mut other = ConversionRequest::sale("s9", "80.00", "EUR");
                other.token = Some(click.token.clone());
                other.customer_id = Some("cust-keep".into());
                t.convert(&other).unwrap();
                assert!(!s.customer("cust-erase").unwrap().is_empty());
                // Its conversion.created event is in the outbox with the id.
                let carries = |s: &Arc<dyn Store>| s.outbox(1000).unwrap().iter().any(|(_, e)| e.encode().unwrap().contains("\"cust-erase\""));
                assert!(carries(&s));
                assert_eq!(t.erase_customer("bad id").unwrap_err().code(), "malformed");
                let erased = t.erase_customer("cust-erase").unwrap();
                assert_eq!((erased.conversions, erased.bindings, erased.events), (1, 1, 1));
                assert_eq!(t.conversion("s1").unwrap().customer_id, None);
                assert_eq!(t.conversion("s9").unwrap().customer_id.as_deref(), Some("cust-keep"));
                assert!(s.customer("cust-erase").unwrap().is_empty());
                assert!(!s.customer("cust-keep").unwrap().is_empty());
                assert!(!carries(&s));
                // Again: nothing left to erase.
                assert_eq!(t.erase_customer("cust-erase").unwrap(), affiliate_sdk::store::Erased::default());
                // A later sale under the id attributes by its own evidence, as a new customer.
                clock.advance_secs(DAY);
                let solo = t.click(&t.signer().build("skincare", "solo", None, None).unwrap(), None).unwrap();
                clock.advance_secs(120);
                let mut again = ConversionRequest::sale("s2", "80.00", "EUR");
                again.token = Some(solo.token);
                again.customer_id = Some("cust-erase".into());
                let c = t.convert(&again).unwrap();
                assert_eq!((c.link.partner.as_str(), c.evidence), ("solo", Evidence::Token));
                assert_eq!(s.customer("cust-erase").unwrap().iter().next().unwrap().link.partner, "solo");
            }

            #[test]
            fn pruned_clicks_are_gone_and_the_reports_stay_as_they_were() {
                let (s, _g) = store();
                let (t, clock) = tracker(s.clone());
                let url = t.signer().build("haircare", "abc123", None, Some("kw1")).unwrap();
                let old: Vec<_> = (0..5).map(|_| t.click(&url, None).unwrap()).collect();
                clock.advance_secs(30 * DAY);
                let new = t.click(&url, None).unwrap();
                s.flush().unwrap();
                let q = StatsQuery::new(&[Dimension::Partner, Dimension::Day, Dimension::Sid]);
                let before = t.stats(&q).unwrap();
                // The longest window is 28 days: a retention of 1 day keeps 28.
                assert_eq!(t.prune_clicks(0).unwrap_err().code(), "malformed");
                clock.advance_secs(DAY);
                assert_eq!(t.prune_clicks(1).unwrap(), 5);
                assert_eq!(t.prune_clicks(1).unwrap(), 0);
                for c in &old {
                    assert_eq!(s.click(c.click_id).unwrap(), None);
                }
                assert!(s.click(new.click_id).unwrap().is_some());
                assert_eq!(t.stats(&q).unwrap(), before);
                // A click-id postback of a pruned click finds nothing; tokens still work.
                clock.advance_secs(60);
                let mut r = ConversionRequest::sale("p1", "10.00", "USD");
                r.token = Some(new.token.clone());
                assert_eq!(t.convert(&r).unwrap().link.partner, "abc123");
            }

            #[test]
            fn minimum_time_and_recurring_customers() {
                let (s, _g) = store();
                let (t, clock) = tracker(s);
                let click = t.click(&t.signer().build("skincare", "abc123", None, None).unwrap(), None).unwrap();
                clock.advance_secs(30);
                let mut r = ConversionRequest::sale("s1", "80.00", "EUR");
                r.token = Some(click.token.clone());
                r.customer_id = Some("cust-9".into());
                assert_eq!(t.convert(&r).unwrap_err().code(), "not_attributable");
                clock.advance_secs(30);
                let c = t.convert(&r).unwrap();
                assert_eq!(c.commission().to_string(), "5.00");
                // Months later, after the token expired, the customer still credits abc123.
                clock.advance_secs(200 * DAY);
                let other = t.click(&t.signer().build("skincare", "solo", None, None).unwrap(), None).unwrap();
                clock.advance_secs(120);
                let mut renew = ConversionRequest::sale("s2", "80.00", "EUR");
                renew.customer_id = Some("cust-9".into());
                renew.token = Some(other.token.clone());
                let c = t.convert(&renew).unwrap();
                assert_eq!((c.link.partner.as_str(), c.evidence), ("abc123", Evidence::Customer));
                // After 12 months the binding lapses and the new evidence counts.
                clock.advance_secs(170 * DAY);
                let fresh = t.click(&t.signer().build("skincare", "solo", None, None).unwrap(), None).unwrap();
                clock.advance_secs(120);
                let mut late = ConversionRequest::sale("s3", "80.00", "EUR");
                late.customer_id = Some("cust-9".into());
                late.token = Some(fresh.token);
                assert_eq!(t.convert(&late).unwrap().link.partner, "solo");
            }

            #[test]
            fn a_binding_holds_only_its_own_campaigns_sales_and_only_while_it_can_be_paid() {
                let (s, _g) = store();
                let (t, clock) = tracker(s.clone());
                // cust-5's first skincare sale binds it to abc123 (skincare recurs).
                let click = t.click(&t.signer().build("skincare", "abc123", None, None).unwrap(), None).unwrap();
                clock.advance_secs(120);
                let mut first = ConversionRequest::sale("r-1", "80.00", "EUR");
                first.token = Some(click.token);
                first.customer_id = Some("cust-5".into());
                t.convert(&first).unwrap();
                // A haircare sale from solo's click credits solo, at haircare's 10 %.
                let hair = t.click(&t.signer().build("haircare", "solo", None, None).unwrap(), None).unwrap();
                let mut other = ConversionRequest::sale("r-2", "100.00", "USD");
                other.token = Some(hair.token);
                other.customer_id = Some("cust-5".into());
                let c = t.convert(&other).unwrap();
                assert_eq!((c.link.campaign.as_str(), c.link.partner.as_str(), c.evidence), ("haircare", "solo", Evidence::Token));
                assert_eq!(c.commission().to_string(), "10.00");
                // A skincare sale with solo's token stays with abc123 (the recurring rule).
                let solo_skin = t.click(&t.signer().build("skincare", "solo", None, None).unwrap(), None).unwrap();
                clock.advance_secs(120);
                let mut renew = ConversionRequest::sale("r-3", "80.00", "EUR");
                renew.token = Some(solo_skin.token.clone());
                renew.customer_id = Some("cust-5".into());
                let c = t.convert(&renew).unwrap();
                assert_eq!((c.link.partner.as_str(), c.evidence), ("abc123", Evidence::Customer));
                // abc123 suspended: the binding is passed over, solo's token counts.
                let mut abc = t.partner("abc123").unwrap().spec().clone();
                abc.status = affiliate_sdk::PartnerStatus::Suspended;
                t.add_partner(&abc).unwrap();
                let mut again = renew.clone();
                again.order_id = "r-4".into();
                let c = t.convert(&again).unwrap();
                assert_eq!((c.link.partner.as_str(), c.evidence), ("solo", Evidence::Token));
                // Active again, but skincare paused: a sale with only the customer id finds
                // no binding to use.
                abc.status = affiliate_sdk::PartnerStatus::Active;
                t.add_partner(&abc).unwrap();
                let mut skin = t.campaign("skincare").unwrap().spec().clone();
                skin.status = affiliate_sdk::CampaignStatus::Paused;
                t.add_campaign(&skin).unwrap();
                let mut bare = ConversionRequest::sale("r-5", "80.00", "EUR");
                bare.customer_id = Some("cust-5".into());
                assert_eq!(t.convert(&bare).unwrap_err().code(), "not_attributable");
                skin.status = affiliate_sdk::CampaignStatus::Active;
                t.add_campaign(&skin).unwrap();
                let c = t.convert(&bare).unwrap();
                assert_eq!((c.link.partner.as_str(), c.evidence), ("abc123", Evidence::Customer));
            }

            #[test]
            fn a_recurring_sale_and_its_customer_binding_are_one_write() {
                // A crash right after the first durable write of a recurring sale: the
                // conversion and its customer binding are either both there or neither,
                // so the retry (or the renewal) finds the customer bound.
                use $crate::common::conformance::CrashAfterWrites;
                let (s, _g) = store();
                let crashing = Arc::new(CrashAfterWrites { inner: s.clone(), writes: 1.into(), ops: usize::MAX.into() });
                let (t, clock) = tracker(crashing);
                let click = t.click(&t.signer().build("skincare", "abc123", None, None).unwrap(), None).unwrap();
                clock.advance_secs(120);
                let mut r = ConversionRequest::sale("s1", "80.00", "EUR");
                r.token = Some(click.token.clone());
                r.customer_id = Some("cust-7".into());
                let first = t.convert(&r);
                // After the restart: the same store, no crash.
                let (t, clock) = tracker(s.clone());
                clock.advance_secs(120);
                let retried = t.convert(&r).unwrap();
                assert_eq!(
                    s.customer("cust-7").unwrap().of(&Code::new("skincare").unwrap()).map(|b| b.link.partner),
                    Some(Code::new("abc123").unwrap()),
                    "the sale is recorded, so its customer is bound"
                );
                assert_eq!(retried.duplicate, first.is_ok(), "acknowledged once: {first:?}");
                // A renewal without any evidence is credited to the bound partner.
                clock.advance_secs(40 * DAY);
                let mut renew = ConversionRequest::sale("s2", "80.00", "EUR");
                renew.customer_id = Some("cust-7".into());
                let c = t.convert(&renew).unwrap();
                assert_eq!((c.link.partner.as_str(), c.evidence), ("abc123", Evidence::Customer));
            }

            #[test]
            fn pending_conversions_are_found_due_by_campaign_and_time() {
                let (s, _g) = store();
                let (t, _) = tracker(s.clone());
                let first = t.manual(&ManualConversion::sale("p-1", "10.00", "USD", "haircare", "solo")).unwrap();
                assert_eq!(first.status, Status::Pending);
                let at = first.converted_at;
                let put = |order: &str, campaign: &str, later: u64, channel: Channel| {
                    let mut c = first.clone();
                    c.order_id = order.into();
                    c.converted_at = at + later;
                    c.link = Link::parse(campaign, "solo", None, None).unwrap();
                    c.channel = channel;
                    s.insert_conversion(&c, None, None).unwrap()
                };
                // Out of order, on two campaigns.
                put("p-3", "haircare", 200, Channel::Manual);
                put("p-2", "haircare", 100, Channel::Manual);
                put("k-1", "skincare", 0, Channel::Manual);
                put("b-1", "haircare", 50, Channel::Browser);
                let hair = Code::new("haircare").unwrap();
                let skin = Code::new("skincare").unwrap();
                let due = |campaign: &Code, made_by: u64, max: usize| -> Vec<String> {
                    s.pending_due(campaign, made_by, None, max).unwrap().into_iter().map(|c| c.order_id).collect()
                };
                assert_eq!(due(&hair, at + 150, 10), ["p-1", "b-1", "p-2"], "oldest first, up to the time");
                assert_eq!(due(&hair, at + 1_000, 2), ["p-1", "b-1"], "at most max");
                // On from a cursor (the last one a call returned), excluded.
                let after = |cursor: (u64, &str), max: usize| -> Vec<String> {
                    s.pending_due(&hair, at + 1_000, Some(cursor), max).unwrap().into_iter().map(|c| c.order_id).collect()
                };
                assert_eq!(after((at + 50, "b-1"), 10), ["p-2", "p-3"]);
                assert_eq!(after((at + 50, "b-0"), 1), ["b-1"], "order id breaks a tie of times");
                assert_eq!(after((at + 100, "p-2"), 10), ["p-3"]);
                assert!(after((at + 200, "p-3"), 10).is_empty());
                assert_eq!(due(&skin, at + 1_000, 10), ["k-1"]);
                // A status change takes a conversion out; a replacement moves it.
                s.set_status("p-1", Status::Pending, Status::Approved, at).unwrap();
                assert!(matches!(put("b-1", "skincare", 500, Channel::Server), Inserted::Replaced(_)));
                assert_eq!(due(&hair, at + 1_000, 10), ["p-2", "p-3"]);
                assert_eq!(due(&skin, at + 1_000, 10), ["k-1", "b-1"]);
                assert_eq!(due(&skin, at + 499, 10), ["k-1"]);
                // Approval approves what is due, whatever the history holds.
                s.set_status("p-2", Status::Pending, Status::Rejected, at).unwrap();
                assert_eq!(due(&hair, at + 1_000, 10), ["p-3"]);
            }

            /// What a money write may change, as the store answers it.
            fn money_state(s: &Arc<dyn Store>, order: &str) -> String {
                let all = affiliate_sdk::ledger::EntryFilter::default();
                format!(
                    "{:?}\n{:?}\n{:?}\n{:?}\n{:?}\n{:?}\n{:?}",
                    s.conversion(order).unwrap(),
                    s.replaced_conversions(order).unwrap(),
                    s.ledger_entries(&all).unwrap(),
                    s.balances(&all).unwrap(),
                    s.customer("cust-a").unwrap(),
                    s.payouts(&affiliate_sdk::ledger::PayoutFilter::default()).unwrap(),
                    s.outbox_len().unwrap(),
                )
            }

            /// Runs `write` through a store that fails after 0, 1, 2, … operations of
            /// the port, until it goes through: each failed run must leave the store as
            /// it was. Returns the answer of the run that went through and how many
            /// operations it took.
            fn fails_atomically<T: std::fmt::Debug>(
                s: &Arc<dyn Store>,
                order: &str,
                write: impl Fn(&dyn Store) -> affiliate_sdk::Result<T>,
            ) -> (T, usize) {
                use std::sync::atomic::Ordering::SeqCst;
                use $crate::common::conformance::CrashAfterWrites;
                let failing = CrashAfterWrites { inner: s.clone(), writes: usize::MAX.into(), ops: 0.into() };
                for n in 0..64 {
                    failing.ops.store(n, SeqCst);
                    let before = money_state(s, order);
                    match write(&failing) {
                        Ok(done) => {
                            assert_ne!(money_state(s, order), before, "the write changed nothing");
                            return (done, n);
                        }
                        Err(e) => assert_eq!(
                            money_state(s, order),
                            before,
                            "a failure after {n} operations left a trace ({e})"
                        ),
                    }
                }
                panic!("the write never went through");
            }

            #[test]
            fn a_failure_between_two_operations_of_a_money_write_keeps_none_of_it() {
                let (s, _g) = store();
                let (t, _) = tracker(s.clone());
                let manual = t.manual(&ManualConversion::sale("m-1", "50.00", "USD", "haircare", "abc123")).unwrap();
                // A browser report squatting order b-1, replaced by the server's report of
                // it, which binds its customer: the longest sequence.
                let mut squat = manual.clone();
                squat.order_id = "b-1".into();
                squat.channel = Channel::Browser;
                squat.link = Link::parse("haircare", "solo", None, None).unwrap();
                assert_eq!(s.insert_conversion(&squat, None, None).unwrap(), Inserted::New);
                let mut server = manual.clone();
                server.order_id = "b-1".into();
                server.channel = Channel::Server;
                server.customer_id = Some("cust-a".into());
                let binding = Binding { link: server.link, bound_at: server.converted_at };
                let (done, ops) = fails_atomically(&s, "b-1", |f| f.insert_conversion(&server, Some(&binding), None));
                assert!(matches!(done, Inserted::Replaced(_)), "{done:?}");
                assert!(ops >= 6, "a replacement is several operations: {ops}");
                // A new conversion counted against its click's cap: a failed run must
                // not count it, or the run that goes through would find the cap reached.
                let mut capped = manual.clone();
                capped.order_id = "c-1".into();
                capped.channel = Channel::Browser;
                capped.click_id = Some(ClickId::from_bytes([9; 16]));
                let (done, _) = fails_atomically(&s, "c-1", |f| f.insert_conversion(&capped, None, Some(1)));
                assert_eq!(done, Inserted::New);
                // A status change that moves entries.
                let (done, _) = fails_atomically(&s, "m-1", |f| f.set_status("m-1", Status::Pending, Status::Approved, T0 + 10));
                assert!(matches!(done, StatusChange::Changed(_)), "{done:?}");
                // A payout run, then its settlement (which marks m-1 paid).
                let req = affiliate_sdk::ledger::PayoutRequest { currency: Some(usd()), ..Default::default() };
                let (made, _) = fails_atomically(&s, "m-1", |f| f.create_payouts("run-1", &req, T0 + 20));
                let made = made.payouts().to_vec();
                assert!(!made.is_empty());
                for p in &made {
                    let (settled, _) = fails_atomically(&s, "m-1", |f| f.set_payout_status(&p.id, affiliate_sdk::ledger::PayoutStatus::Paid, T0 + 30));
                    assert_eq!(settled.unwrap().status, affiliate_sdk::ledger::PayoutStatus::Paid);
                }
                assert_eq!(s.conversion("m-1").unwrap().unwrap().status, Status::Paid);
                let paid: Vec<(String, u64)> = made.iter().map(|p| (p.id.clone(), p.amount_minor)).collect();
                affiliate_sdk::ledger::check_invariants(&s.ledger_entries(&Default::default()).unwrap(), &paid).unwrap();
            }

            /// A browser conversion of campaign `beauty` (open) with `token`.
            fn browser(order: &str, amount: &str, token: &str) -> BrowserConversion {
                {
                    let mut v = BrowserConversion::default();
                    v.order_id = order.into();
                    v.amount = amount.into();
                    v.currency = "USD".into();
                    v.kind = "sale".into();
                    v.token = Some(token.into());
                    v.osig = None;
                    v
                }
            }

            fn partners_credited(t: &affiliate_sdk::Tracker) -> Vec<(String, u64)> {
                let rows = t.stats(&StatsQuery::new(&[Dimension::Partner])).unwrap();
                let mut v: Vec<(String, u64)> = rows.into_iter().filter(|r| r.sales > 0).map(|r| (r.group[0].1.clone().unwrap(), r.sales)).collect();
                v.sort();
                v
            }

            #[test]
            fn an_authenticated_channel_replaces_a_squatted_order_and_the_squatter_is_kept() {
                let (s, _g) = store();
                let (t, clock) = tracker(s.clone());
                let squatter = t.click(&t.signer().build("beauty", "solo", None, None).unwrap(), None).unwrap().token;
                let right = t.click(&t.signer().build("beauty", "abc123", None, None).unwrap(), None).unwrap().token;
                clock.advance_secs(60);
                // The squatter's browser claims the shop's next order id first.
                let squatted = t.convert_browser(&browser("next-1", "50.00", &squatter)).unwrap();
                assert_eq!((squatted.channel, squatted.replaced), (Channel::Browser, false));
                // The merchant's authenticated postback for that order replaces it.
                let c = t.convert(&sale("next-1", "50.00", Some(&right))).unwrap();
                assert!(c.replaced && !c.duplicate);
                assert_eq!((c.link.partner.as_str(), c.channel), ("abc123", Channel::Server));
                assert_eq!(s.conversion("next-1").unwrap().unwrap().link.partner.as_str(), "abc123");
                let kept = t.replaced_conversions("next-1").unwrap();
                assert_eq!(kept.len(), 1);
                assert_eq!((kept[0].link.partner.as_str(), kept[0].channel), ("solo", Channel::Browser));
                assert_eq!(partners_credited(&t), [("abc123".to_string(), 1)]);
                // The replay is a duplicate; the squatter's browser cannot take it back,
                // nor learn about it.
                let again = t.convert(&sale("next-1", "50.00", Some(&right))).unwrap();
                assert!(again.duplicate && !again.replaced);
                // Answered as a new order would be (not a duplicate, not replaced),
                // and withheld: nothing changes.
                let e = t.convert_browser(&browser("next-1", "50.00", &squatter)).unwrap();
                assert!(e.withheld && !e.duplicate && !e.replaced);
                assert_eq!(t.conversion("next-1").unwrap().link.partner.as_str(), "abc123");
                assert_eq!(t.replaced_conversions("next-1").unwrap().len(), 1);
                // A manual entry replaces a squatted order too.
                t.convert_browser(&browser("next-2", "20.00", &squatter)).unwrap();
                let m = t.manual(&ManualConversion::sale("next-2", "20.00", "USD", "beauty", "abc123")).unwrap();
                assert!(m.replaced);
                // The same browser repeating its own order is a replay.
                let mine = t.convert_browser(&browser("mine-1", "10.00", &right)).unwrap();
                assert!(t.convert_browser(&browser("mine-1", "10.00", &right)).unwrap().duplicate);
                assert_eq!(s.conversion("mine-1").unwrap(), Some(mine));
            }

            #[test]
            fn a_rejected_order_id_is_attributed_again_by_an_authenticated_channel() {
                let (s, _g) = store();
                let (t, clock) = tracker(s.clone());
                let manual = |partner: &str| {
                    let mut v = ManualConversion::sale("rj-1", "80.00", "EUR", "skincare", partner);
                    v.customer_id = Some("cust-9".into());
                    v
                };
                t.manual(&manual("solo")).unwrap();
                assert_eq!(s.customer("cust-9").unwrap().iter().next().unwrap().link.partner.as_str(), "solo");
                t.set_status("rj-1", Status::Rejected).unwrap();
                // The same attribution again is a replay: a retry does not undo a rejection.
                let replay = t.manual(&manual("solo")).unwrap();
                assert!(replay.duplicate && replay.status == Status::Rejected);
                // Another partner's entry attributes the order id again, and the
                // customer the rejected sale bound follows it.
                let c = t.manual(&manual("abc123")).unwrap();
                assert!(c.replaced);
                assert_eq!((c.link.partner.as_str(), c.status), ("abc123", Status::Pending));
                assert_eq!(t.replaced_conversions("rj-1").unwrap()[0].status, Status::Rejected);
                assert_eq!(s.customer("cust-9").unwrap().iter().next().unwrap().link.partner.as_str(), "abc123");
                // So does a postback with a token of another click.
                t.manual(&{
                    let mut v = manual("solo");
                    v.customer_id = None;
                    v.order_id = "rj-2".into();
                    v
                }).unwrap();
                t.set_status("rj-2", Status::Rejected).unwrap();
                let click = t.click(&t.signer().build("skincare", "abc123", None, None).unwrap(), None).unwrap();
                clock.advance_secs(120);
                let mut r = ConversionRequest::sale("rj-2", "80.00", "EUR");
                r.token = Some(click.token);
                let c = t.convert(&r).unwrap();
                assert!(c.replaced);
                assert_eq!((c.link.partner.as_str(), c.evidence), ("abc123", Evidence::Token));
                // An approved record is never replaced.
                t.set_status("rj-1", Status::Approved).unwrap();
                assert!(t.manual(&manual("solo")).unwrap().duplicate);
                assert_eq!(s.conversion("rj-1").unwrap().unwrap().link.partner.as_str(), "abc123");
            }

            #[test]
            fn a_click_makes_at_most_its_quota_of_unsigned_conversions_even_concurrently() {
                let (s, _g) = store();
                let (t, clock) = tracker(s.clone());
                let token = t.click(&t.signer().build("beauty", "solo", None, None).unwrap(), None).unwrap().token;
                clock.advance_secs(60);
                let t = Arc::new(t);
                let made: usize = (0..8)
                    .map(|i| {
                        let (t, token) = (t.clone(), token.clone());
                        std::thread::spawn(move || {
                            (0..2).filter(|j| t.convert_browser(&browser(&format!("q-{i}-{j}"), "5.00", &token)).is_ok()).count()
                        })
                    })
                    .collect::<Vec<_>>()
                    .into_iter()
                    .map(|h| h.join().unwrap())
                    .sum();
                assert_eq!(made, 3);
                let e = t.convert_browser(&browser("q-last", "5.00", &token)).unwrap_err();
                assert_eq!(e.code(), "not_attributable");
                assert_eq!(s.conversion("q-last").unwrap(), None);
                // Authenticated channels have no quota.
                let c = t.convert(&sale("q-server", "5.00", Some(&token))).unwrap();
                assert_eq!(c.channel, Channel::Server);
            }

            #[test]
            fn a_days_counters_keep_at_most_max_sids_per_day_and_the_rest_under_other() {
                let limits = affiliate_sdk::store::StoreLimits { max_sids_per_day: 3, ..Default::default() };
                let (s, _g) = store_with(&limits);
                let (t, _) = tracker(s.clone());
                for sid in ["s1", "s2", "s3", "s4", "s5", "s1", "s6"] {
                    t.click(&t.signer().build("haircare", "abc123", None, Some(sid)).unwrap(), None).unwrap();
                }
                // Another partner has its own three.
                for sid in ["s4", "s5", "s6", "s7"] {
                    t.click(&t.signer().build("haircare", "solo", None, Some(sid)).unwrap(), None).unwrap();
                }
                let rows = t.stats(&StatsQuery::new(&[Dimension::Partner, Dimension::Sid])).unwrap();
                let got: Vec<(String, String, u64)> = rows.iter().map(|r| (
                    r.group[0].1.clone().unwrap(),
                    r.group[1].1.clone().unwrap_or_default(),
                    r.clicks,
                )).collect();
                let want: Vec<(String, String, u64)> = [
                    ("abc123", "(other)", 3), ("abc123", "s1", 2), ("abc123", "s2", 1), ("abc123", "s3", 1),
                    ("solo", "(other)", 1), ("solo", "s4", 1), ("solo", "s5", 1), ("solo", "s6", 1),
                ].iter().map(|(p, s, n)| (p.to_string(), s.to_string(), *n)).collect();
                assert_eq!(got, want);
                // Once written and read back, the same.
                s.flush().unwrap();
                let again = t.stats(&StatsQuery::new(&[Dimension::Partner, Dimension::Sid])).unwrap();
                assert_eq!(again, rows);
                assert_eq!(s.dropped(), affiliate_sdk::store::Dropped::default());
            }

            #[test]
            fn program_records_are_kept_by_kind_and_key_and_bump_the_version() {
                use affiliate_sdk::store::RecordKind::{Campaign, Partner};
                let (s, _g) = store();
                let v0 = s.program_version().unwrap();
                assert!(s.records(Partner).unwrap().is_empty());
                assert!(s.put_record(Partner, "abc123", r#"{"code":"abc123"}"#, true).unwrap());
                assert!(s.put_record(Partner, "boss", r#"{"code":"boss"}"#, true).unwrap());
                assert!(s.put_record(Campaign, "abc123", r#"{"code":"abc123","c":1}"#, true).unwrap());
                let v1 = s.program_version().unwrap();
                assert_eq!(v1, v0 + 3);
                // Create-only leaves an existing record alone and changes no version.
                assert!(!s.put_record(Partner, "abc123", r#"{"code":"other"}"#, true).unwrap());
                assert_eq!(s.program_version().unwrap(), v1);
                // The same record again changes nothing; a change replaces it.
                assert!(s.put_record(Partner, "boss", r#"{"code":"boss"}"#, false).unwrap());
                assert_eq!(s.program_version().unwrap(), v1);
                assert!(s.put_record(Partner, "abc123", r#"{"code":"abc123","name":"A"}"#, false).unwrap());
                assert_eq!(s.program_version().unwrap(), v1 + 1);
                assert_eq!(
                    s.records(Partner).unwrap(),
                    [("abc123".to_string(), r#"{"code":"abc123","name":"A"}"#.to_string()),
                     ("boss".to_string(), r#"{"code":"boss"}"#.to_string())]
                );
                assert_eq!(s.records(Campaign).unwrap().len(), 1);
            }

            #[test]
            fn a_program_change_through_one_tracker_reaches_another_on_refresh() {
                let (s, _g) = store();
                let (a, _) = tracker(s.clone());
                let b = affiliate_sdk::Tracker::open(a.signer().clone(), s.clone()).unwrap();
                assert!(b.partner("solo").is_some() && b.campaign("skincare").is_some());
                assert!(!b.refresh().unwrap(), "nothing changed since it opened");
                let mut newbie = affiliate_sdk::PartnerSpec::new("newbie");
                newbie.parent = Some("boss".into());
                a.add_partner(&newbie).unwrap();
                let link = a.signer().build("haircare", "newbie", None, None).unwrap();
                assert_eq!(b.click(&link, None).unwrap_err().code(), "unknown_partner");
                assert!(b.refresh().unwrap());
                assert!(b.click(&link, None).is_ok());
                assert_eq!(b.partner("newbie").unwrap().parent.unwrap().as_str(), "boss");
                // A refused partner is stored nowhere.
                let mut cyclic = affiliate_sdk::PartnerSpec::new("boss");
                cyclic.parent = Some("newbie".into());
                assert_eq!(a.add_partner(&cyclic).unwrap_err().code(), "malformed");
                assert!(!b.refresh().unwrap());
                assert_eq!(b.partner("boss").unwrap().parent, None);
            }

            #[test]
            fn suspended_partners_and_paused_campaigns_behave_as_documented() {
                let (s, _g) = store();
                let (t, clock) = tracker(s.clone());
                let mid_link = t.signer().build("haircare", "mid", None, None).unwrap();
                let abc_link = t.signer().build("haircare", "abc123", None, None).unwrap();
                let before = t.click(&abc_link, None).unwrap().token;
                // mid (abc123's parent) suspended, through another tracker on the store.
                let other = affiliate_sdk::Tracker::open(t.signer().clone(), s.clone()).unwrap();
                let mut mid = affiliate_sdk::PartnerSpec::new("mid");
                mid.parent = Some("boss".into());
                mid.status = affiliate_sdk::PartnerStatus::Suspended;
                other.add_partner(&mid).unwrap();
                assert!(t.refresh().unwrap());
                // Its clicks land on the destination uncredited.
                let refused = t.land(&mid_link, None).unwrap_err();
                assert_eq!(refused.error.code(), "not_attributable");
                assert_eq!(refused.fallback.as_deref(), Some("https://shop.example/hair?ref=x"));
                // A child's conversion pays no override to it; the grandparent still earns.
                clock.advance_secs(60);
                let c = t.convert(&sale("SP-1", "100.00", Some(&before))).unwrap();
                let shares: Vec<(String, u8)> = c.commissions.iter().map(|x| (x.partner.to_string(), x.level)).collect();
                assert_eq!(shares, [("abc123".to_string(), 0), ("boss".to_string(), 2)]);
                // Its own new conversions are not attributable.
                let m = ManualConversion::sale("SP-2", "1.00", "USD", "haircare", "mid");
                assert_eq!(t.manual(&m).unwrap_err().code(), "not_attributable");
                // A paused campaign: new clicks land uncredited, earlier tokens attribute.
                let mut spec = affiliate_sdk::CampaignSpec::new("haircare", "https://shop.example/hair?ref=x", "USD");
                spec.sale_percent = Some("10".into());
                spec.status = affiliate_sdk::CampaignStatus::Paused;
                t.add_campaign(&spec).unwrap();
                assert_eq!(t.land(&abc_link, None).unwrap_err().error.code(), "not_attributable");
                let c = t.convert(&sale("SP-3", "10.00", Some(&before))).unwrap();
                assert_eq!(c.link.partner.as_str(), "abc123");
                // The store keeps both statuses for the next tracker.
                let fresh = affiliate_sdk::Tracker::open(t.signer().clone(), s.clone()).unwrap();
                assert_eq!(fresh.partner("mid").unwrap().status, affiliate_sdk::PartnerStatus::Suspended);
                assert_eq!(fresh.campaign("haircare").unwrap().status(), affiliate_sdk::CampaignStatus::Paused);
            }

            #[test]
            fn deleted_records_are_gone_and_bump_the_version() {
                use affiliate_sdk::store::RecordKind::{Coupon, Partner};
                let (s, _g) = store();
                assert!(s.put_record(Coupon, "SAVE10", r#"{"code":"SAVE10","partner":"a"}"#, true).unwrap());
                // Create-only with exactly the stored record is not a refusal.
                assert!(s.put_record(Coupon, "SAVE10", r#"{"code":"SAVE10","partner":"a"}"#, true).unwrap());
                assert!(!s.put_record(Coupon, "SAVE10", r#"{"code":"SAVE10","partner":"b"}"#, true).unwrap());
                let v = s.program_version().unwrap();
                assert!(!s.delete_record(Partner, "SAVE10").unwrap(), "another kind's key");
                assert_eq!(s.program_version().unwrap(), v);
                assert!(s.delete_record(Coupon, "SAVE10").unwrap());
                assert_eq!(s.program_version().unwrap(), v + 1);
                assert!(s.records(Coupon).unwrap().is_empty());
                assert!(!s.delete_record(Coupon, "SAVE10").unwrap());
                assert_eq!(s.program_version().unwrap(), v + 1);
            }

            #[test]
            fn a_swap_writes_only_over_the_record_it_expects() {
                use affiliate_sdk::store::RecordKind::Partner;
                let (s, _g) = store();
                assert!(!s.swap_record(Partner, "a", "{}", r#"{"v":1}"#).unwrap(), "missing");
                s.put_record(Partner, "a", r#"{"v":1}"#, true).unwrap();
                let v = s.program_version().unwrap();
                assert!(!s.swap_record(Partner, "a", r#"{"v":0}"#, r#"{"v":2}"#).unwrap());
                assert_eq!(s.program_version().unwrap(), v);
                assert!(s.swap_record(Partner, "a", r#"{"v":1}"#, r#"{"v":2}"#).unwrap());
                assert_eq!(s.program_version().unwrap(), v + 1);
                // The same swap again (an answer lost, a retry) finds it done.
                assert!(s.swap_record(Partner, "a", r#"{"v":1}"#, r#"{"v":2}"#).unwrap());
                assert_eq!(s.records(Partner).unwrap(), [("a".to_string(), r#"{"v":2}"#.to_string())]);
            }

            #[test]
            fn changes_to_one_partner_through_two_trackers_are_both_kept() {
                let (s, _g) = store();
                let (a, _) = tracker(s.clone());
                let b = affiliate_sdk::Tracker::open(a.signer().clone(), s.clone()).unwrap();
                // b has not seen a's change when it makes its own.
                a.update_partner("solo", &serde_json::json!({"name": "Solo"})).unwrap();
                b.update_partner("solo", &serde_json::json!({"email": "solo@x.example"})).unwrap();
                let fresh = affiliate_sdk::Tracker::open(a.signer().clone(), s.clone()).unwrap();
                let solo = fresh.partner("solo").unwrap();
                assert_eq!((solo.name.as_deref(), solo.email.as_deref()), (Some("Solo"), Some("solo@x.example")));
                // Many at once, each a different field of the same record.
                std::thread::scope(|sc| {
                    for (t, field) in [(&a, "payout_details"), (&b, "postback_url")] {
                        sc.spawn(move || {
                            let value = if field == "postback_url" { "https://p.example/pb" } else { "IBAN" };
                            t.update_partner("solo", &serde_json::json!({ field: value })).unwrap();
                        });
                    }
                });
                let fresh = affiliate_sdk::Tracker::open(a.signer().clone(), s.clone()).unwrap();
                let solo = fresh.partner("solo").unwrap();
                assert_eq!(solo.payout_details.as_deref(), Some("IBAN"));
                assert_eq!(solo.postback_url.as_deref(), Some("https://p.example/pb"));
                assert_eq!(solo.name.as_deref(), Some("Solo"));
            }

            #[test]
            fn many_records_are_written_in_one_go_and_only_changes_count() {
                use affiliate_sdk::store::RecordKind::{Coupon, Partner};
                let (s, _g) = store();
                assert!(s.put_record(Coupon, "OLD", r#"{"code":"OLD","partner":"a"}"#, true).unwrap());
                let v = s.program_version().unwrap();
                let batch: Vec<_> = (0..500)
                    .map(|i| (Partner, format!("p{i}"), Some(format!(r#"{{"code":"p{i}"}}"#))))
                    .chain([(Coupon, "OLD".to_string(), None)])
                    .collect();
                assert_eq!(s.put_records(&batch).unwrap(), 501);
                assert!(s.program_version().unwrap() > v);
                assert_eq!(s.records(Partner).unwrap().len(), 500);
                assert!(s.records(Coupon).unwrap().is_empty());
                // The same batch again changes nothing, not even the version.
                let v = s.program_version().unwrap();
                assert_eq!(s.put_records(&batch).unwrap(), 0);
                assert_eq!(s.program_version().unwrap(), v);
                let one = [(Partner, "p7".to_string(), Some(r#"{"code":"p7","name":"x"}"#.to_string()))];
                assert_eq!(s.put_records(&one).unwrap(), 1);
                assert!(s.program_version().unwrap() > v);
            }

            #[test]
            fn coupons_ads_and_config_management_are_shared_through_the_store() {
                use affiliate_sdk::store::RecordKind;
                let (s, _g) = store();
                let (a, _) = tracker(s.clone());
                let b = affiliate_sdk::Tracker::open(a.signer().clone(), s.clone()).unwrap();
                // A coupon for one campaign, added through a, credits on b after refresh.
                let c = a.add_coupon("solo", "spring-25", Some("skincare")).unwrap();
                assert_eq!((c.code.as_str(), c.campaign.unwrap().as_str()), ("SPRING-25", "skincare"));
                assert!(b.refresh().unwrap());
                let mut order = sale("CP-1", "20.00", None);
                order.coupon = Some("Spring-25".into());
                order.currency = "EUR".into();
                order.campaign = Some("skincare".into());
                assert_eq!(b.convert(&order).unwrap().link.partner.as_str(), "solo");
                let mut other = sale("CP-2", "20.00", None);
                other.coupon = Some("spring-25".into());
                other.campaign = Some("haircare".into());
                assert_eq!(b.convert(&other).unwrap_err().code(), "not_attributable");
                // One code, one partner, whichever tracker asks.
                assert_eq!(b.add_coupon("abc123", "SPRING-25", None).unwrap_err().code(), "conflict");
                assert_eq!(b.add_coupon("ghost", "X1", None).unwrap_err().code(), "unknown_partner");
                assert_eq!(b.add_coupon("solo", "X1", Some("nope")).unwrap_err().code(), "unknown_campaign");
                assert_eq!(b.remove_coupon("spring-25").unwrap().partner.as_str(), "solo");
                assert!(a.refresh().unwrap());
                assert!(a.coupons(Some("solo")).iter().all(|c| c.code.as_str() != "SPRING-25"));
                // Ads are records too.
                let ad = {
                    let mut v = affiliate_sdk::AdSpec::default();
                    v.code = "banner1".into();
                    v.partner = "solo".into();
                    v.name = "Spring banner".into();
                    v.media_type = affiliate_sdk::MediaType::Image;
                    v.starts_on = Some("2026-03-01".into());
                    v
                };
                a.add_ad(&ad).unwrap();
                assert_eq!(b.ads("solo").unwrap(), std::slice::from_ref(&ad));
                assert!(b.ads("abc123").unwrap().is_empty());
                let bad = {
                    let mut v = ad.clone();
                    v.starts_on = Some("2026-02-30".into());
                    v
                };
                assert_eq!(a.add_ad(&bad).unwrap_err().code(), "malformed");
                let orphan = {
                    let mut v = ad;
                    v.partner = "ghost".into();
                    v
                };
                assert_eq!(a.add_ad(&orphan).unwrap_err().code(), "unknown_partner");
                // What the configuration manages is refused to the API on every tracker.
                let hair = a.campaign("haircare").unwrap().spec().clone();
                let solo = {
                    let mut v = a.partner("solo").unwrap().spec();
                    v.coupons = vec!["SOLO5".into()];
                    v
                };
                a.add_partner(&solo).unwrap();
                a.add_coupon("solo", "EXTRA", None).unwrap();
                a.apply_config(&[hair], &[solo]).unwrap();
                // Applied again unchanged (every start), nothing moves.
                let v = s.program_version().unwrap();
                a.apply_config(&[a.campaign("haircare").unwrap().spec().clone()], &[{
                    let mut v = a.partner("solo").unwrap().spec();
                    v.coupons = vec!["SOLO5".into()];
                    v
                }]).unwrap();
                assert_eq!(s.program_version().unwrap(), v);
                // The configuration's coupon list is exact for the partners it manages.
                let held: Vec<String> = a.coupons(Some("solo")).iter().map(|c| c.code.to_string()).collect();
                assert_eq!(held, ["SOLO5"]);
                b.refresh().unwrap();
                assert!(b.managed_by_config(RecordKind::Campaign, "haircare"));
                let patch = serde_json::json!({"status": "paused"});
                assert_eq!(b.update_campaign("haircare", &patch).unwrap_err().code(), "managed_by_config");
                assert_eq!(b.update_partner("solo", &patch).unwrap_err().code(), "managed_by_config");
                assert_eq!(b.add_coupon("solo", "MORE", None).unwrap_err().code(), "managed_by_config");
                assert_eq!(b.remove_coupon("solo5").unwrap_err().code(), "managed_by_config");
                assert_eq!(b.update_campaign("skincare", &patch).unwrap().status(), affiliate_sdk::CampaignStatus::Paused);
                // Created once: a second create is a conflict, on the same or another tracker.
                let newbie = affiliate_sdk::PartnerSpec::new("newbie");
                a.create_partner(&newbie).unwrap();
                b.refresh().unwrap();
                assert_eq!(b.create_partner(&newbie).unwrap_err().code(), "conflict");
                let fresh = affiliate_sdk::Tracker::open(a.signer().clone(), s.clone()).unwrap();
                assert!(fresh.managed_by_config(RecordKind::Partner, "solo"));
                assert!(!fresh.managed_by_config(RecordKind::Partner, "newbie"));
            }

            #[test]
            fn conversions_are_listed_newest_first_a_page_at_a_time() {
                let (s, _g) = store();
                let (t, clock) = tracker(s);
                for i in 0..7 {
                    let m = ManualConversion::sale(&format!("L-{i}"), "10.00", "USD", "haircare", if i % 2 == 0 { "abc123" } else { "solo" });
                    t.manual(&m).unwrap();
                    clock.advance_secs(if i == 3 { 0 } else { 10 });
                }
                t.set_status("L-2", affiliate_sdk::Status::Approved).unwrap();
                let all = affiliate_sdk::ConversionQuery::default();
                let mut seen = Vec::new();
                let mut cursor = None;
                loop {
                    let page = t.conversions_page(&all, 3, cursor.as_deref()).unwrap();
                    seen.extend(page.conversions.iter().map(|c| c.order_id.clone()));
                    cursor = page.next_cursor;
                    if cursor.is_none() { break; }
                }
                // L-3 and L-4 share a second: the tie goes by order id, descending.
                assert_eq!(seen, ["L-6", "L-5", "L-4", "L-3", "L-2", "L-1", "L-0"]);
                let q = {
                    let mut v = affiliate_sdk::ConversionQuery::default();
                    v.partner = Some(affiliate_sdk::Code::new("solo").unwrap());
                    v
                };
                let ids: Vec<String> = t.conversions_page(&q, 1000, None).unwrap().conversions.into_iter().map(|c| c.order_id).collect();
                assert_eq!(ids, ["L-5", "L-3", "L-1"]);
                let q = {
                    let mut v = affiliate_sdk::ConversionQuery::default();
                    v.status = Some(affiliate_sdk::Status::Approved);
                    v
                };
                assert_eq!(t.conversions_page(&q, 10, None).unwrap().conversions.len(), 1);
                assert_eq!(t.conversions_page(&all, 0, None).unwrap_err().code(), "malformed");
                assert_eq!(t.conversions_page(&all, 1001, None).unwrap_err().code(), "malformed");
                assert_eq!(t.conversions_page(&all, 10, Some("nonsense!")).unwrap_err().code(), "malformed");
                // Bulk status: each order on its own.
                let ids = ["L-0".to_string(), "L-2".to_string(), "nope".to_string()];
                let results = t.set_statuses(&ids, affiliate_sdk::Status::Approved).unwrap();
                assert!(results[0].1.is_ok());
                assert_eq!(results[1].1.as_ref().unwrap_err().code(), "invalid_transition");
                assert_eq!(results[2].1.as_ref().unwrap_err().code(), "not_found");
                assert_eq!(t.conversion("L-0").unwrap().status, affiliate_sdk::Status::Approved);
            }

            #[test]
            fn approve_after_days_approves_each_conversion_once_across_trackers() {
                let (s, _g) = store();
                let (a, clock) = tracker(s.clone());
                let mut hair = a.campaign("haircare").unwrap().spec().clone();
                hair.approve_after_days = 3;
                a.add_campaign(&hair).unwrap();
                for i in 0..120 {
                    a.manual(&ManualConversion::sale(&format!("AD-{i}"), "10.00", "USD", "haircare", "solo")).unwrap();
                }
                // Another campaign without the period is left to the merchant.
                let skin = {
                    let mut v = ManualConversion::sale("AD-skin", "5.00", "EUR", "skincare", "solo");
                    v.currency = "EUR".into();
                    v.campaign = "skincare".into();
                    v
                };
                a.manual(&skin).unwrap();
                a.set_status("AD-7", affiliate_sdk::Status::Rejected).unwrap();
                let b = affiliate_sdk::Tracker::open(a.signer().clone(), s.clone()).unwrap().with_clock(clock.clone());
                clock.advance_secs(3 * 86_400 - 1);
                assert_eq!(a.approve_due().unwrap() + b.approve_due().unwrap(), 0, "not yet");
                clock.advance_secs(1);
                // Both at once, as two servers would.
                let (na, nb) = std::thread::scope(|sc| {
                    let ha = sc.spawn(|| a.approve_due().unwrap());
                    let hb = sc.spawn(|| b.approve_due().unwrap());
                    (ha.join().unwrap(), hb.join().unwrap())
                });
                assert_eq!(na + nb, 119, "each approved once ({na} + {nb})");
                assert_eq!(a.approve_due().unwrap(), 0);
                assert_eq!(a.conversion("AD-7").unwrap().status, affiliate_sdk::Status::Rejected);
                assert_eq!(a.conversion("AD-0").unwrap().status, affiliate_sdk::Status::Approved);
                assert_eq!(a.conversion("AD-skin").unwrap().status, affiliate_sdk::Status::Pending);
            }

            #[test]
            fn approve_after_days_leaves_unsigned_browser_conversions_to_a_person() {
                let (s, _g) = store();
                let (t, clock) = tracker(s.clone());
                let mut hair = t.campaign("haircare").unwrap().spec().clone();
                hair.approve_after_days = 1;
                t.add_campaign(&hair).unwrap();
                let vouched = t.manual(&ManualConversion::sale("V-1", "10.00", "USD", "haircare", "solo")).unwrap();
                for (order, channel) in [("U-1", Channel::Browser), ("S-1", Channel::SignedBrowser), ("P-1", Channel::Server)] {
                    let mut c = vouched.clone();
                    c.order_id = order.into();
                    c.channel = channel;
                    assert_eq!(s.insert_conversion(&c, None, None).unwrap(), Inserted::New);
                }
                clock.advance_secs(86_400);
                assert_eq!(t.approve_due().unwrap(), 3);
                let status = |o: &str| t.conversion(o).unwrap().status;
                assert_eq!(
                    [status("V-1"), status("S-1"), status("P-1"), status("U-1")],
                    [Status::Approved, Status::Approved, Status::Approved, Status::Pending]
                );
                assert_eq!(t.approve_due().unwrap(), 0, "the unsigned one waits");
                // A campaign may opt in.
                hair.auto_approve_unsigned = true;
                t.add_campaign(&hair).unwrap();
                assert_eq!(t.approve_due().unwrap(), 1);
                assert_eq!(status("U-1"), Status::Approved);
            }

            #[test]
            fn the_ledger_follows_every_status_and_is_shared() {
                let (s, _g) = store();
                let (t, clock) = tracker(s.clone());
                // abc123 < mid < boss: 10 % of the sale, 10 % and 5 % of that above.
                let sale = |id: &str, amount: &str| ManualConversion::sale(id, amount, "USD", "haircare", "abc123");
                t.manual(&sale("L-1", "100.00")).unwrap();
                t.manual(&sale("L-2", "200.00")).unwrap();
                t.manual(&sale("L-3", "50.00")).unwrap();
                let rows = |t: &affiliate_sdk::Tracker| -> Vec<(String, i128, i128, i128, i128)> {
                    t.balances(None, None).unwrap().into_iter()
                        .map(|(p, _, b)| (p.to_string(), b.pending, b.payable, b.paid, b.clawback)).collect()
                };
                assert_eq!(rows(&t), [
                    ("abc123".into(), 3500, 0, 0, 0),
                    ("boss".into(), 175, 0, 0, 0),
                    ("mid".into(), 350, 0, 0, 0),
                ]);
                clock.advance_secs(60);
                t.set_status("L-1", Status::Approved).unwrap();
                t.set_status("L-2", Status::Approved).unwrap();
                t.set_status("L-2", Status::Paid).unwrap();
                t.set_status("L-3", Status::Rejected).unwrap();
                // Paid by hand, then refunded: clawed back.
                t.set_status("L-2", Status::Reversed).unwrap();
                let other = affiliate_sdk::Tracker::open(t.signer().clone(), s.clone()).unwrap();
                assert_eq!(rows(&other), [
                    ("abc123".into(), 0, 1000, 2000, 2000),
                    ("boss".into(), 0, 50, 100, 100),
                    ("mid".into(), 0, 100, 200, 200),
                ]);
                let usd = t.balances(Some("mid"), Some("USD")).unwrap();
                assert_eq!(usd.len(), 1);
                assert!(t.balances(Some("mid"), Some("EUR")).unwrap().is_empty());
                assert_eq!(t.balances(Some("a b"), None).unwrap_err().code(), "malformed");
                let entries = s.ledger_entries(&affiliate_sdk::ledger::EntryFilter { order_id: Some("L-2".into()), ..Default::default() }).unwrap();
                assert_eq!(entries.len(), 6, "three commissions, three clawbacks: {entries:?}");
            }

            #[test]
            fn every_status_transition() {
                use Status::*;
                let all = [Pending, Approved, Paid, Rejected, Reversed];
                let allowed: HashSet<(Status, Status)> = [(Pending, Approved), (Approved, Paid), (Pending, Rejected), (Approved, Rejected), (Approved, Reversed), (Paid, Reversed)].into();
                let (s, _g) = store();
                let (t, _) = tracker(s);
                let path_to = |st: Status| -> Vec<Status> {
                    match st { Pending => vec![], Approved => vec![Approved], Paid => vec![Approved, Paid], Rejected => vec![Rejected], Reversed => vec![Approved, Reversed] }
                };
                let mut n = 0;
                for from in all {
                    for to in all {
                        n += 1;
                        let id = format!("o-{n}");
                        t.manual(&{
                            let mut v = ManualConversion::default();
                            v.order_id = id.clone();
                            v.amount = "20.00".into();
                            v.currency = "USD".into();
                            v.kind = "sale".into();
                            v.campaign = "haircare".into();
                            v.partner = "solo".into();
                            v
                        }).unwrap();
                        for step in path_to(from) {
                            t.set_status(&id, step).unwrap();
                        }
                        let result = t.set_status(&id, to);
                        if allowed.contains(&(from, to)) {
                            assert_eq!(result.unwrap().status, to);
                        } else {
                            assert_eq!(result.unwrap_err().code(), "invalid_transition", "{from} -> {to}");
                            assert_eq!(t.conversion(&id).unwrap().status, from);
                        }
                    }
                }
                assert_eq!(t.set_status("missing", Approved).unwrap_err().code(), "not_found");
                // Rejected and reversed ones count as sales but earn nothing.
                let rows = t.stats(&StatsQuery::new(&[])).unwrap();
                assert_eq!(rows[0].sales, 25);
                let earning = (0..25).filter(|i| { let (f, to) = (all[i / 5], all[i % 5]); let end = if allowed.contains(&(f, to)) { to } else { f }; end.counts_money() }).count();
                assert_eq!(rows[0].revenue.minor(usd()), 2000 * earning as u128);
            }

            #[test]
            fn click_and_impression_commissions_and_filters() {
                let (s, _g) = store();
                let (t, clock) = tracker(s);
                let url = t.signer().build("haircare", "abc123", Some("banner"), None).unwrap();
                for _ in 0..3 {
                    t.click(&url, None).unwrap();
                }
                for _ in 0..1_001 {
                    t.impression(&url).unwrap();
                }
                clock.advance_secs(DAY);
                t.impression(&t.signer().build("haircare", "solo", None, None).unwrap()).unwrap();
                assert_eq!(t.impression(&url.replace("banner", "banned")).unwrap_err().code(), "invalid_signature");
                let rows = t.stats(&StatsQuery::new(&[Dimension::Partner, Dimension::Ad, Dimension::Day])).unwrap();
                assert_eq!(rows.len(), 2);
                let r = &rows[0];
                assert_eq!((r.get(Dimension::Partner), r.get(Dimension::Ad), r.get(Dimension::Day)), (Some("abc123"), Some("banner"), Some("2023-11-14")));
                // 3 clicks at 0.05 and 1,001 impressions at 1.50 per mille (1.5015 -> 1.50),
                // and every level's override of it (as the ledger writes them): mid 10%
                // (0.165 -> 0.17), boss 5% (0.0825 -> 0.08).
                assert_eq!((r.clicks, r.impressions, r.commission.decimal(usd())), (3, 1001, "1.90".into()));
                assert_eq!((rows[1].get(Dimension::Ad), rows[1].get(Dimension::Day)), (None, Some("2023-11-15")));
                let mut q = StatsQuery::new(&[Dimension::Partner]).between("2023-11-15", "2023-11-15").unwrap();
                assert_eq!(t.stats(&q).unwrap().len(), 1);
                q.partner = Some(Code::new("abc123").unwrap());
                assert!(t.stats(&q).unwrap().is_empty());
                let q = {
                    let mut v = StatsQuery::new(&[]);
                    v.campaign = Some(Code::new("skincare").unwrap());
                    v
                };
                assert!(t.stats(&q).unwrap().is_empty());
            }

            #[test]
            fn a_days_traffic_enters_the_ledger_once_across_trackers_and_equals_the_stats() {
                let (s, _g) = store();
                let (a, clock) = tracker(s.clone());
                let mut hair = a.campaign("haircare").unwrap().spec().clone();
                hair.approve_after_days = 2;
                a.add_campaign(&hair).unwrap();
                let url = a.signer().build("haircare", "abc123", None, Some("kw")).unwrap();
                for _ in 0..3 {
                    a.click(&url, None).unwrap();
                }
                for _ in 0..1_001 {
                    a.impression(&url).unwrap();
                }
                let solo = a.signer().build("haircare", "solo", None, None).unwrap();
                a.click(&solo, None).unwrap();
                a.click(&solo, None).unwrap();
                a.flush().unwrap();
                let b = affiliate_sdk::Tracker::open(a.signer().clone(), s.clone()).unwrap().with_clock(clock.clone());
                // The day ends at midnight; an hour of grace for every server's clicks.
                let end = (T0 / DAY + 1) * DAY;
                clock.advance_secs(end + affiliate_sdk::TRAFFIC_GRACE_SECS - 1 - T0);
                assert_eq!(a.close_traffic().unwrap().written, 0, "not yet");
                clock.advance_secs(1);
                let (na, nb) = std::thread::scope(|sc| {
                    let ha = sc.spawn(|| a.close_traffic().unwrap());
                    let hb = sc.spawn(|| b.close_traffic().unwrap());
                    (ha.join().unwrap(), hb.join().unwrap())
                });
                assert_eq!(na.written + nb.written, 4, "each entry once ({na:?} {nb:?})");
                assert_eq!(a.close_traffic().unwrap().written, 0);
                let owed = |p: &str| a.balances(Some(p), None).unwrap().first().map(|r| (r.2.pending, r.2.payable));
                assert_eq!(owed("abc123"), Some((165, 0)));
                assert_eq!(owed("mid"), Some((17, 0)));
                assert_eq!(owed("boss"), Some((8, 0)));
                assert_eq!(owed("solo"), Some((10, 0)));
                // The stats of the closed day: per referring partner, every level.
                let day = affiliate_sdk::format_day((T0 / DAY) as u32);
                let rows = a.stats(&StatsQuery::new(&[Dimension::Partner]).between(&day, &day).unwrap()).unwrap();
                let listed = a.traffic(None, Some(&day), Some(&day)).unwrap();
                for row in &rows {
                    let p = row.get(Dimension::Partner).unwrap();
                    let ledger: u64 = listed.iter().filter(|e| e.partner.as_str() == p)
                        .map(|e| affiliate_sdk::Money::parse(&e.amount, "USD").unwrap().minor()).sum();
                    assert_eq!(row.commission.minor(usd()), u128::from(ledger), "{p}");
                }
                assert_eq!(listed.len(), 4);
                // Payable once the approval period has passed since the end of the day.
                clock.advance_secs(2 * DAY - affiliate_sdk::TRAFFIC_GRACE_SECS - 1);
                assert_eq!(a.close_traffic().unwrap().approved, 0, "not yet");
                clock.advance_secs(1);
                assert_eq!(b.close_traffic().unwrap().approved, 4);
                assert_eq!(a.close_traffic().unwrap().approved, 0);
                assert_eq!(owed("abc123"), Some((0, 165)));
                // A rejected day is void, every level; again changes nothing.
                let r = a.reject_traffic(&day, "haircare", "abc123").unwrap();
                assert_eq!(r.iter().map(|e| e.state).collect::<Vec<_>>(), ["void", "void", "void"]);
                assert_eq!(a.reject_traffic(&day, "haircare", "abc123").unwrap(), r);
                assert_eq!(owed("abc123"), None);
                assert_eq!(owed("mid"), None);
                assert_eq!(owed("solo"), Some((0, 10)));
                assert_eq!(a.reject_traffic(&day, "haircare", "boss").unwrap_err().code(), "not_found");
                assert_eq!(a.reject_traffic("2023-02-30", "haircare", "solo").unwrap_err().code(), "malformed");
            }

            #[test]
            fn bad_input_changes_nothing() {
                let (s, _g) = store();
                let (t, _) = tracker(s);
                let click = t.click(&t.signer().build("haircare", "abc123", None, None).unwrap(), None).unwrap();
                for (order, amount, currency, kind) in [
                    ("", "1", "USD", "sale"), ("a b", "1", "USD", "sale"), (&*"x".repeat(129), "1", "USD", "sale"),
                    ("o", "-1", "USD", "sale"), ("o", "1.001", "USD", "sale"), ("o", "1e3", "USD", "sale"),
                    ("o", "1", "usd", "sale"), ("o", "1", "XAU", "sale"), ("o", "99999999999999999999", "USD", "sale"),
                    ("o", "1", "USD", "sa le"), ("o", "1.5", "JPY", "sale"),
                ] {
                    let mut r = ConversionRequest::sale(order, amount, currency);
                    r.kind = kind.into();
                    r.token = Some(click.token.clone());
                    assert_eq!(t.convert(&r).unwrap_err().code(), "malformed", "{order:?} {amount:?} {currency:?} {kind:?}");
                }
                let rows = t.stats(&StatsQuery::new(&[])).unwrap();
                assert_eq!((rows[0].sales, rows[0].leads), (0, 0));
                let mut m = {
                    let mut v = ManualConversion::default();
                    v.order_id = "m".into();
                    v.amount = "1".into();
                    v.currency = "USD".into();
                    v.kind = "lead".into();
                    v.campaign = "haircare".into();
                    v.partner = "ghost".into();
                    v
                };
                assert_eq!(t.manual(&m).unwrap_err().code(), "unknown_partner");
                m.partner = "solo".into();
                m.sid = Some("bad sid".into());
                assert_eq!(t.manual(&m).unwrap_err().code(), "malformed");
                m.sid = Some("good.sid".into());
                let c = t.manual(&m).unwrap();
                assert_eq!((c.evidence, c.commission().to_string()), (Evidence::Manual, "2.00".into()));
            }

            #[test]
            fn every_change_writes_its_event_with_it_and_each_event_is_fanned_out_once() {
                use affiliate_sdk::outbound::{Delivery, DeliveryFilter, DeliveryState, EventKind, EventObject, Target};
                let (s, _g) = store();
                let (t, clock) = tracker(s.clone());
                let kinds = |s: &Arc<dyn Store>| s.outbox(1000).unwrap().into_iter().map(|(_, e)| e.kind).collect::<Vec<_>>();
                // Partners added as configuration is (an upsert) are not "created".
                assert!(kinds(&s).is_empty(), "{:?}", kinds(&s));
                let mut m = ManualConversion::default();
                (m.order_id, m.amount, m.currency, m.kind) = ("E-1".into(), "100.00".into(), "USD".into(), "sale".into());
                (m.campaign, m.partner) = ("haircare".into(), "abc123".into());
                t.manual(&m).unwrap();
                t.manual(&m).unwrap(); // a replay writes nothing
                assert_eq!(kinds(&s), [EventKind::ConversionCreated]);
                t.set_status("E-1", Status::Approved).unwrap();
                assert!(t.set_status("E-1", Status::Approved).is_err()); // no change, no event
                let spec = affiliate_sdk::ledger::PayoutRunSpec { currency: "USD".into(), up_to: None, min_amount: None, partner: Some("abc123".into()) };
                let made = t.create_payouts("run-1", &spec).unwrap();
                t.create_payouts("run-1", &spec).unwrap(); // replayed: nothing
                clock.set_secs(T0 + 60);
                t.set_payout_status(&made.payouts()[0].id, "paid").unwrap();
                t.create_partner(&affiliate_sdk::PartnerSpec::new("newbie")).unwrap();
                let events = s.outbox(1000).unwrap();
                assert_eq!(s.outbox_len().unwrap(), 5);
                let got: Vec<EventKind> = events.iter().map(|(_, e)| e.kind).collect();
                assert_eq!(got, [
                    EventKind::ConversionCreated,
                    EventKind::ConversionUpdated,
                    EventKind::PayoutCreated,
                    EventKind::PayoutUpdated,
                    EventKind::PartnerCreated,
                ]);
                match &events[1].1.object {
                    EventObject::Conversion(c) => assert_eq!((c.order_id.as_str(), c.status), ("E-1", Status::Approved)),
                    other => panic!("{other:?}"),
                }
                match &events[3].1.object {
                    EventObject::Payout(p) => assert_eq!(p.status.as_str(), "paid"),
                    other => panic!("{other:?}"),
                }
                assert_eq!(events[3].1.at, T0 + 60);
                // Fan-out: each event taken once, its deliveries written with it.
                let target = Target::Webhook("crm".into());
                let planned: Vec<(u64, Vec<Delivery>)> = events.iter().enumerate().map(|(i, (seq, e))| {
                    let ds = if i % 2 == 0 {
                        vec![Delivery::new(&format!("msg_{i}"), e.kind, target.clone(), format!("{{\"n\":{i}}}"), T0 + i as u64).unwrap()]
                    } else {
                        Vec::new()
                    };
                    (*seq, ds)
                }).collect();
                assert_eq!(s.fan_out(&planned[..2]).unwrap(), 2);
                assert_eq!(s.fan_out(&planned).unwrap(), 3, "the first two are gone");
                assert_eq!(s.fan_out(&planned).unwrap(), 0);
                assert!(s.outbox(10).unwrap().is_empty());
                assert_eq!(s.outbox_len().unwrap(), 0);
                // Three deliveries, newest first, a page at a time.
                let page = |before: Option<(u64, String)>, limit| s.deliveries(&DeliveryFilter { target: target.clone(), before, limit }).unwrap();
                let all = page(None, 10);
                assert_eq!(all.iter().map(|d| d.message_id.as_str()).collect::<Vec<_>>(), ["msg_4", "msg_2", "msg_0"]);
                let first = page(None, 2);
                assert_eq!(first.len(), 2);
                let last = &first[1];
                assert_eq!(page(Some((last.created, last.id.clone())), 2).iter().map(|d| d.message_id.as_str()).collect::<Vec<_>>(), ["msg_0"]);
                assert!(s.deliveries(&DeliveryFilter { target: Target::Webhook("other".into()), before: None, limit: 10 }).unwrap().is_empty());
                // Due soonest first; a lease hides one until it ends; a swap needs the record as it is.
                let due = s.due_deliveries(T0 + 10, 10).unwrap();
                assert_eq!(due.iter().map(|d| d.message_id.as_str()).collect::<Vec<_>>(), ["msg_0", "msg_2", "msg_4"]);
                assert_eq!(s.due_deliveries(T0 + 2, 10).unwrap().len(), 2);
                let d0 = due[0].clone();
                let leased = d0.leased(T0 + 10);
                assert!(s.swap_delivery(&d0, &leased).unwrap());
                assert!(!s.swap_delivery(&d0, &d0.leased(T0 + 11)).unwrap(), "a second lease of the same record loses");
                assert_eq!(s.due_deliveries(T0 + 10, 10).unwrap().len(), 2);
                assert_eq!(s.due_deliveries(leased.leased_until, 10).unwrap().len(), 3, "an expired lease is taken over");
                let ok = affiliate_sdk::outbound::Attempt { at: T0 + 10, status: Some(204), error: None, duration_ms: 3 };
                let done = leased.after(ok, 0);
                assert!(s.swap_delivery(&leased, &done).unwrap());
                assert_eq!(s.delivery(&d0.id).unwrap().unwrap().state, DeliveryState::Delivered);
                assert!(!s.swap_delivery(&d0, &d0.leased(T0 + 50)).unwrap(), "a lease of a state read before it changed loses");
                assert_eq!(s.due_deliveries(u64::MAX / 2, 10).unwrap().len(), 2, "delivered ones are never due");
                assert_eq!(s.delivery("dlv_missing").unwrap(), None);
                // Pruning takes what is over and older, never what is pending.
                let failed = due[1].after(affiliate_sdk::outbound::Attempt { at: T0 + 10, status: Some(500), error: None, duration_ms: 1 }, 0);
                let failed = affiliate_sdk::outbound::Delivery { state: DeliveryState::Failed, ..failed };
                assert!(s.swap_delivery(&due[1], &failed).unwrap());
                assert_eq!(s.prune_deliveries(T0, 10).unwrap(), 0, "none made before T0");
                assert_eq!(s.prune_deliveries(T0 + 100, 1).unwrap(), 1, "at most max");
                assert_eq!(s.prune_deliveries(T0 + 100, 10).unwrap(), 1);
                assert_eq!(s.prune_deliveries(T0 + 100, 10).unwrap(), 0);
                assert_eq!(page(None, 10).iter().map(|d| d.message_id.as_str()).collect::<Vec<_>>(), ["msg_4"]);
                assert_eq!(s.delivery(&d0.id).unwrap(), None);
                assert_eq!(s.due_deliveries(u64::MAX / 2, 10).unwrap().len(), 1);
            }

            #[test]
            fn a_replaced_conversion_and_a_payout_failure_write_their_events() {
                use affiliate_sdk::outbound::EventKind;
                let (s, _g) = store();
                let (t, _clock) = tracker(s.clone());
                let mut m = ManualConversion::default();
                (m.order_id, m.amount, m.currency, m.kind) = ("F-1".into(), "10.00".into(), "USD".into(), "sale".into());
                (m.campaign, m.partner) = ("haircare".into(), "solo".into());
                t.manual(&m).unwrap();
                t.set_status("F-1", Status::Approved).unwrap();
                let spec = affiliate_sdk::ledger::PayoutRunSpec { currency: "USD".into(), up_to: None, min_amount: None, partner: None };
                let made = t.create_payouts("run-f", &spec).unwrap();
                t.set_payout_status(&made.payouts()[0].id, "failed").unwrap();
                assert!(t.set_payout_status(&made.payouts()[0].id, "paid").is_err());
                let kinds: Vec<EventKind> = s.outbox(100).unwrap().into_iter().map(|(_, e)| e.kind).collect();
                // A failed payout leaves its conversions as they are: no conversion event.
                assert_eq!(kinds, [EventKind::ConversionCreated, EventKind::ConversionUpdated, EventKind::PayoutCreated, EventKind::PayoutUpdated]);
            }

            #[test]
            fn concurrent_conversions_are_recorded_exactly_once() {
                // 8 threads x 10,000 conversions; every tenth reuses an order id another
                // thread also sends. Exactly one record per order id, and commission
                // totals equal a plain model's.
                let (s, _g) = store();
                let (t, _) = tracker(s);
                let t = Arc::new(t);
                let url = t.signer().build("haircare", "abc123", None, None).unwrap();
                let token = t.click(&url, None).unwrap().token;
                const THREADS: u64 = 8;
                const PER: u64 = 10_000;
                let order = |thread: u64, i: u64| -> (String, u64) {
                    if i % 10 == 0 { (format!("shared-{i}"), 1_000 + i) } else { (format!("t{thread}-{i}"), 1_000 + i) }
                };
                let results: Vec<Vec<(String, bool)>> = std::thread::scope(|sc| {
                    let handles: Vec<_> = (0..THREADS).map(|th| {
                        let t = t.clone();
                        let token = token.clone();
                        sc.spawn(move || {
                            (0..PER).map(|i| {
                                let (id, cents) = order(th, i);
                                let amount = affiliate_sdk::format_minor(cents.into(), 2);
                                let c = t.convert(&sale(&id, &amount, Some(&token))).unwrap();
                                (id, c.duplicate)
                            }).collect()
                        })
                    }).collect();
                    handles.into_iter().map(|h| h.join().unwrap()).collect()
                });
                let mut model: BTreeMap<String, u64> = BTreeMap::new();
                for th in 0..THREADS {
                    for i in 0..PER {
                        let (id, cents) = order(th, i);
                        model.insert(id, cents);
                    }
                }
                let new: Vec<&String> = results.iter().flatten().filter(|(_, d)| !d).map(|(id, _)| id).collect();
                assert_eq!(new.len(), model.len(), "one new record per order id");
                assert_eq!(new.iter().collect::<HashSet<_>>().len(), model.len());
                let stored = t.store().conversions(0, u32::MAX).unwrap();
                assert_eq!(stored.len(), model.len());
                let base: u64 = model.values().map(|c| (c * 10 + 50) / 100).sum();
                let mid: u64 = model.values().map(|c| { let b = (c * 10 + 50) / 100; (b * 10 + 50) / 100 }).sum();
                let boss: u64 = model.values().map(|c| { let b = (c * 10 + 50) / 100; (b * 5 + 50) / 100 }).sum();
                let rows = t.stats(&StatsQuery::new(&[])).unwrap();
                assert_eq!(rows[0].sales, model.len() as u64);
                assert_eq!(rows[0].revenue.minor(usd()), model.values().map(|&c| u128::from(c)).sum::<u128>());
                // Plus the one click at 0.05 and mid's 10 % of it (0.005 -> 0.01).
                assert_eq!(rows[0].commission.minor(usd()), u128::from(base + mid + boss + 5 + 1));
            }
        }
    };
}

/// A customer's sales for the erasure tests: a webhook endpoint (so events become
/// deliveries whose bodies carry the id), one click on `skincare` by `abc123`, and a
/// sale under `customer_id` for each of `orders`, the first one's events fanned out.
#[allow(dead_code)]
pub fn sales_of_customer(t: &Tracker, clock: &FixedClock, customer_id: &str, orders: &[&str]) {
    t.allow_private_destinations(true);
    t.create_webhook(&affiliate_sdk::WebhookRequest {
        id: Some("crm".into()),
        url: "http://127.0.0.1:9/hook".into(),
        ..Default::default()
    })
    .unwrap();
    let url = t.signer().build("skincare", "abc123", None, None).unwrap();
    let click = t.click(&url, None).unwrap();
    clock.advance_secs(120);
    for (i, order) in orders.iter().enumerate() {
        let mut r = affiliate_sdk::ConversionRequest::sale(order, "80.00", "EUR");
        r.token = Some(click.token.clone());
        r.customer_id = Some(customer_id.into());
        t.convert(&r).unwrap();
        if i == 0 {
            t.fan_out(100).unwrap();
        }
    }
}
