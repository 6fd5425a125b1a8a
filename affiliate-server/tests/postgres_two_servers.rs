//! Two `affiliate-server`s on one PostgreSQL database (`[store] url`): the same 1,000
//! postbacks sent to both at once are recorded exactly once, and both report the same
//! stats. One of them reaches the database over TLS (`?sslmode=require` and
//! `[store] ca_file`), the other over plain TCP. Needs `AFFILIATE_TEST_POSTGRES_URL`
//! and `AFFILIATE_TEST_PG_DIR` (./scripts/test starts a cluster with a test CA).

mod common;

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use common::{Http, Server, config, fresh_database};

#[test]
fn the_same_postbacks_to_two_servers_are_recorded_exactly_once() {
    let db = fresh_database();
    let cfg = config(&format!("\n[store]\nurl = \"{db}\""));
    let ca = format!(
        "{}/tls/ca.pem",
        std::env::var("AFFILIATE_TEST_PG_DIR").expect("AFFILIATE_TEST_PG_DIR names the cluster")
    );
    let tls_cfg = config(&format!(
        "\n[store]\nurl = \"{db}?sslmode=require\"\nca_file = \"{ca}\""
    ));
    let a = Arc::new(Server::start(&cfg));
    let b = Arc::new(Server::start(&tls_cfg));
    const ORDERS: usize = 1_000;
    let created = AtomicUsize::new(0);
    let replayed = AtomicUsize::new(0);
    let next = AtomicUsize::new(0);
    std::thread::scope(|s| {
        for _ in 0..8 {
            s.spawn(|| {
                loop {
                    let i = next.fetch_add(1, Ordering::Relaxed);
                    if i >= ORDERS {
                        return;
                    }
                    let body = serde_json::json!({
                        "order_id": format!("TWO-{i}"), "amount": "10.00", "currency": "USD",
                        "coupon": "ABC10", "campaign": "haircare",
                    });
                    // Each order id to both servers at the same moment.
                    let (ra, rb) = std::thread::scope(|s2| {
                        let ha = s2.spawn(|| a.api_post("/v1/postback", &body));
                        let hb = s2.spawn(|| b.api_post("/v1/postback", &body));
                        (ha.join().unwrap(), hb.join().unwrap())
                    });
                    for r in [&ra, &rb] {
                        match r.status {
                            201 => created.fetch_add(1, Ordering::Relaxed),
                            200 => {
                                assert_eq!(r.json()["duplicate"], true);
                                replayed.fetch_add(1, Ordering::Relaxed)
                            }
                            other => panic!("{other}: {}", r.body),
                        };
                    }
                    assert_eq!(ra.json()["commissions"], rb.json()["commissions"]);
                }
            });
        }
    });
    assert_eq!(
        created.load(Ordering::Relaxed),
        ORDERS,
        "one new record per order id"
    );
    assert_eq!(
        replayed.load(Ordering::Relaxed),
        ORDERS,
        "the other answer a replay"
    );

    // A click on each server: counted in the shared counters once written.
    let signer =
        affiliate_sdk::LinkSigner::new(common::keyring(), "http://t.shop.example/go").unwrap();
    let link = common::path_of(
        &signer
            .build("haircare", "abc123", None, Some("kw1"))
            .unwrap(),
    );
    assert_eq!(a.click(&link, None).1.status, 302);
    assert_eq!(b.click(&link, None).1.status, 302);
    std::thread::sleep(std::time::Duration::from_millis(600));
    for query in ["group_by=partner", "group_by=campaign,sid,day", ""] {
        let (sa, sb) = (a.stats(query), b.stats(query));
        assert_eq!(sa, sb, "stats {query:?} differ between the servers");
    }
    let totals = a.totals();
    assert_eq!(totals["sales"], ORDERS);
    assert_eq!(totals["clicks"], 2);
    assert_eq!(totals["revenue"]["USD"], "10000.00");
}

