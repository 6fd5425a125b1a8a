//! Storage throughput: `SledStore` against SQLite (rusqlite, bundled), the embedded
//! database a merchant would otherwise pick, doing the same operations in one run.
//!
//! `cargo bench -p affiliate-sdk --bench store` measures:
//!
//! * click recording: the click kept for click-id postbacks and its day's counters
//!   updated. SQLite: WAL, `synchronous=NORMAL` (like ours, clicks may be lost in a
//!   power cut but not corrupted), one transaction per click: `INSERT` into `clicks`
//!   and an `UPSERT` into `counters`.
//! * durable conversions with 1 and 16 concurrent writers, each with what a
//!   conversion writes in the one transaction of `insert_conversion`: the record, its
//!   ledger entries (one per commission level) and its `conversion.created` event in
//!   the outbox; acknowledged only after `fsync`. SQLite does the same rows: WAL,
//!   `synchronous=FULL`, one connection shared by the writers (its fastest setup; a
//!   connection per writer spends its time in lock waits), one transaction per
//!   conversion: `INSERT … ON CONFLICT DO NOTHING` of the record, then its entries and
//!   its event. Goals: 1.5x SQLite with one writer, 3x with sixteen.
//! * a stats query (totals per campaign, partner, ad, sid and day) over 1,000,000
//!   recorded clicks. SQLite: `GROUP BY` over its counters table.
//!
//! It prints operations per second and the ratios. Under `cargo test --benches` it runs
//! a few operations of each, to check that it works.

use affiliate_sdk::store::{ClickSink, LedgerReads};
use std::sync::Arc;
use std::time::{Duration, Instant};

use affiliate_sdk::StoreWrites as _;
use affiliate_sdk::store::{ClickRecord, Inserted};
use affiliate_sdk::{
    CampaignSpec, ClickId, ClickIdGenerator, Conversion, Currency, Dimension, Evidence, Keyring,
    Kind, Link, LinkSigner, Money, PartnerSpec, SledStore, StatsQuery, Status, Tracker,
};
use rusqlite::{Connection, params};

const T0: u64 = 1_700_000_000;

struct Sizes {
    clicks: u64,
    conversions: u64,
    stats_clicks: u64,
}

fn links() -> Vec<Link> {
    let mut v = Vec::new();
    for c in ["haircare", "skincare", "nails", "perfume"] {
        for p in ["abc123", "solo", "mid", "boss", "p5"] {
            for ad in [None, Some("banner"), Some("video")] {
                for sid in [None, Some("kw1"), Some("kw2")] {
                    v.push(Link::parse(c, p, ad, sid).unwrap());
                }
            }
        }
    }
    v
}

fn click(i: u64, ids: &ClickIdGenerator, links: &[Link], usd: Currency, days: u64) -> ClickRecord {
    let at = T0 + (i % days) * 86_400 + i % 86_400;
    ClickRecord {
        click_id: ids.next(at * 1000).unwrap(),
        link: links[(i as usize * 7) % links.len()],
        at,
        unique: !i.is_multiple_of(3),
        currency: usd,
        commission_minor: 5,
        paid_cap: 0,
    }
}

fn sqlite(path: &std::path::Path, synchronous: &str) -> Connection {
    let c = Connection::open(path).unwrap();
    c.busy_timeout(Duration::from_secs(60)).unwrap();
    c.pragma_update(None, "journal_mode", "WAL").unwrap();
    c.pragma_update(None, "synchronous", synchronous).unwrap();
    c.execute_batch(
        "CREATE TABLE IF NOT EXISTS clicks (id BLOB PRIMARY KEY, campaign TEXT, partner TEXT,
             ad TEXT, sid TEXT, at INTEGER, uniq INTEGER, currency TEXT, commission INTEGER);
         CREATE TABLE IF NOT EXISTS counters (day INTEGER, campaign TEXT, partner TEXT,
             ad TEXT, sid TEXT, currency TEXT, clicks INTEGER, unique_clicks INTEGER,
             impressions INTEGER, click_commission INTEGER,
             PRIMARY KEY (day, campaign, partner, ad, sid, currency));
         CREATE TABLE IF NOT EXISTS conversions (order_id TEXT PRIMARY KEY, body BLOB);
         CREATE TABLE IF NOT EXISTS entries (order_id TEXT, level INTEGER, partner TEXT,
             currency TEXT, state TEXT, amount INTEGER, PRIMARY KEY (order_id, level));
         CREATE TABLE IF NOT EXISTS outbox (id INTEGER PRIMARY KEY, at INTEGER, body TEXT);",
    )
    .unwrap();
    c
}

