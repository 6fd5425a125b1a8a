//! Approving due conversions as history grows: `Tracker::approve_due` with 1,000 and
//! with 1,000,000 stored conversions, of which 100 are pending and due, on sled and (with
//! feature `postgres` and `AFFILIATE_TEST_POSTGRES_URL` set) PostgreSQL.
//!
//! `cargo bench -p affiliate-sdk --features postgres --bench approve_due` measures, per
//! store and history size:
//!
//! * the call that approves the 100 due conversions, and a second call that finds
//!   nothing due (what every server pays every minute);
//! * the peer, in the same run: what approval read before the index of pending
//!   conversions, every conversion up to the newest due day (`Store::conversions`).
//!
//! It prints the times and the growth from 1,000 to 1,000,000 (the target: at most 3x).
//! Under `cargo test --benches` it runs 100 and 2,000 conversions, to check that it works.

use std::sync::Arc;
use std::time::{Duration, Instant};

use affiliate_sdk::store::{ConversionRow, day_of, run};
use affiliate_sdk::{
    CampaignSpec, Clock, FixedClock, Keyring, LinkSigner, ManualConversion, PartnerSpec, SledStore,
    Status, Store, Tracker,
};

const DAY: u64 = 86_400;
/// Now, for the bench: history runs from two years before.
const NOW: u64 = 1_760_000_000;
const DUE: usize = 100;

struct Figures {
    approve: Duration,
    idle: Duration,
    scan: Duration,
}

/// A tracker over `store` whose campaign approves after 30 days, with `history`
/// conversions stored: `DUE` pending and due, the rest approved long ago.
fn load(store: Arc<dyn Store>, history: usize) -> Tracker {
    let clock = Arc::new(FixedClock::from_secs(NOW));
    let signer = LinkSigner::new(Keyring::generate().unwrap(), "https://t.example/go").unwrap();
    let t = Tracker::new(signer, store.clone()).with_clock(clock.clone() as Arc<dyn Clock>);
    let mut spec = CampaignSpec::new("haircare", "https://shop.example/", "USD");
    spec.sale_percent = Some("10".into());
    spec.approve_after_days = 30;
    t.add_campaign(&spec).unwrap();
    t.add_partner(&PartnerSpec::new("abc123")).unwrap();
    let model = t
        .manual(&ManualConversion::sale(
            "model", "25.00", "USD", "haircare", "abc123",
        ))
        .unwrap();
    // History in transactions of 5,000 through the store's own port.
    let old = history.saturating_sub(DUE);
    let mut i = 0;
    while i < history {
        let end = (i + 5_000).min(history);
        let batch: Vec<(affiliate_sdk::Conversion, String)> = (i..end)
            .map(|n| {
                let mut c = model.clone();
                c.order_id = format!("o-{n:08}");
                if n < old {
                    // Approved, spread over the two years before the due ones.
                    c.status = Status::Approved;
                    c.converted_at = NOW - 760 * DAY + (n as u64 * 730 * DAY) / old as u64;
                } else {
                    c.status = Status::Pending;
                    c.converted_at = NOW - 31 * DAY + (n - old) as u64;
                }
                let json = serde_json::to_string(&c).unwrap();
                (c, json)
            })
            .collect();
        run(&*store, |tx| {
            for (c, json) in &batch {
                tx.insert_conversion(ConversionRow { record: c, json })?;
            }
            Ok(())
        })
        .unwrap();
        i = end;
    }
    t
}

fn measure(store: Arc<dyn Store>, history: usize) -> Figures {
    let t = load(store.clone(), history);
    let start = Instant::now();
    let approved = t.approve_due().unwrap();
    let approve = start.elapsed();
    assert_eq!(
        approved,
        DUE.min(history),
        "every due conversion approved once"
    );
    let start = Instant::now();
    assert_eq!(t.approve_due().unwrap(), 0);
    let idle = start.elapsed();
    // The peer: the read approval made before the index.
    let start = Instant::now();
    let read = store.conversions(0, day_of(NOW - 30 * DAY)).unwrap().len();
    let scan = start.elapsed();
    assert!(read >= DUE.min(history));
    Figures {
        approve,
        idle,
        scan,
    }
}

fn ms(d: Duration) -> String {
    format!("{:.2} ms", d.as_secs_f64() * 1e3)
}

fn report(
    name: &str,
    sizes: [usize; 2],
    open: &dyn Fn() -> (Arc<dyn Store>, Box<dyn std::any::Any>),
) {
    let mut rows = Vec::new();
    for n in sizes {
        let (store, guard) = open();
        let f = measure(store, n);
        drop(guard);
        println!(
            "{name:<11} {n:>9} stored: approve {DUE} due {:>11}, nothing due {:>10}, peer (read every conversion) {:>11}",
            ms(f.approve),
            ms(f.idle),
            ms(f.scan)
        );
        rows.push(f);
    }
    let growth = |f: fn(&Figures) -> Duration| {
        f(&rows[1]).as_secs_f64() / f(&rows[0]).as_secs_f64().max(1e-9)
    };
    println!(
        "{name:<11} growth {} -> {}: approve {:.2}x, nothing due {:.2}x (target <= 3x); peer {:.0}x",
        sizes[0],
        sizes[1],
        growth(|f| f.approve),
        growth(|f| f.idle),
        growth(|f| f.scan)
    );
}

fn main() {
    let full = std::env::args().any(|a| a == "--bench");
    let sizes = if full {
        [1_000, 1_000_000]
    } else {
        [100, 2_000]
    };
    println!("== approve_due: 100 due conversions among a growing history ==");
    report("sled", sizes, &|| {
        let dir = tempfile::tempdir().unwrap();
        let store = SledStore::open(dir.path().join("sled")).unwrap();
        (Arc::new(store), Box::new(dir))
    });
    #[cfg(feature = "postgres")]
    match std::env::var("AFFILIATE_TEST_POSTGRES_URL") {
        Ok(url) => report("postgresql", sizes, &|| {
            let schema = format!(
                "bench_{}_{}",
                std::process::id(),
                std::time::SystemTime::now()
                    .duration_since(std::time::UNIX_EPOCH)
                    .unwrap()
                    .as_nanos()
            );
            let mut client = postgres::Client::connect(&url, postgres::NoTls).unwrap();
            client
                .batch_execute(&format!("CREATE SCHEMA {schema}"))
                .unwrap();
            let store = affiliate_sdk::PostgresStore::open(&format!(
                "{url}?options=-c%20search_path%3D{schema}"
            ))
            .unwrap();
            (Arc::new(store), Box::new(()))
        }),
        Err(_) => println!("postgresql  not measured: set AFFILIATE_TEST_POSTGRES_URL"),
    }
}
