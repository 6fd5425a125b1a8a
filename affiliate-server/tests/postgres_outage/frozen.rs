//! PostgreSQL stalled (every process SIGSTOPped: connections stay open, nothing
//! answers, no statement timeout can fire): every endpoint of the OpenAPI document
//! answers within the store deadline plus a second, the ones that need the store with
//! `503 store_unavailable`; `/metrics` answers within a second and says the store is
//! down; once the database thaws, everything works again.

use std::time::{Duration, Instant};

use crate::common::{self, Http, Server, config, fresh_database};
use crate::{CLUSTER, cluster};

/// The server's `STORE_DEADLINE`.
const DEADLINE: Duration = Duration::from_secs(5);

/// Thaws the cluster when dropped: a failed assertion must not leave it frozen for the
/// tests after this one.
struct Thaw(bool);

impl Drop for Thaw {
    fn drop(&mut self) {
        if self.0 {
            cluster("thaw");
        }
    }
}

/// A value for a path parameter: records made before the freeze where the name says
/// which.
fn param(path: &str, name: &str) -> &'static str {
    match name {
        "code" if path.starts_with("/v1/campaigns") => "haircare",
        "code" if path.starts_with("/v1/coupons") => "ABC10",
        "code" | "partner" => "abc123",
        "campaign" => "haircare",
        "order_id" => "FZ-0",
        "customer_id" => "cust-1",
        "day" => "2026-01-01",
        _ => "x",
    }
}

/// A body the endpoint accepts as far as reaching the store, where that matters.
fn body(method: &str, path: &str) -> String {
    let json = match (method, path) {
        ("POST", "/v1/postback") => serde_json::json!({"order_id": "FZ-1", "amount": "5.00",
            "currency": "USD", "coupon": "ABC10", "campaign": "haircare"}),
        ("POST", "/v1/partners") => serde_json::json!({"code": "frozen1"}),
        ("POST", "/v1/conversions/{order_id}/status") => serde_json::json!({"status": "approved"}),
        ("POST", "/v1/adjustments") => serde_json::json!({"partner": "abc123",
            "amount": "1.00", "currency": "USD", "memo": "frozen", "kind": "bonus"}),
        ("PATCH", "/v1/partner/me") => serde_json::json!({"email": "a@example.com"}),
        _ => serde_json::json!({}),
    };
    json.to_string()
}