fn sqlite_click(c: &Connection, r: &ClickRecord) {
    let tx = c.unchecked_transaction().unwrap();
    let l = &r.link;
    let ad = l.ad.as_ref().map_or("", |a| a.as_str());
    let sid = l.sid.as_ref().map_or("", |s| s.as_str());
    tx.prepare_cached("INSERT INTO clicks VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)")
        .unwrap()
        .execute(params![
            &r.click_id.as_bytes()[..],
            l.campaign.as_str(),
            l.partner.as_str(),
            ad,
            sid,
            r.at as i64,
            r.unique,
            r.currency.code(),
            r.commission_minor as i64
        ])
        .unwrap();
    sqlite_click_in_tx(&tx, r);
    tx.commit().unwrap();
}

/// What `insert_conversion` writes, in SQLite: the record unless its order exists,
/// then its ledger entries and its `conversion.created` event, in one transaction.
fn sqlite_conversion(conn: &Connection, c: &Conversion) {
    use affiliate_sdk::outbound::{Event, EventKind};
    let body = serde_json::to_vec(c).unwrap();
    let event = Event::conversion(EventKind::ConversionCreated, c, c.converted_at)
        .encode()
        .unwrap();
    let tx = conn.unchecked_transaction().unwrap();
    let n = tx
        .prepare_cached("INSERT INTO conversions VALUES (?1, ?2) ON CONFLICT DO NOTHING")
        .unwrap()
        .execute(params![c.order_id, body])
        .unwrap();
    assert_eq!(n, 1);
    for e in affiliate_sdk::ledger::entries_of(c) {
        tx.prepare_cached("INSERT INTO entries VALUES (?1, ?2, ?3, ?4, ?5, ?6)")
            .unwrap()
            .execute(params![
                e.id.order_id,
                e.id.level,
                e.partner.as_str(),
                e.currency.code(),
                format!("{:?}", e.state),
                e.amount_minor as i64
            ])
            .unwrap();
    }
    tx.prepare_cached("INSERT INTO outbox (at, body) VALUES (?1, ?2)")
        .unwrap()
        .execute(params![c.converted_at as i64, event])
        .unwrap();
    tx.commit().unwrap();
}

fn conversion(order: u64, link: Link, usd: Currency) -> Conversion {
    Conversion {
        order_id: format!("order-{order}"),
        kind: Kind::Sale,
        amount: Money::from_minor(4990, usd),
        link,
        click_id: Some(ClickId::from_bytes([7; 16])),
        evidence: Evidence::Token,
        customer_id: None,
        status: Status::Pending,
        converted_at: T0,
        commissions: vec![affiliate_sdk::Commission {
            partner: link.partner,
            level: 0,
            amount: Money::from_minor(499, usd),
        }],
        channel: affiliate_sdk::Channel::Server,
        duplicate: false,
        replaced: false,
        withheld: false,
        refunds: Vec::new(),
    }
}

fn rate(n: u64, d: Duration) -> f64 {
    n as f64 / d.as_secs_f64()
}

/// Runs `per_writer` conversions on each of `writers` threads; returns conversions/s.
fn conversions_parallel(writers: u64, per_writer: u64, one: impl Fn(u64, u64) + Sync) -> f64 {
    let start = Instant::now();
    std::thread::scope(|s| {
        for w in 0..writers {
            let one = &one;
            s.spawn(move || {
                for i in 0..per_writer {
                    one(w, i);
                }
            });
        }
    });
    rate(writers * per_writer, start.elapsed())
}

