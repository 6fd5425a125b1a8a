//! PostgreSQL killed under two servers: they answer 503 while it is gone, never lose
//! an acknowledged conversion, and recover when it returns. PostgreSQL stalled
//! (SIGSTOP) or killed under a flood of clicks: every click still redirects with its
//! token at once, memory stays bounded, what the full buffer could not keep is counted,
//! and counting resumes. PostgreSQL stalled under every other endpoint: each answers
//! within its deadline, `/metrics` at once (`frozen`). The tests take turns (they stop
//! the one cluster). Needs
//! `AFFILIATE_TEST_POSTGRES_URL` and `AFFILIATE_TEST_PG_DIR` (the cluster directory
//! for `scripts/pg-cluster kill|restart`); ./scripts/test sets both.

#[path = "../common/mod.rs"]
mod common;

mod frozen;

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

/// One test at a time: each stops the cluster.
static CLUSTER: Mutex<()> = Mutex::new(());

#[test]
fn a_database_outage_gives_503s_loses_no_acknowledged_conversion_and_recovers() {
    let _cluster = CLUSTER.lock().unwrap_or_else(|e| e.into_inner());
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
        // A failure below must still stop the writers, or the scope would wait for
        // them for ever (a hung test instead of a failed one).
        struct StopWriters<'a>(&'a AtomicBool);
        impl Drop for StopWriters<'_> {
            fn drop(&mut self) {
                self.0.store(true, Ordering::Relaxed);
            }
        }
        let _stop_writers = StopWriters(&stop);
        let wait_for =
            |what: &str, f: &dyn Fn() -> bool| common::wait_until(what, Duration::from_secs(60), f);
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

fn p99(mut v: Vec<Duration>) -> Duration {
    v.sort();
    v[(v.len() * 99 / 100).min(v.len() - 1)]
}

/// The buffer the flood tests give the server: 16 MiB.
const BUFFER: u64 = 16 * 1024 * 1024;

