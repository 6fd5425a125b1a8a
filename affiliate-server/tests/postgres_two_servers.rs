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