fn main() {
    let full = std::env::args().any(|a| a == "--bench");
    let sizes = if full {
        Sizes {
            clicks: 200_000,
            conversions: 4_000,
            stats_clicks: 1_000_000,
        }
    } else {
        Sizes {
            clicks: 500,
            conversions: 32,
            stats_clicks: 2_000,
        }
    };
    let usd = Currency::new("USD").unwrap();
    let links = links();
    let ids = ClickIdGenerator::new();
    let mut table: Vec<(String, f64, f64)> = Vec::new();

    let mut notes: Vec<String> = Vec::new();
    // `STORE_BENCH_ONLY=stats` (clicks, conversions, stats, balances, partner) runs one part.
    let only = std::env::var("STORE_BENCH_ONLY").ok();
    let wants = |part: &str| only.as_deref().is_none_or(|o| o == part);
    if wants("clicks") {
        // Clicks.
        let dir = tempfile::tempdir().unwrap();
        let sled = SledStore::open(dir.path().join("sled")).unwrap();
        let records: Vec<ClickRecord> = (0..sizes.clicks)
            .map(|i| click(i, &ids, &links, usd, 30))
            .collect();
        let start = Instant::now();
        for r in &records {
            sled.record_click(r).unwrap();
        }
        let ours = rate(sizes.clicks, start.elapsed());
        let db = sqlite(&dir.path().join("clicks.db"), "NORMAL");
        let start = Instant::now();
        for r in &records {
            sqlite_click(&db, r);
        }
        let theirs = rate(sizes.clicks, start.elapsed());
        table.push(("click recording".into(), ours, theirs));
        drop(db);
    }
    if wants("conversions") {
        // Durable conversions, 1 and 16 writers.
        for writers in [1u64, 16] {
            let per = sizes.conversions / writers;
            let sub = tempfile::tempdir().unwrap();
            let sled = SledStore::open(sub.path().join("sled")).unwrap();
            let ours = conversions_parallel(writers, per, |w, i| {
                let mut c = conversion(w * 1_000_000 + i, links[i as usize % links.len()], usd);
                c.commissions.push(affiliate_sdk::Commission {
                    partner: c.link.partner,
                    level: 1,
                    amount: Money::from_minor(50, usd),
                });
                assert!(matches!(
                    sled.insert_conversion(&c, None, None).unwrap(),
                    Inserted::New
                ));
            });
            let path = sub.path().join("conv.db");
            drop(sqlite(&path, "FULL"));
            // One connection shared behind a mutex: with a connection per writer, SQLite's
            // lock contention (busy waits) makes 16 writers far slower still.
            let conns = [std::sync::Mutex::new(sqlite(&path, "FULL"))];
            let theirs = conversions_parallel(writers, per, |w, i| {
                let mut c = conversion(w * 1_000_000 + i, links[i as usize % links.len()], usd);
                c.commissions.push(affiliate_sdk::Commission {
                    partner: c.link.partner,
                    level: 1,
                    amount: Money::from_minor(50, usd),
                });
                sqlite_conversion(&conns[0].lock().unwrap(), &c);
            });
            table.push((
                format!("durable conversions, {writers} writer(s)"),
                ours,
                theirs,
            ));
        }
    }
    if wants("stats") {
        // Stats over many clicks.
        let sub = tempfile::tempdir().unwrap();
        let store = Arc::new(SledStore::open(sub.path().join("sled")).unwrap());
        let db = sqlite(&sub.path().join("stats.db"), "NORMAL");
        db.execute_batch("BEGIN").unwrap();
        for i in 0..sizes.stats_clicks {
            let r = click(i, &ids, &links, usd, 30);
            store.record_click(&r).unwrap();
            sqlite_click_in_tx(&db, &r);
        }
        db.execute_batch("COMMIT").unwrap();
        let ring = Keyring::generate().unwrap();
        let tracker = Tracker::new(
            LinkSigner::new(ring, "https://t.example/go").unwrap(),
            store.clone(),
        );
        for c in ["haircare", "skincare", "nails", "perfume"] {
            tracker
                .add_campaign(&CampaignSpec::new(c, "https://shop.example/", "USD"))
                .unwrap();
        }
        tracker.add_partner(&PartnerSpec::new("abc123")).unwrap();
        let query = StatsQuery::new(&[
            Dimension::Campaign,
            Dimension::Partner,
            Dimension::Ad,
            Dimension::Sid,
            Dimension::Day,
        ]);
        let reps = if full { 1_000 } else { 2 };
        let start = Instant::now();
        let mut rows = 0;
        for _ in 0..reps {
            let r = tracker.stats(&query).unwrap();
            assert_eq!(r.iter().map(|r| r.clicks).sum::<u64>(), sizes.stats_clicks);
            rows = r.len();
        }
        let ours = rate(reps, start.elapsed());
        let start = Instant::now();
        for _ in 0..reps {
            let mut stmt = db
                .prepare_cached(
                    "SELECT day, campaign, partner, ad, sid, SUM(clicks), SUM(unique_clicks),
                        SUM(impressions), SUM(click_commission)
                 FROM counters GROUP BY day, campaign, partner, ad, sid
                 ORDER BY campaign, partner, ad, sid, day",
                )
                .unwrap();
            let total: i64 = stmt
                .query_map([], |row| row.get::<_, i64>(5))
                .unwrap()
                .map(Result::unwrap)
                .sum();
            assert_eq!(total as u64, sizes.stats_clicks);
        }
        let theirs = rate(reps, start.elapsed());
        table.push((
            format!(
                "stats query over {} clicks ({rows} rows)",
                sizes.stats_clicks
            ),
            ours,
            theirs,
        ));
    }
    if wants("balances") {
        // Balances: every partner's ledger sums, over many conversions (each paying its
        // partner and that partner's parent). SQLite sums a ledger table with GROUP BY.
        let (partners, orders) = if full {
            (10_000u64, 1_000_000u64)
        } else {
            (100, 2_000)
        };
        let sub = tempfile::tempdir().unwrap();
        let store = SledStore::open(sub.path().join("sled")).unwrap();
        let db = sqlite(&sub.path().join("ledger.db"), "OFF");
        db.execute_batch(
            "CREATE TABLE ledger (order_id TEXT, level INTEGER, partner TEXT, currency TEXT,
                              state TEXT, amount INTEGER, PRIMARY KEY (order_id, level));
         BEGIN",
        )
        .unwrap();
        let code = |p: u64| affiliate_sdk::Code::new(&format!("p{p}")).unwrap();
        let writers = 64;
        let orders = orders / writers * writers;
        let load = Instant::now();
        conversions_parallel(writers, orders / writers, |w, i| {
            let n = w * (orders / writers) + i;
            let p = n % partners;
            let mut c = conversion(n, Link::new(code(0), code(p)), usd);
            c.commissions.push(affiliate_sdk::Commission {
                partner: code(p / 10),
                level: 1,
                amount: Money::from_minor(50, usd),
            });
            store.insert_conversion(&c, None, None).unwrap();
        });
        let loaded = load.elapsed();
        for n in 0..orders {
            let p = n % partners;
            for (level, partner, amount) in [(0, p, 499), (1, p / 10, 50)] {
                db.prepare_cached("INSERT INTO ledger VALUES (?1, ?2, ?3, 'USD', 'pending', ?4)")
                    .unwrap()
                    .execute(params![
                        format!("order-{n}"),
                        level,
                        format!("p{partner}"),
                        amount
                    ])
                    .unwrap();
            }
        }
        db.execute_batch("COMMIT").unwrap();
        let filter = affiliate_sdk::ledger::EntryFilter::default();
        let reps = if full { 20 } else { 2 };
        let start = Instant::now();
        for _ in 0..reps {
            let b = store.balances(&filter).unwrap();
            assert_eq!(b.len() as u64, partners);
            let total: i128 = b.values().map(|b| b.pending).sum();
            assert_eq!(total, i128::from(orders) * 549);
        }
        let one_read = start.elapsed() / reps as u32;
        notes.push(format!(
        "balances read once: {:.1} ms (goal < 1 s); the {orders} conversions took {:.0} s to record",
        one_read.as_secs_f64() * 1e3,
        loaded.as_secs_f64()
    ));
        let ours = rate(reps, start.elapsed());
        let start = Instant::now();
        for _ in 0..reps {
            let mut stmt = db
                .prepare_cached(
                    "SELECT partner, currency, state, SUM(amount) FROM ledger
                 GROUP BY partner, currency, state",
                )
                .unwrap();
            let total: i64 = stmt
                .query_map([], |row| row.get::<_, i64>(3))
                .unwrap()
                .map(Result::unwrap)
                .sum();
            assert_eq!(total as u64, orders * 549);
        }
        let theirs = rate(reps, start.elapsed());
        table.push((
            format!("balances: {partners} partners, {orders} conversions"),
            ours,
            theirs,
        ));
    }
    if wants("partner") {
        // A partner's own report: a parent with 100 children among 1,000 other partners,
        // 1,000,000 clicks in the store; its stats by partner, sid and day, many times.
        let (children, others, clicks) = if full {
            (100u64, 1_000u64, 1_000_000u64)
        } else {
            (10, 20, 5_000)
        };
        let sub = tempfile::tempdir().unwrap();
        let store = Arc::new(SledStore::open(sub.path().join("sled")).unwrap());
        let tracker = Tracker::new(
            LinkSigner::new(Keyring::generate().unwrap(), "https://t.example/go").unwrap(),
            store.clone(),
        );
        tracker
            .add_campaign(&CampaignSpec::new(
                "haircare",
                "https://shop.example/",
                "USD",
            ))
            .unwrap();
        tracker.add_partner(&PartnerSpec::new("parent")).unwrap();
        let mut codes = Vec::new();
        for i in 0..children {
            let code = format!("kid{i}");
            tracker
                .add_partner(&{
                    let mut v = PartnerSpec::new(&code);
                    v.parent = Some("parent".into());
                    v
                })
                .unwrap();
            codes.push(code);
        }
        for i in 0..others {
            let code = format!("other{i}");
            tracker.add_partner(&PartnerSpec::new(&code)).unwrap();
            codes.push(code);
        }
        let sids = ["kw1", "kw2", "kw3"];
        for i in 0..clicks {
            let p = &codes[(i * 7919 % codes.len() as u64) as usize];
            let link = Link::parse("haircare", p, None, Some(sids[(i % 3) as usize])).unwrap();
            let at = T0 + (i % 30) * 86_400;
            store
                .record_click(&ClickRecord {
                    click_id: ids.next(at * 1000).unwrap(),
                    link,
                    at,
                    unique: true,
                    currency: usd,
                    commission_minor: 0,
                    paid_cap: 0,
                })
                .unwrap();
            if i % 20_000 == 19_999 {
                // Written out as it goes: a click buffer that fills drops clicks.
                store.flush().unwrap();
            }
        }
        store.flush().unwrap();
        let parent = affiliate_sdk::Code::new("parent").unwrap();
        let q = StatsQuery::new(&[Dimension::Partner, Dimension::Sid, Dimension::Day]);
        let mut took = Vec::new();
        let reps = if full { 200 } else { 5 };
        for _ in 0..reps {
            let start = Instant::now();
            let rows = tracker.partner_stats(parent, &q).unwrap();
            took.push(start.elapsed());
            assert!(
                rows.iter()
                    .all(|r| r.get(Dimension::Partner).unwrap().starts_with("kid"))
            );
        }
        took.sort();
        let merchant = Instant::now();
        let counted: u64 = tracker.stats(&q).unwrap().iter().map(|r| r.clicks).sum();
        let merchant = merchant.elapsed();
        notes.push(format!(
        "partner stats (a parent of {children} among {} partners, {counted} clicks stored, by partner, sid, day): \
         p50 {:.1} ms, p99 {:.1} ms; the merchant's whole report {:.1} ms",
        children + others + 1,
        took[took.len() / 2].as_secs_f64() * 1e3,
        took[(took.len() * 99 / 100).min(took.len() - 1)].as_secs_f64() * 1e3,
        merchant.as_secs_f64() * 1e3
    ));
    }
    println!(
        "== store: SledStore vs SQLite (rusqlite {}), operations per second ==",
        rusqlite::version()
    );
    println!(
        "{:<52} {:>12} {:>12} {:>8}  goal",
        "operation", "sled", "sqlite", "ratio"
    );
    for (name, ours, theirs) in &table {
        let ratio = ours / theirs;
        let goal = goal(name).map_or(String::new(), |g| {
            format!(">= {g}x: {}", if ratio >= g { "met" } else { "NOT met" })
        });
        println!("{name:<52} {ours:>12.0} {theirs:>12.0} {ratio:>7.2}x  {goal}");
    }
    for n in &notes {
        println!("{n}");
    }
}

/// The goal of an operation, as a ratio to SQLite.
fn goal(operation: &str) -> Option<f64> {
    match operation {
        "click recording" => Some(3.0),
        "durable conversions, 1 writer(s)" => Some(1.5),
        "durable conversions, 16 writer(s)" => Some(3.0),
        o if o.starts_with("stats query") => Some(1.0),
        _ => None,
    }
}

fn sqlite_click_in_tx(c: &Connection, r: &ClickRecord) {
    let l = &r.link;
    let ad = l.ad.as_ref().map_or("", |a| a.as_str());
    let sid = l.sid.as_ref().map_or("", |s| s.as_str());
    c.prepare_cached(
        "INSERT INTO counters VALUES (?1, ?2, ?3, ?4, ?5, ?6, 1, ?7, 0, ?8)
         ON CONFLICT DO UPDATE SET clicks = clicks + 1, unique_clicks = unique_clicks + ?7,
             click_commission = click_commission + ?8",
    )
    .unwrap()
    .execute(params![
        (r.at / 86_400) as i64,
        l.campaign.as_str(),
        l.partner.as_str(),
        ad,
        sid,
        r.currency.code(),
        i64::from(r.unique),
        r.commission_minor as i64
    ])
    .unwrap();
}