/// Polls `f` every 50 ms until it holds; returns how long that took. Fails after 2 s:
/// the contract's bound for a change to reach every server.
fn within_two_seconds(what: &str, mut f: impl FnMut() -> bool) -> std::time::Duration {
    let start = std::time::Instant::now();
    while !f() {
        assert!(
            start.elapsed() < std::time::Duration::from_secs(2),
            "{what}: not within 2 s"
        );
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
    start.elapsed()
}

#[test]
fn a_partner_created_on_one_server_is_credited_on_the_other_and_suspended_back() {
    let db = fresh_database();
    let cfg = config(&format!("\n[store]\nurl = \"{db}\""));
    let a = Server::start(&cfg);
    let b = Server::start(&cfg);
    let signer =
        affiliate_sdk::LinkSigner::new(common::keyring(), "http://t.shop.example/go").unwrap();
    let link = common::path_of(&signer.build("haircare", "newbie", None, None).unwrap());
    // Unknown on B before it is created.
    assert_eq!(b.click(&link, None).0, None);

    let r = a.api_post(
        "/v1/partners",
        &serde_json::json!({"code": "newbie", "parent": "boss1"}),
    );
    assert_eq!(r.status, 201, "{}", r.body);
    let took = within_two_seconds("created on A, credited on B", || {
        b.click(&link, None).0.is_some()
    });
    println!("a partner created on A was credited on B after {took:?}");

    let r = b.send(
        "PATCH",
        "/v1/partners/newbie",
        &[common::AUTH],
        r#"{"status": "suspended"}"#,
    );
    assert_eq!(r.status, 200, "{}", r.body);
    let took = within_two_seconds("suspended on B, uncredited on A", || {
        a.click(&link, None).0.is_none()
    });
    println!("a partner suspended on B was refused on A after {took:?}");
    assert_eq!(
        a.api_get("/v1/partners/newbie").json()["status"],
        "suspended"
    );
}

/// Two servers on one database: both approve the conversions past `approve_after_days`
/// at once (each approved once), then both make a payout run with the same
/// `Idempotency-Key` at the same moment (one set of payouts), while a run under another
/// key races them for the same entries (no entry in two payouts).
#[test]
fn two_servers_approve_once_and_one_key_makes_one_set_of_payouts() {
    use affiliate_sdk::{Clock, FixedClock, ManualConversion, Tracker};
    let db = fresh_database();
    let cfg = config(&format!("\n[store]\nurl = \"{db}\""));
    let a = Arc::new(Server::start(&cfg));
    let b = Arc::new(Server::start(&cfg));
    let net30 = serde_json::json!({"code": "net30", "destination": "https://shop.example/",
        "currency": "USD", "sale_percent": "10", "override_percents": ["10"],
        "approve_after_days": 2});
    assert_eq!(a.api_post("/v1/campaigns", &net30).status, 201);
    // Conversions made three days ago (a tracker of this process with its clock set
    // back, on the same database) and one made now, not yet due.
    let store = Arc::new(affiliate_sdk::PostgresStore::open(&db).expect("the test database"))
        as Arc<dyn affiliate_sdk::Store>;
    let signer =
        affiliate_sdk::LinkSigner::new(common::keyring(), "http://t.shop.example/go").unwrap();
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs();
    let clock = Arc::new(FixedClock::from_secs(now - 3 * 86_400));
    let past = Tracker::open(signer.clone(), store.clone())
        .unwrap()
        .with_clock(clock as Arc<dyn Clock>);
    const DUE: usize = 300;
    for i in 0..DUE {
        past.manual(&ManualConversion::sale(
            &format!("N-{i}"),
            "10.00",
            "USD",
            "net30",
            "abc123",
        ))
        .unwrap();
    }
    let fresh = ManualConversion::sale("N-new", "10.00", "USD", "net30", "abc123");
    Tracker::open(signer, store)
        .unwrap()
        .manual(&fresh)
        .unwrap();

    let approve = |s: &Server| s.api_post("/v1/conversions/approve-due", &serde_json::json!({}));
    let (ra, rb) = std::thread::scope(|s| {
        let ha = s.spawn(|| approve(&a));
        let hb = s.spawn(|| approve(&b));
        (ha.join().unwrap(), hb.join().unwrap())
    });
    assert_eq!(
        (ra.status, rb.status),
        (200, 200),
        "{} {}",
        ra.body,
        rb.body
    );
    let approved =
        ra.json()["approved"].as_u64().unwrap() + rb.json()["approved"].as_u64().unwrap();
    assert_eq!(
        approved, DUE as u64,
        "each due conversion approved once, by one server"
    );
    assert_eq!(
        a.api_get("/v1/conversions/N-new").json()["status"],
        "pending"
    );
    assert_eq!(approve(&a).json()["approved"], 0);

    // The same key to both servers at once, and another key racing them.
    let run = |s: &Server, key: &str, body: serde_json::Value| {
        s.send(
            "POST",
            "/v1/payouts",
            &[common::AUTH, ("Idempotency-Key", key)],
            &body.to_string(),
        )
    };
    let all = serde_json::json!({"currency": "USD"});
    let (ra, rb, rc) = std::thread::scope(|s| {
        let ha = s.spawn(|| run(&a, "month-end", all.clone()));
        let hb = s.spawn(|| run(&b, "month-end", all.clone()));
        let hc = s.spawn(|| {
            run(
                &b,
                "boss-only",
                serde_json::json!({"currency": "USD", "partner": "boss1"}),
            )
        });
        (ha.join().unwrap(), hb.join().unwrap(), hc.join().unwrap())
    });
    let mut statuses = [ra.status, rb.status];
    statuses.sort_unstable();
    assert_eq!(
        statuses,
        [200, 201],
        "one made, one replayed: {} / {}",
        ra.body,
        rb.body
    );
    assert_eq!(
        ra.json()["payouts"],
        rb.json()["payouts"],
        "one key, one set"
    );
    assert_eq!(rc.status, 201, "{}", rc.body);
    let mut ids = std::collections::HashSet::new();
    let mut total = 0u64;
    for p in ra.json()["payouts"]
        .as_array()
        .unwrap()
        .iter()
        .chain(rc.json()["payouts"].as_array().unwrap())
    {
        assert!(ids.insert(p["id"].as_str().unwrap().to_owned()));
        let detail = a
            .api_get(&format!("/v1/payouts/{}", p["id"].as_str().unwrap()))
            .json();
        assert_eq!(
            detail["items"].as_array().unwrap().len() as u64,
            p["entries"].as_u64().unwrap()
        );
        total += affiliate_sdk::Money::parse(p["amount"].as_str().unwrap(), "USD")
            .unwrap()
            .minor();
    }
    // 300 sales of 10.00: abc123 earns 1.00 each, boss1 0.10 each.
    assert_eq!(
        total,
        300 * 100 + 300 * 10,
        "every approved entry in one payout"
    );
    let listed = b.api_get("/v1/payouts").json()["payouts"]
        .as_array()
        .unwrap()
        .len();
    assert_eq!(listed, ids.len());
    let rows = a.api_get("/v1/balances?currency=USD").json()["rows"].clone();
    for row in rows.as_array().unwrap() {
        assert_eq!(row["payable"], "0.00", "{row}");
    }
}

/// Two servers share one partner's clicks of a day on a CPC campaign paying 0.05 a
/// click up to 800 a day: 1,000 unique clicks (500 through each) pay exactly 40.00,
/// written once when two trackers close the day at the same moment, pending until the
/// approval period has passed, then payable; closing again adds nothing; the day's
/// statistics equal the ledger.
#[test]
fn a_days_clicks_through_two_servers_pay_the_cap_once() {
    use affiliate_sdk::{Clock, FixedClock, Tracker};
    let db = fresh_database();
    let cfg = config(&format!("\n[store]\nurl = \"{db}\""));
    let a = Server::start(&cfg);
    let b = Server::start(&cfg);
    let cpc = serde_json::json!({"code": "cpc800", "destination": "https://shop.example/",
        "currency": "USD", "click_flat": "0.05", "daily_paid_click_cap": 800,
        "approve_after_days": 1});
    assert_eq!(a.api_post("/v1/campaigns", &cpc).status, 201);
    // B reloads the program within a second.
    within_two_seconds("the campaign on the other server", || {
        b.api_get("/v1/campaigns/cpc800").status == 200
    });
    let signer =
        affiliate_sdk::LinkSigner::new(common::keyring(), "http://t.shop.example/go").unwrap();
    let link = common::path_of(&signer.build("cpc800", "solo", None, None).unwrap());
    let secs = || {
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_secs()
    };
    // Every click on one UTC day.
    if secs() % 86_400 > 86_400 - 120 {
        std::thread::sleep(std::time::Duration::from_secs(86_400 - secs() % 86_400 + 1));
    }
    let day = secs() / 86_400;
    std::thread::scope(|s| {
        for server in [&a, &b] {
            let link = link.clone();
            s.spawn(move || {
                for _ in 0..500 {
                    // No cookie: each is a new visitor's click.
                    let r = server.get(&link, &[("User-Agent", common::BROWSER_UA)]);
                    assert_eq!(r.status, 302, "{}", r.body);
                }
            });
        }
    });
    assert_eq!(secs() / 86_400, day, "the clicks took a day");
    within_two_seconds("both servers' clicks in the store", || {
        a.stats("campaign=cpc800")
            .first()
            .is_some_and(|r| r["unique_clicks"] == 1_000)
    });

    // The day is over (and the hour of grace): two trackers close it at once.
    let store = Arc::new(affiliate_sdk::PostgresStore::open(&db).expect("the test database"))
        as Arc<dyn affiliate_sdk::Store>;
    let end = (day + 1) * 86_400;
    let clock = Arc::new(FixedClock::from_secs(
        end + affiliate_sdk::TRAFFIC_GRACE_SECS,
    ));
    let tracker = || {
        Tracker::open(signer.clone(), store.clone())
            .unwrap()
            .with_clock(clock.clone() as Arc<dyn Clock>)
    };
    let (x, y) = (tracker(), tracker());
    let (nx, ny) = std::thread::scope(|s| {
        let hx = s.spawn(|| x.close_traffic().unwrap());
        let hy = s.spawn(|| y.close_traffic().unwrap());
        (hx.join().unwrap(), hy.join().unwrap())
    });
    assert_eq!(nx.written + ny.written, 1, "one entry, once: {nx:?} {ny:?}");
    let balance =
        |s: &Server| s.api_get("/v1/balances?partner=solo&currency=USD").json()["rows"][0].clone();
    assert_eq!(balance(&a)["pending"], "40.00");
    assert_eq!(balance(&b)["payable"], "0.00");
    // Closing again, through a server (whose own day is not over) or a tracker, adds
    // nothing.
    let r = b.api_post("/v1/traffic/close", &serde_json::json!({}));
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(r.json()["written"], 0);
    assert_eq!(x.close_traffic().unwrap().written, 0);

    // The approval period (1 day) passes: payable.
    clock.advance_secs(86_400 - affiliate_sdk::TRAFFIC_GRACE_SECS);
    assert_eq!(y.close_traffic().unwrap().approved, 1);
    assert_eq!(x.close_traffic().unwrap().approved, 0);
    assert_eq!(balance(&a)["payable"], "40.00");
    assert_eq!(balance(&b)["pending"], "0.00");
    let day_text = affiliate_sdk::format_day(u32::try_from(day).unwrap());
    let stats = b.stats(&format!("campaign=cpc800&from={day_text}&to={day_text}"));
    assert_eq!(stats[0]["commission"]["USD"], "40.00");
    let listed = a.api_get("/v1/traffic?partner=solo").json()["traffic"].clone();
    assert_eq!(listed.as_array().unwrap().len(), 1, "{listed}");
    assert_eq!(listed[0]["amount"], "40.00");
}

/// Two servers share the outbox: a server killed while its deliveries are in flight has
/// them finished by the other (after its 30 s lease), and every event of both is
/// delivered.
#[test]
fn two_servers_share_the_outbox_and_one_finishes_what_a_killed_one_held() {
    use std::collections::BTreeMap;
    use std::time::Duration;
    let rx = common::receiver::Receiver::start();
    let db = fresh_database();
    let cfg = config(&format!(
        "\n[store]\nurl = \"{db}\"\n[events]\nallow_private_destinations = true\n\
         [[webhook]]\nid = \"crm\"\nurl = \"{}/crm\"\nsecret = \"whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw\"\n\
         events = [\"conversion.created\"]\n",
        rx.base
    ));
    let sale = |server: &Server, id: &str| {
        let body = serde_json::json!({"order_id": id, "amount": "10.00", "currency": "USD",
            "kind": "sale", "campaign": "haircare", "partner": "abc123"});
        assert_eq!(server.api_post("/v1/conversions/manual", &body).status, 201);
    };
    // A alone; the receiver holds each request 2 s and then drops it, so A's
    // deliveries are in flight when it is killed.
    rx.answer(0);
    rx.delay(2_000);
    let a = Server::start(&cfg);
    for i in 0..40 {
        sale(&a, &format!("A-{i}"));
    }
    let start = std::time::Instant::now();
    while rx.in_flight() == 0 {
        assert!(start.elapsed() < Duration::from_secs(10), "A sent nothing");
        std::thread::sleep(Duration::from_millis(20));
    }
    let held = rx.in_flight();
    drop(a); // SIGKILL
    rx.delay(0);
    rx.answer(200);
    // B and a new A on the same database, each taking more conversions.
    let b = Server::start(&cfg);
    let a2 = Server::start(&cfg);
    for i in 0..40 {
        sale(&b, &format!("B-{i}"));
        sale(&a2, &format!("C-{i}"));
    }
    let got = rx.wait(Duration::from_secs(90), |g| {
        let ids: std::collections::BTreeSet<String> = g
            .iter()
            .map(|r| {
                r.json()["data"]["order_id"]
                    .as_str()
                    .unwrap_or("")
                    .to_owned()
            })
            .collect();
        ids.len() >= 120
    });
    let mut per_order: BTreeMap<String, usize> = BTreeMap::new();
    for r in &got {
        *per_order
            .entry(r.json()["data"]["order_id"].as_str().unwrap().to_owned())
            .or_default() += 1;
    }
    assert_eq!(per_order.len(), 120, "every conversion's event delivered");
    let twice = per_order.values().filter(|n| **n > 1).count();
    assert_eq!(
        twice, 0,
        "the receiver dropped A's requests unanswered, so each was delivered once"
    );
    eprintln!(
        "two servers: A held {held} deliveries when killed; 120 events delivered, none twice"
    );
}