#[test]
fn a_stalled_database_gets_every_endpoint_an_answer_within_its_deadline() {
    let _cluster = CLUSTER.lock().unwrap_or_else(|e| e.into_inner());
    let db = fresh_database();
    let server = Server::start(&config(&format!("\n[store]\nurl = \"{db}\"")));
    // Before: a conversion, a partner key and a postback key, acknowledged.
    let sale = serde_json::json!({"order_id": "FZ-0", "amount": "5.00", "currency": "USD",
        "coupon": "ABC10", "campaign": "haircare", "customer_id": "cust-1"});
    assert_eq!(server.api_post("/v1/postback", &sale).status, 201);
    let r = server.post("/v1/partners/abc123/keys", &[common::AUTH], "");
    assert_eq!(r.status, 201, "{}", r.body);
    let partner_key = r.json()["key"].as_str().unwrap().to_owned();
    let r = server.api_post("/v1/postback-keys", &serde_json::json!({"label": "frozen"}));
    assert_eq!(r.status, 201, "{}", r.body);
    let postback_key = r.json()["key"].as_str().unwrap().to_owned();
    let metric = |name: &str| -> Option<i64> {
        let text = server.api_get("/metrics").body;
        text.lines()
            .find_map(|l| l.strip_prefix(&format!("{name} ")))
            .and_then(|v| v.trim().parse().ok())
    };
    let wait_for =
        |what: &str, f: &dyn Fn() -> bool| common::wait_until(what, Duration::from_secs(30), f);
    wait_for("the store up before the freeze", &|| {
        metric("affiliate_store_up") == Some(1)
    });

    // Every endpoint of the document, with the credentials it asks for.
    let spec = server.get("/openapi.json", &[]).json();
    let mut requests = Vec::new();
    for (path, ops) in spec["paths"].as_object().unwrap() {
        for (method, op) in ops.as_object().unwrap() {
            let method = method.to_ascii_uppercase();
            let schemes: Vec<&str> = op["security"]
                .as_array()
                .into_iter()
                .flatten()
                .filter_map(|s| s.as_object()?.keys().next().map(String::as_str))
                .collect();
            let mut target = path.clone();
            for name in path.split('{').skip(1).filter_map(|s| s.split('}').next()) {
                target = target.replace(&format!("{{{name}}}"), param(path, name));
            }
            let mut headers = vec![("Content-Type".to_owned(), "application/json".to_owned())];
            if schemes.contains(&"api_key") {
                headers.push(("Authorization".into(), common::AUTH.1.into()));
            } else if schemes.contains(&"partner_key") {
                headers.push(("Authorization".into(), format!("Bearer {partner_key}")));
            } else if schemes.contains(&"postback_key") {
                target = format!(
                    "{target}?key={postback_key}&order_id=FZ-2&amount=5.00&currency=USD&coupon=ABC10&campaign=haircare"
                );
            }
            if path == "/v1/adjustments" {
                headers.push(("Idempotency-Key".into(), "frozen-1".into()));
            } else if method == "POST" && path == "/v1/conversions" {
                headers.push(("Origin".into(), "https://shop.example".into()));
            }
            requests.push((method.clone(), target, headers, body(&method, path)));
        }
    }
    assert!(requests.len() > 60, "{} operations", requests.len());

    cluster("freeze");
    let mut thaw = Thaw(true);
    let frozen_at = Instant::now();
    let answers: Vec<(String, u16, String, Duration)> = std::thread::scope(|s| {
        let handles: Vec<_> = requests
            .iter()
            .map(|(method, target, headers, body)| {
                let server = &server;
                s.spawn(move || {
                    let headers: Vec<(&str, &str)> = headers
                        .iter()
                        .map(|(n, v)| (n.as_str(), v.as_str()))
                        .collect();
                    let start = Instant::now();
                    let r = server.send(method, target, &headers, body);
                    let took = start.elapsed();
                    // Not every answer is JSON (the dashboard, /healthz).
                    let code = serde_json::from_str::<serde_json::Value>(&r.body)
                        .ok()
                        .and_then(|v| v["error"]["code"].as_str().map(str::to_owned))
                        .unwrap_or_default();
                    (format!("{method} {target}"), r.status, code, took)
                })
            })
            .collect();
        // While they wait: /metrics answers from memory, and says the store is down.
        let start = Instant::now();
        let r = server.api_get("/metrics");
        let took = start.elapsed();
        assert_eq!(r.status, 200);
        assert!(took < Duration::from_secs(1), "/metrics took {took:?}");
        wait_for("affiliate_store_up 0 while frozen", &|| {
            let start = Instant::now();
            let up = metric("affiliate_store_up");
            assert!(start.elapsed() < Duration::from_secs(1), "/metrics waited");
            up == Some(0)
        });
        handles.into_iter().map(|h| h.join().unwrap()).collect()
    });
    println!(
        "frozen: {} requests answered in {:?}; slowest {:?}",
        answers.len(),
        frozen_at.elapsed(),
        answers.iter().map(|a| a.3).max()
    );
    for (what, status, code, took) in &answers {
        assert!(
            *took < DEADLINE + Duration::from_secs(1),
            "{what} answered {status} after {took:?}"
        );
        // A 5xx says the store is unavailable (`/readyz` in its text format).
        assert!(
            *status < 500 || code == "store_unavailable" || what == "GET /readyz",
            "{what}: {status} {code}"
        );
    }
    let answer = |what: &str| {
        answers
            .iter()
            .find(|a| a.0.starts_with(what))
            .map(|a| (a.1, a.2.clone()))
            .unwrap_or_else(|| panic!("no {what}"))
    };
    // The ones that need the store say so.
    for what in [
        "POST /v1/postback",
        "GET /v1/postback?",
        "GET /v1/stats",
        "GET /v1/conversions",
        "POST /v1/partners",
        "GET /v1/partner/conversions",
        "POST /v1/adjustments",
    ] {
        assert_eq!(
            answer(what),
            (503, "store_unavailable".to_owned()),
            "{what}"
        );
    }
    assert_eq!(answer("GET /readyz").0, 503);
    // What never needed the store still answers normally.
    assert_eq!(answer("GET /v1/campaigns").0, 200);
    assert_eq!(answer("GET /healthz").0, 200);

    cluster("thaw");
    thaw.0 = false;
    wait_for("affiliate_store_up 1 after the thaw", &|| {
        metric("affiliate_store_up") == Some(1)
    });
    let after = serde_json::json!({"order_id": "FZ-3", "amount": "5.00", "currency": "USD",
        "coupon": "ABC10", "campaign": "haircare"});
    assert_eq!(server.api_post("/v1/postback", &after).status, 201);
    assert_eq!(server.api_get("/v1/conversions/FZ-0").status, 200);
}