/// 200,000 clicks against `server` from 4 clients while the database is `down`
/// (`freeze` or `kill`), then back (`thaw` or `restart`).
fn click_flood_while_the_database_is(down: &str, back: &str) {
    let _cluster = CLUSTER.lock().unwrap_or_else(|e| e.into_inner());
    let db = fresh_database();
    let cfg = config(&format!(
        "click_buffer_bytes = {BUFFER}\n\n[store]\nurl = \"{db}\""
    ));
    let mut server = Server::start(&cfg);
    let signer =
        affiliate_sdk::LinkSigner::new(common::keyring(), "http://t.shop.example/go").unwrap();
    let link = common::path_of(&signer.build("haircare", "abc123", None, None).unwrap());
    // Before: a click and a conversion, acknowledged.
    let (token, _) = server.click(&link, None);
    let before = serde_json::json!({"order_id": "ST-0", "amount": "5.00", "currency": "USD",
        "kind": "sale", "token": token.unwrap()});
    assert_eq!(server.api_post("/v1/postback", &before).status, 201);
    server.get("/healthz", &[]);

    cluster(down);
    const CLICKS: usize = 200_000;
    let next = AtomicUsize::new(0);
    let latencies = Mutex::new(Vec::with_capacity(CLICKS));
    let refused = AtomicUsize::new(0);
    let acked = Mutex::new(Vec::new());
    let peak_rss = std::sync::atomic::AtomicU64::new(0);
    let flooding = AtomicBool::new(true);
    std::thread::scope(|s| {
        for _ in 0..4 {
            s.spawn(|| {
                let mut mine = Vec::new();
                while next.fetch_add(1, Ordering::Relaxed) < CLICKS {
                    let t = Instant::now();
                    let (token, r) = server.click(&link, None);
                    mine.push(t.elapsed());
                    if r.status != 302 || token.is_none() {
                        refused.fetch_add(1, Ordering::Relaxed);
                    }
                }
                latencies.lock().unwrap().extend(mine);
            });
        }
        // A conversion posted during the outage: answered once the database is back
        // (or 503); if acknowledged, it must be kept.
        s.spawn(|| {
            let body = serde_json::json!({"order_id": "ST-1", "amount": "5.00",
                "currency": "USD", "coupon": "ABC10", "campaign": "haircare"});
            // A frozen database holds the statement until it thaws, after the flood:
            // longer than the usual clients' 30 s on a busy 2-core machine.
            let patient: ureq::Agent = ureq::Agent::config_builder()
                .http_status_as_error(false)
                .timeout_global(Some(Duration::from_secs(300)))
                .build()
                .into();
            let status = patient
                .post(format!("{}/v1/postback", server.base))
                .header("Authorization", format!("Bearer {}", common::API_KEY))
                .header("Content-Type", "application/json")
                .send(body.to_string())
                .map(|r| r.status().as_u16())
                .expect("the conversion is answered");
            if status == 201 {
                acked.lock().unwrap().push("ST-1");
            }
        });
        s.spawn(|| {
            while flooding.load(Ordering::Relaxed) {
                peak_rss.fetch_max(server.rss_kib(), Ordering::Relaxed);
                std::thread::sleep(Duration::from_millis(100));
            }
        });
        while next.load(Ordering::Relaxed) < CLICKS + 4 {
            std::thread::sleep(Duration::from_millis(50));
        }
        std::thread::sleep(Duration::from_millis(200));
        flooding.store(false, Ordering::Relaxed);
        cluster(back);
    });
    let latencies = latencies.into_inner().unwrap();
    let p99 = p99(latencies.clone());
    let peak = peak_rss.load(Ordering::Relaxed);
    println!(
        "database {down}: {} clicks, p99 {p99:?}, max {:?}, peak RSS {} MiB",
        latencies.len(),
        latencies.iter().max().unwrap(),
        peak / 1024
    );
    assert_eq!(
        refused.load(Ordering::Relaxed),
        0,
        "every click redirects with its token"
    );
    assert!(p99 < Duration::from_millis(50), "click p99 {p99:?}");
    assert!(peak < BUFFER / 1024 + 100 * 1024, "peak RSS {peak} KiB");

    // Back: the buffer is written, counting resumes, nothing acknowledged is lost.
    let counted = || server.totals()["clicks"].as_u64().unwrap();
    let start = Instant::now();
    let mut last = 0;
    loop {
        std::thread::sleep(Duration::from_millis(500));
        let now = counted();
        if now == last && now > 1 {
            break;
        }
        last = now;
        assert!(
            start.elapsed() < Duration::from_secs(60),
            "counting did not settle"
        );
    }
    let (token, r) = server.click(&link, None);
    assert!(r.status == 302 && token.is_some());
    std::thread::sleep(Duration::from_millis(300));
    assert_eq!(counted(), last + 1, "counting resumes");
    let after = serde_json::json!({"order_id": "ST-2", "amount": "5.00", "currency": "USD",
        "kind": "sale", "token": token.unwrap()});
    assert_eq!(server.api_post("/v1/postback", &after).status, 201);
    for order in ["ST-0", "ST-2"]
        .into_iter()
        .chain(acked.into_inner().unwrap())
    {
        assert_eq!(
            server.api_get(&format!("/v1/conversions/{order}")).status,
            200,
            "{order}"
        );
    }
    // What the full buffer could not keep is counted: with the clicks counted, every
    // click is accounted for.
    server.terminate("TERM");
    let log = server.log();
    let dropped: u64 = log
        .lines()
        .rev()
        .find_map(|l| l.split("dropped_clicks=").nth(1))
        .and_then(|v| v.split(|c: char| !c.is_ascii_digit()).next())
        .and_then(|v| v.parse().ok())
        .unwrap_or_else(|| panic!("no dropped_clicks in the log: {log}"));
    println!("database {down}: {dropped} clicks dropped, {last} counted");
    assert!(dropped > 0, "a 16 MiB buffer cannot hold 200,000 clicks");
    assert_eq!(
        last + dropped,
        1 + CLICKS as u64,
        "clicks counted plus dropped"
    );
}

#[test]
fn a_stalled_database_never_slows_a_click() {
    click_flood_while_the_database_is("freeze", "thaw");
}

#[test]
fn a_killed_database_never_slows_a_click() {
    click_flood_while_the_database_is("kill", "restart");
}

