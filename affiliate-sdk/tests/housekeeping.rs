//! The core's housekeeping: what a tick runs, and the thread a Rust service spawns.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering::SeqCst};
use std::time::{Duration, Instant};

use affiliate_sdk::{
    CampaignSpec, Clock, FixedClock, Housekeeping, HousekeepingSchedule, Keyring, LinkSigner,
    ManualConversion, MemoryStore, PartnerSpec, Status, Tracker,
};

const T0: u64 = 1_700_000_000;
const DAY: u64 = 86_400;

fn tracker() -> (Arc<Tracker>, Arc<FixedClock>) {
    let clock = Arc::new(FixedClock::from_secs(T0));
    let signer = LinkSigner::new(Keyring::generate().unwrap(), "https://t.example/go").unwrap();
    let t = Tracker::new(signer, Arc::new(MemoryStore::new()))
        .with_clock(clock.clone() as Arc<dyn Clock>);
    let mut spec = CampaignSpec::new("haircare", "https://shop.example/", "USD");
    spec.sale_percent = Some("10".into());
    spec.approve_after_days = 30;
    t.add_campaign(&spec).unwrap();
    t.add_partner(&PartnerSpec::new("abc123")).unwrap();
    (Arc::new(t), clock)
}

fn sale(t: &Tracker, order: &str) {
    t.manual(&ManualConversion::sale(
        order, "10.00", "USD", "haircare", "abc123",
    ))
    .unwrap();
}

#[test]
fn a_tick_runs_each_chore_at_its_turn_and_run_now_runs_them_all() {
    let (t, clock) = tracker();
    sale(&t, "a-1");
    clock.advance_secs(30 * DAY);
    let mut chores = Housekeeping::new(HousekeepingSchedule::default()).unwrap();
    let first = chores.tick(&t, None);
    assert!(first.failed.is_empty(), "{:?}", first.failed);
    assert_eq!(first.approved, 1, "the first tick runs every chore");
    assert_eq!(t.conversion("a-1").unwrap().status, Status::Approved);
    // Approval's turn comes again only after a minute; run_now does not wait.
    sale(&t, "a-2");
    clock.advance_secs(30 * DAY);
    assert_eq!(chores.tick(&t, None).approved, 0);
    assert_eq!(chores.run_now(&t, None).approved, 1);
    assert_eq!(t.run_housekeeping(None).approved, 0);
}

#[test]
fn a_schedule_that_cannot_run_is_refused() {
    let mut s = HousekeepingSchedule::default();
    s.click_retention_days = 0;
    let e = Housekeeping::new(s).unwrap_err();
    assert_eq!(e.code(), "malformed");
    let mut s = HousekeepingSchedule::default();
    s.deliveries_per_tick = 0;
    assert!(Housekeeping::new(s).is_err());
}

#[test]
fn the_spawned_thread_approves_due_conversions_and_ends_with_the_tracker() {
    let (t, clock) = tracker();
    sale(&t, "s-1");
    clock.advance_secs(31 * DAY);
    let ticks = Arc::new(AtomicUsize::new(0));
    let seen = ticks.clone();
    let thread = Housekeeping::new(HousekeepingSchedule::default())
        .unwrap()
        .spawn(&t, None, move |done| {
            assert!(done.failed.is_empty(), "{:?}", done.failed);
            seen.fetch_add(1, SeqCst);
        })
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(10);
    while t.conversion("s-1").unwrap().status != Status::Approved {
        assert!(Instant::now() < deadline, "never approved");
        std::thread::sleep(Duration::from_millis(20));
    }
    assert!(ticks.load(SeqCst) >= 1);
    drop(t);
    let deadline = Instant::now() + Duration::from_secs(5);
    while !thread.is_finished() {
        assert!(Instant::now() < deadline, "the thread outlived its tracker");
        std::thread::sleep(Duration::from_millis(20));
    }
    thread.join().unwrap();
}

/// More unsigned browser conversions than approval reads at once (1,000) come first:
/// they stay pending and the vouched-for sale behind them is still approved.
#[test]
fn unsigned_conversions_waiting_for_a_person_do_not_hold_back_the_rest() {
    use affiliate_sdk::{Channel, StoreWrites};
    let clock = Arc::new(FixedClock::from_secs(T0));
    let signer = LinkSigner::new(Keyring::generate().unwrap(), "https://t.example/go").unwrap();
    let store = Arc::new(MemoryStore::new());
    let t = Tracker::new(signer, store.clone()).with_clock(clock.clone() as Arc<dyn Clock>);
    let mut spec = CampaignSpec::new("haircare", "https://shop.example/", "USD");
    spec.sale_percent = Some("10".into());
    spec.approve_after_days = 1;
    t.add_campaign(&spec).unwrap();
    t.add_partner(&PartnerSpec::new("abc123")).unwrap();
    let first = t
        .manual(&ManualConversion::sale(
            "m-0", "10.00", "USD", "haircare", "abc123",
        ))
        .unwrap();
    t.set_status("m-0", Status::Rejected).unwrap();
    for i in 0..1_001 {
        let mut c = first.clone();
        c.order_id = format!("u-{i:04}");
        c.channel = Channel::Browser;
        c.status = Status::Pending;
        store.insert_conversion(&c, None, None).unwrap();
    }
    clock.advance_secs(1);
    sale(&t, "m-1");
    clock.advance_secs(DAY);
    assert_eq!(t.approve_due().unwrap(), 1);
    assert_eq!(t.conversion("m-1").unwrap().status, Status::Approved);
    assert_eq!(t.conversion("u-1000").unwrap().status, Status::Pending);
}
