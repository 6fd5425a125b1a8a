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