/// `PostgresStore` called from async code, as a Rust service using the crate would:
/// inside `#[tokio::main]` (both runtime flavours) and inside an axum handler. The
/// synchronous driver cannot start its runtime inside another; the store moves the
/// work off it, so nothing panics.
#[test]
fn the_postgres_store_works_inside_tokio_and_inside_an_axum_handler() {
    use affiliate_sdk::{CampaignSpec, ConversionRequest, PartnerSpec, PostgresStore, Tracker};
    use axum::body::Body;
    use tower::ServiceExt as _;
    let _cluster = CLUSTER.lock().unwrap_or_else(|e| e.into_inner());
    let db = fresh_database();
    for multi_thread in [true, false] {
        let rt = if multi_thread {
            tokio::runtime::Builder::new_multi_thread()
        } else {
            tokio::runtime::Builder::new_current_thread()
        }
        .enable_all()
        .build()
        .unwrap();
        rt.block_on(async {
            let store = Arc::new(PostgresStore::open(&db).unwrap());
            let signer =
                affiliate_sdk::LinkSigner::new(common::keyring(), "http://t.shop.example/go")
                    .unwrap();
            let tracker = Arc::new(Tracker::new(signer, store.clone()));
            tracker
                .add_campaign(&CampaignSpec::new(
                    "haircare",
                    "https://shop.example/",
                    "USD",
                ))
                .unwrap();
            tracker.add_partner(&PartnerSpec::new("abc123")).unwrap();
            let url = tracker
                .signer()
                .build("haircare", "abc123", None, None)
                .unwrap();
            let click = tracker.click(&url, None).unwrap();
            let order = format!("RT-{multi_thread}");
            let mut req = ConversionRequest::sale(&order, "10.00", "USD");
            req.token = Some(click.token);
            assert_eq!(
                tracker.convert(&req).unwrap().link.partner.as_str(),
                "abc123"
            );
            tracker.flush().unwrap();
            // An axum handler calling the tracker directly, not in spawn_blocking.
            let t = tracker.clone();
            let app = axum::Router::new().route(
                "/c/{id}",
                axum::routing::get(
                    move |axum::extract::Path(id): axum::extract::Path<String>| {
                        let t = t.clone();
                        async move { t.conversion(&id).map(|c| c.order_id).unwrap_or_default() }
                    },
                ),
            );
            let resp = app
                .oneshot(
                    axum::http::Request::get(format!("/c/{order}"))
                        .body(Body::empty())
                        .unwrap(),
                )
                .await
                .unwrap();
            let body = axum::body::to_bytes(resp.into_body(), 1024).await.unwrap();
            assert_eq!(body, order.as_bytes());
            let stats = tracker
                .stats(&affiliate_sdk::StatsQuery::default())
                .unwrap();
            assert!(stats[0].clicks >= 1);
        });
    }
}

/// The value of a sample line `name{labels} value` of `/metrics` (0 when absent).
fn sample(metrics: &str, series: &str) -> f64 {
    metrics
        .lines()
        .find_map(|l| l.strip_prefix(series)?.trim().parse().ok())
        .unwrap_or(0.0)
}

#[test]
fn readiness_is_503_while_the_database_is_down_and_the_failure_counters_rise() {
    let _cluster = CLUSTER.lock().unwrap_or_else(|e| e.into_inner());
    let db = fresh_database();
    let server = Server::start(&config(&format!("\n[store]\nurl = \"{db}\"")));
    let metrics = || {
        let r = server.get("/metrics", &[common::AUTH]);
        assert_eq!(r.status, 200, "{}", r.body);
        r.body
    };
    let link = common::path_of(
        &affiliate_sdk::LinkSigner::new(common::keyring(), "http://t.shop.example/go")
            .unwrap()
            .build("haircare", "abc123", None, None)
            .unwrap(),
    );
    let click = || {
        let r = server.get(&link, &[("user-agent", common::BROWSER_UA)]);
        assert_eq!(r.status, 302, "a click always redirects");
    };
    let wait_for = |what: &str, f: &dyn Fn() -> bool| {
        let start = Instant::now();
        while !f() {
            assert!(
                start.elapsed() < Duration::from_secs(60),
                "timed out waiting for {what}"
            );
            click();
            std::thread::sleep(Duration::from_millis(100));
        }
    };
    assert_eq!(server.get("/readyz", &[]).status, 200);
    wait_for("a batch written", &|| {
        sample(&metrics(), "affiliate_store_writes_total{result=\"ok\"}") >= 1.0
    });
    assert_eq!(sample(&metrics(), "affiliate_ready"), 1.0);

    cluster("kill");
    wait_for("/readyz 503 and failed writes", &|| {
        let m = metrics();
        server.get("/readyz", &[]).status == 503
            && sample(&m, "affiliate_store_writes_total{result=\"failed\"}") >= 1.0
            && sample(&m, "affiliate_store_failing") == 1.0
    });
    let down = metrics();
    assert_eq!(sample(&down, "affiliate_ready"), 0.0);
    assert!(
        sample(&down, "affiliate_click_buffer_bytes") > 0.0,
        "clicks wait in the buffer"
    );
    // Liveness is not readiness: the process still answers.
    assert_eq!(server.get("/healthz", &[]).status, 200);

    cluster("restart");
    wait_for("/readyz 200 again", &|| {
        server.get("/readyz", &[]).status == 200
            && sample(&metrics(), "affiliate_store_failing") == 0.0
    });
    let up = metrics();
    assert!(
        sample(&up, "affiliate_store_writes_total{result=\"ok\"}")
            > sample(&down, "affiliate_store_writes_total{result=\"ok\"}")
    );
    // Failures are counted, never forgotten.
    assert!(sample(&up, "affiliate_store_writes_total{result=\"failed\"}") >= 1.0);
}
