//! PostgreSQL killed under two servers: they answer 503 while it is gone, never lose
//! an acknowledged conversion, and recover when it returns. Needs
//! `AFFILIATE_TEST_POSTGRES_URL` and `AFFILIATE_TEST_PG_DIR` (the cluster directory
//! for `scripts/pg-cluster kill|restart`); ./scripts/test sets both.

mod common;

use std::collections::BTreeSet;
use std::process::Command;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use common::{Http, Server, config, fresh_database};

fn cluster(cmd: &str) {
    let dir = std::env::var("AFFILIATE_TEST_PG_DIR")
        .expect("AFFILIATE_TEST_PG_DIR must name the cluster started by scripts/pg-cluster");
    let script = concat!(env!("CARGO_MANIFEST_DIR"), "/../scripts/pg-cluster");
    let ok = Command::new(script)
        .args([cmd, &dir])
        .status()
        .unwrap()
        .success();
    assert!(ok, "scripts/pg-cluster {cmd} failed");
}

#[test]
fn a_database_outage_gives_503s_loses_no_acknowledged_conversion_and_recovers() {
    let db = fresh_database();
    let cfg = config(&format!("\n[store]\nurl = \"{db}\""));
    let servers = [Arc::new(Server::start(&cfg)), Arc::new(Server::start(&cfg))];
    let acked = Mutex::new(BTreeSet::new());
    let unavailable = AtomicUsize::new(0);
    let other = Mutex::new(Vec::new());
    let next = AtomicUsize::new(0);
    let stop = AtomicBool::new(false);
    let acked_after_restart = AtomicUsize::new(0);
    let restarted = AtomicBool::new(false);

    std::thread::scope(|s| {
        for w in 0..4 {
            let (servers, acked, unavailable, other, next, stop) =
                (&servers, &acked, &unavailable, &other, &next, &stop);
            let (restarted, acked_after_restart) = (&restarted, &acked_after_restart);
            s.spawn(move || {
                while !stop.load(Ordering::Relaxed) {
                    let i = next.fetch_add(1, Ordering::Relaxed);
                    let order = format!("OUT-{i}");
                    let body = serde_json::json!({
                        "order_id": order, "amount": "5.00", "currency": "USD",
                        "coupon": "ABC10", "campaign": "haircare",
                    });
                    let r = servers[(i + w) % 2].api_post("/v1/postback", &body);
                    match r.status {
                        200 | 201 => {
                            acked.lock().unwrap().insert(order);
                            if restarted.load(Ordering::Relaxed) {
                                acked_after_restart.fetch_add(1, Ordering::Relaxed);
                            }
                        }
                        503 => {
                            assert_eq!(r.code(), "store_unavailable");
                            unavailable.fetch_add(1, Ordering::Relaxed);
                        }
                        status => other.lock().unwrap().push(format!("{status}: {}", r.body)),
                    }
                }
            });
        }
        let wait_for = |what: &str, f: &dyn Fn() -> bool| {
            let start = Instant::now();
            while !f() {
                assert!(
                    start.elapsed() < Duration::from_secs(60),
                    "timed out waiting for {what}"
                );
                std::thread::sleep(Duration::from_millis(50));
            }
        };
        wait_for("200 acknowledgements", &|| {
            acked.lock().unwrap().len() >= 200
        });
        cluster("kill");
        wait_for("503s during the outage", &|| {
            unavailable.load(Ordering::Relaxed) >= 8
        });
        std::thread::sleep(Duration::from_secs(2));
        cluster("restart");
        restarted.store(true, Ordering::Relaxed);
        wait_for("acknowledgements after the restart", &|| {
            acked_after_restart.load(Ordering::Relaxed) >= 200
        });
        stop.store(true, Ordering::Relaxed);
    });

    let other = other.into_inner().unwrap();
    assert!(
        other.is_empty(),
        "answers other than 200, 201 and 503: {other:?}"
    );
    let acked = acked.into_inner().unwrap();
    println!(
        "outage: {} acknowledged, {} answered 503",
        acked.len(),
        unavailable.load(Ordering::Relaxed)
    );
    // Every acknowledged conversion is in the database, seen by both servers.
    for order in &acked {
        for server in &servers {
            let r = server.api_get(&format!("/v1/conversions/{order}"));
            assert_eq!(r.status, 200, "acknowledged {order} is missing: {}", r.body);
        }
    }
    let sales = servers[0].totals()["sales"].as_u64().unwrap();
    assert!(sales >= acked.len() as u64);
    assert_eq!(servers[0].get("/healthz", &[]).status, 200);
}
