//! Outbound events over HTTP: webhook endpoints through the merchant API and the
//! config file, real deliveries to a receiver on 127.0.0.1 (signed, retried after a
//! failure, retried by hand), partner postbacks, and every refusal.

use std::time::Duration;

use affiliate_sdk::outbound::WebhookSecret;

use super::*;
use crate::common::receiver::{Received, Receiver};

const PRIVATE_OK: &str = "\n[events]\nallow_private_destinations = true\n";

fn manual_sale(app: &impl Http, id: &str, partner: &str) {
    let body = json!({"order_id": id, "amount": "50.00", "currency": "USD", "kind": "sale",
        "campaign": "haircare", "partner": partner});
    let r = app.api_post("/v1/conversions/manual", &body);
    assert_eq!(r.status, 201, "{}", r.body);
}

fn verify(secret: &str, r: &Received) {
    let id = r.header("webhook-id").unwrap();
    let ts: u64 = r.header("webhook-timestamp").unwrap().parse().unwrap();
    assert!(ts.abs_diff(now()) < 60, "the timestamp is the attempt's");
    let expected = WebhookSecret::parse(secret).unwrap().sign(id, ts, &r.body);
    assert_eq!(r.header("webhook-signature"), Some(expected.as_str()));
}

#[test]
fn conversions_reach_the_webhook_signed_and_the_partners_postback_filled_in() {
    let rx = Receiver::start();
    let server = Server::start(&config(PRIVATE_OK));
    let r = server.api_post(
        "/v1/webhooks",
        &json!({"id": "crm", "url": format!("{}/hooks", rx.base), "description": "CRM"}),
    );
    assert_eq!(r.status, 201, "{}", r.body);
    let secret = r.json()["secret"].as_str().unwrap().to_owned();
    assert!(secret.starts_with("whsec_"));
    assert_eq!(
        r.json()["events"].as_array().unwrap().len(),
        affiliate_sdk::outbound::EventKind::ALL.len()
    );
    // Listed without its secret.
    let list = server.api_get("/v1/webhooks");
    assert_eq!(list.json()["webhooks"][0]["id"], "crm");
    assert!(!list.body.contains(&secret[6..]));
    assert_eq!(list.json()["webhooks"][0]["managed_by_config"], false);
    let pb = format!(
        "{}/pb?o={{order_id}}&c={{commission}}&s={{status}}&e={{event}}",
        rx.base
    );
    let r = server.api_post("/v1/partners", &json!({"code": "pbp", "postback_url": pb}));
    assert_eq!(r.status, 201, "{}", r.body);
    manual_sale(&server, "W&1#", "pbp");
    let r = server.api_post(
        "/v1/conversions/status",
        &json!({"order_ids": ["W&1#"], "status": "approved"}),
    );
    assert_eq!(r.status, 200);
    let got = rx.wait(Duration::from_secs(10), |g| g.len() >= 5);
    let hooks: Vec<&Received> = got
        .iter()
        .filter(|r| r.method == "POST" && r.json()["type"] != "partner.created")
        .collect();
    let pbs: Vec<&Received> = got.iter().filter(|r| r.method == "GET").collect();
    assert_eq!((hooks.len(), pbs.len()), (2, 2), "{got:#?}");
    for h in &hooks {
        verify(&secret, h);
        assert_eq!(h.target, "/hooks");
        assert_eq!(h.json()["data"]["order_id"], "W&1#");
        assert_eq!(h.header("content-type"), Some("application/json"));
    }
    let mut types: Vec<String> = hooks
        .iter()
        .map(|h| h.json()["type"].as_str().unwrap().to_owned())
        .collect();
    types.sort();
    assert_eq!(types, ["conversion.created", "conversion.updated"]);
    let mut targets: Vec<&str> = pbs.iter().map(|r| r.target.as_str()).collect();
    targets.sort_unstable();
    assert_eq!(
        targets,
        [
            "/pb?o=W%261%23&c=5.00&s=approved&e=conversion.updated",
            "/pb?o=W%261%23&c=5.00&s=pending&e=conversion.created",
        ]
    );
    // The delivery log.
    let log = server.api_get("/v1/webhooks/crm/deliveries");
    assert_eq!(log.status, 200, "{}", log.body);
    let rows = log.json()["deliveries"].as_array().unwrap().clone();
    assert_eq!(
        rows.len(),
        3,
        "partner.created, conversion.created, conversion.updated"
    );
    assert!(
        rows.iter()
            .all(|d| d["state"] == "delivered" && d["last_attempts"][0]["status"] == 200)
    );
    assert!(
        rows.iter()
            .all(|d| d["message_id"].as_str().unwrap().starts_with("msg_"))
    );
}

#[test]
fn a_failed_delivery_is_retried_by_itself_and_by_hand_with_the_same_message_id() {
    let rx = Receiver::start();
    rx.answer(503);
    let server = Server::start(&config(PRIVATE_OK));
    let r = server.api_post(
        "/v1/webhooks",
        &json!({"url": format!("{}/h", rx.base), "events": ["conversion.created"]}),
    );
    assert_eq!(r.status, 201, "{}", r.body);
    let id = r.json()["id"].as_str().unwrap().to_owned();
    assert!(id.starts_with("wh_"));
    manual_sale(&server, "R-1", "solo");
    let first = rx.wait(Duration::from_secs(10), |g| !g.is_empty());
    assert_eq!(first.len(), 1);
    let log = server.api_get(&format!("/v1/webhooks/{id}/deliveries"));
    let d = log.json()["deliveries"][0].clone();
    assert_eq!(d["state"], "pending", "{d}");
    assert_eq!(d["last_attempts"][0]["status"], 503);
    assert_eq!(d["last_attempts"][0]["error"], "answered 503");
    rx.answer(204);
    // The first retry comes 2.5 to 5 s later, by itself.
    let got = rx.wait(Duration::from_secs(10), |g| g.len() >= 2);
    assert_eq!(got.len(), 2);
    assert_eq!(got[1].header("webhook-id"), got[0].header("webhook-id"));
    let d = rx.wait(Duration::from_secs(3), |_| {
        server
            .api_get(&format!("/v1/webhooks/{id}/deliveries"))
            .json()["deliveries"][0]["state"]
            == "delivered"
    });
    assert_eq!(d.len(), 2);
    // By hand: sent once more.
    let dlv = server
        .api_get(&format!("/v1/webhooks/{id}/deliveries"))
        .json()["deliveries"][0]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let r = server.api_post(
        &format!("/v1/webhooks/{id}/deliveries/{dlv}/retry"),
        &json!({}),
    );
    assert_eq!(r.status, 200, "{}", r.body);
    let got = rx.wait(Duration::from_secs(10), |g| g.len() >= 3);
    assert_eq!(got.len(), 3);
    assert_eq!(got[2].header("webhook-id"), got[0].header("webhook-id"));
    // Only conversion.created was asked for: no payout or update events.
    assert!(got.iter().all(|g| g.json()["type"] == "conversion.created"));
}

#[test]
fn webhooks_of_the_config_file_are_managed_by_it() {
    let rx = Receiver::start();
    let secret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";
    let extra = format!(
        "{PRIVATE_OK}\n[[webhook]]\nid = \"erp\"\nurl = \"{}/erp\"\nsecret = \"{secret}\"\nevents = [\"partner.created\"]\n",
        rx.base
    );
    let server = Server::start(&config(&extra));
    let list = server.api_get("/v1/webhooks");
    assert_eq!(
        list.json()["webhooks"][0]["managed_by_config"],
        true,
        "{}",
        list.body
    );
    let r = server.send("DELETE", "/v1/webhooks/erp", &[AUTH], "");
    assert_eq!((r.status, r.code()), (409, "managed_by_config".into()));
    let r = server.api_post("/v1/partners", &json!({"code": "newbie", "name": "New"}));
    assert_eq!(r.status, 201, "{}", r.body);
    let got = rx.wait(Duration::from_secs(10), |g| !g.is_empty());
    assert_eq!(got.len(), 1);
    verify(secret, &got[0]);
    assert_eq!(got[0].json()["type"], "partner.created");
    assert_eq!(got[0].json()["data"]["code"], "newbie");
    assert_eq!(got[0].json()["data"]["name"], "New");
}

#[test]
fn bad_webhook_requests_are_typed_errors_that_change_nothing() {
    // No [events] flag: inward destinations are refused.
    let app = App::new(&config(""));
    assert_eq!(
        app.api_post("/v1/partners", &json!({"code": "api1"}))
            .status,
        201
    );
    let cases: &[(&str, &str, Value, u16, &str)] = &[
        (
            "POST",
            "/v1/webhooks",
            json!({"url": "http://127.0.0.1:9/h"}),
            403,
            "forbidden",
        ),
        (
            "POST",
            "/v1/webhooks",
            json!({"url": "http://[::ffff:10.0.0.1]/h"}),
            403,
            "forbidden",
        ),
        (
            "POST",
            "/v1/webhooks",
            json!({"url": "http://2130706433/h"}),
            403,
            "forbidden",
        ),
        (
            "POST",
            "/v1/webhooks",
            json!({"url": "http://169.254.169.254/"}),
            403,
            "forbidden",
        ),
        (
            "POST",
            "/v1/webhooks",
            json!({"url": "gopher://hooks.example/"}),
            400,
            "malformed",
        ),
        (
            "POST",
            "/v1/webhooks",
            json!({"url": "https://hooks.example/", "events": ["x"]}),
            400,
            "malformed",
        ),
        (
            "POST",
            "/v1/webhooks",
            json!({"url": "https://hooks.example/", "id": "UPPER"}),
            400,
            "malformed",
        ),
        (
            "POST",
            "/v1/webhooks",
            json!({"url": "https://hooks.example/", "secret": "whsec_x"}),
            400,
            "malformed",
        ),
        (
            "POST",
            "/v1/webhooks",
            json!({"events": []}),
            400,
            "malformed",
        ),
        ("DELETE", "/v1/webhooks/nope", json!(null), 404, "not_found"),
        (
            "GET",
            "/v1/webhooks/nope/deliveries",
            json!(null),
            404,
            "not_found",
        ),
        (
            "POST",
            "/v1/webhooks/nope/deliveries/dlv_1/retry",
            json!(null),
            404,
            "not_found",
        ),
        (
            "PATCH",
            "/v1/partners/api1",
            json!({"postback_url": "http://10.0.0.1/pb?o={order_id}"}),
            403,
            "forbidden",
        ),
        (
            "PATCH",
            "/v1/partners/api1",
            json!({"postback_url": "https://t.example/pb?o={order}"}),
            400,
            "malformed",
        ),
        (
            "POST",
            "/v1/partners",
            json!({"code": "api2", "postback_url": "http://[fd00::1]/pb"}),
            403,
            "forbidden",
        ),
    ];
    for (method, path, body, status, code) in cases {
        let text = if body.is_null() {
            String::new()
        } else {
            body.to_string()
        };
        let r = app.send(
            method,
            path,
            &[AUTH, ("content-type", "application/json")],
            &text,
        );
        assert_eq!(
            (r.status, r.code()),
            (*status, (*code).to_owned()),
            "{method} {path} {body}: {}",
            r.body
        );
    }
    assert_eq!(app.api_get("/v1/webhooks").json()["webhooks"], json!([]));
    assert_eq!(
        app.api_get("/v1/partners/api1").json()["postback_url"],
        Value::Null
    );
    assert_eq!(app.api_get("/v1/partners/api2").status, 404);
    // A webhook to a name saved; its log pages are checked.
    let r = app.api_post(
        "/v1/webhooks",
        &json!({"id": "crm", "url": "https://hooks.example/in"}),
    );
    assert_eq!(r.status, 201, "{}", r.body);
    let r = app.api_post(
        "/v1/webhooks",
        &json!({"id": "crm", "url": "https://hooks.example/in"}),
    );
    assert_eq!((r.status, r.code()), (409, "conflict".into()));
    for q in ["limit=0", "limit=1001", "limit=x", "cursor=zz", "other=1"] {
        let r = app.api_get(&format!("/v1/webhooks/crm/deliveries?{q}"));
        assert_eq!((r.status, r.code()), (400, "malformed".into()), "{q}");
    }
    // Without the key: 401.
    let r = app.send("GET", "/v1/webhooks", &[], "");
    assert_eq!(r.status, 401);
    let r = app.send("DELETE", "/v1/webhooks/crm", &[AUTH], "");
    assert_eq!(r.status, 204);
}

/// Conversions posted by 8 writers while the server is SIGKILLed at random 20 times and
/// the receiver is down for part of the run: afterwards every acknowledged conversion
/// has had its `conversion.created` delivered, and every acknowledged status change its
/// `conversion.updated`.
#[test]
fn a_crash_loses_no_event_of_an_acknowledged_change() {
    use std::collections::BTreeSet;
    use std::sync::Mutex;
    let rx = Receiver::start();
    let extra = format!(
        "{PRIVATE_OK}\n[[webhook]]\nid = \"crm\"\nurl = \"{}/crm\"\nsecret = \"whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw\"\n",
        rx.base
    );
    let mut server = Server::start(&config(&extra));
    let created: Mutex<BTreeSet<String>> = Mutex::default();
    let approved: Mutex<BTreeSet<String>> = Mutex::default();
    for cycle in 0..20u64 {
        // Down for cycles 6 to 11.
        rx.answer(if (6..12).contains(&cycle) { 0 } else { 200 });
        let pid = server.pid().to_string();
        std::thread::scope(|s| {
            for w in 0..8 {
                let (server, created, approved) = (&server, &created, &approved);
                s.spawn(move || {
                    for n in 0.. {
                        let id = format!("C-{cycle}-{w}-{n}");
                        let body = json!({"order_id": id, "amount": "10.00", "currency": "USD",
                            "kind": "sale", "campaign": "haircare", "partner": "abc123"});
                        let Some(r) = server.try_send(
                            "POST",
                            "/v1/conversions/manual",
                            &[AUTH],
                            &body.to_string(),
                        ) else {
                            return;
                        };
                        assert_eq!(r.status, 201, "{}", r.body);
                        created.lock().unwrap().insert(id.clone());
                        if n % 2 == 0 {
                            let body = json!({"order_ids": [id], "status": "approved"});
                            let Some(r) = server.try_send(
                                "POST",
                                "/v1/conversions/status",
                                &[AUTH],
                                &body.to_string(),
                            ) else {
                                return;
                            };
                            if r.json()["results"][0]["status"] == "approved" {
                                approved.lock().unwrap().insert(id);
                            }
                        }
                    }
                });
            }
            // fastrand: a different moment in each cycle.
            std::thread::sleep(Duration::from_millis(40 + fastrand::u64(0..200)));
            let killed = std::process::Command::new("kill")
                .args(["-KILL", &pid])
                .status()
                .unwrap();
            assert!(killed.success());
        });
        server = server.crash_and_restart();
    }
    rx.answer(200);
    let (created, approved) = (
        created.into_inner().unwrap(),
        approved.into_inner().unwrap(),
    );
    assert!(
        created.len() > 200,
        "{} conversions acknowledged",
        created.len()
    );
    let seen = |got: &[Received]| -> (BTreeSet<String>, BTreeSet<String>) {
        let (mut c, mut u) = (BTreeSet::new(), BTreeSet::new());
        for r in got {
            let j = r.json();
            let id = j["data"]["order_id"]
                .as_str()
                .unwrap_or_default()
                .to_owned();
            match j["type"].as_str() {
                Some("conversion.created") => {
                    c.insert(id);
                }
                Some("conversion.updated") if j["data"]["status"] == "approved" => {
                    u.insert(id);
                }
                _ => {}
            }
        }
        (c, u)
    };
    // Deliveries a killed server held come back when their 30 s lease ends; those
    // that failed while the receiver was down, at their next retry.
    let got = rx.wait(Duration::from_secs(150), |g| {
        let (c, u) = seen(g);
        created.is_subset(&c) && approved.is_subset(&u)
    });
    let (c, u) = seen(&got);
    let missing_created: Vec<_> = created.difference(&c).take(5).collect();
    let missing_updated: Vec<_> = approved.difference(&u).take(5).collect();
    if !(missing_created.is_empty() && missing_updated.is_empty()) {
        // What is still pending, for the failure's reader.
        let log = server
            .api_get("/v1/webhooks/crm/deliveries?limit=1000")
            .json();
        for d in log["deliveries"].as_array().unwrap() {
            if d["state"] != "delivered" {
                eprintln!("not delivered at {}: {d}", now());
            }
        }
    }
    assert!(
        missing_created.is_empty() && missing_updated.is_empty(),
        "created not delivered: {missing_created:?}; updated not delivered: {missing_updated:?}"
    );
    eprintln!(
        "crash test: 20 SIGKILLs, {} conversions and {} status changes acknowledged, {} webhook requests received",
        created.len(),
        approved.len(),
        got.len()
    );
}

/// A proxy that refuses every request (502) and keeps each one's first line.
struct FakeProxy {
    base: String,
    seen: std::sync::Arc<std::sync::Mutex<Vec<String>>>,
}

fn fake_proxy() -> FakeProxy {
    use std::io::{BufRead, Write};
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let seen = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
    let kept = seen.clone();
    std::thread::spawn(move || {
        for conn in listener.incoming().flatten() {
            let mut line = String::new();
            let mut reader = std::io::BufReader::new(&conn);
            let _ = reader.read_line(&mut line);
            kept.lock().unwrap().push(line.trim_end().to_owned());
            let _ = (&conn).write_all(
                b"HTTP/1.1 502 Bad Gateway\r\ncontent-length: 0\r\nconnection: close\r\n\r\n",
            );
        }
    });
    FakeProxy { base, seen }
}

#[test]
fn deliveries_ignore_the_environments_proxy_and_take_the_configured_one() {
    let rx = Receiver::start();
    let env_proxy = fake_proxy();
    let p = env_proxy.base.as_str();
    let env = [
        ("HTTPS_PROXY", p),
        ("HTTP_PROXY", p),
        ("ALL_PROXY", p),
        ("https_proxy", p),
        ("http_proxy", p),
        ("all_proxy", p),
    ];
    let server = Server::start_with_env(&config(PRIVATE_OK), &env);
    let r = server.api_post(
        "/v1/webhooks",
        &json!({"id": "direct", "url": format!("{}/direct", rx.base), "events": ["conversion.created"]}),
    );
    assert_eq!(r.status, 201, "{}", r.body);
    manual_sale(&server, "PX-1", "abc123");
    let got = rx.wait(Duration::from_secs(10), |g| {
        g.iter().any(|r| r.target == "/direct")
    });
    assert!(got.iter().any(|r| r.target == "/direct"), "{got:#?}");
    assert!(
        env_proxy.seen.lock().unwrap().is_empty(),
        "a delivery went through the environment's proxy: {:?}",
        env_proxy.seen.lock().unwrap()
    );
    drop(server);

    // A proxy the config names is the way out.
    let named = fake_proxy();
    let server = Server::start(&config(&format!(
        "{PRIVATE_OK}proxy = \"{}\"\n",
        named.base
    )));
    let r = server.api_post(
        "/v1/webhooks",
        &json!({"id": "proxied", "url": format!("{}/proxied", rx.base), "events": ["conversion.created"]}),
    );
    assert_eq!(r.status, 201, "{}", r.body);
    manual_sale(&server, "PX-2", "abc123");
    let port = rx.base.rsplit(':').next().unwrap().to_owned();
    let deadline = std::time::Instant::now() + Duration::from_secs(10);
    while named.seen.lock().unwrap().is_empty() && std::time::Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(50));
    }
    let seen = named.seen.lock().unwrap().clone();
    assert!(
        seen.iter()
            .any(|l| l.contains(&format!("127.0.0.1:{port}"))),
        "the configured proxy was asked for the receiver: {seen:?}"
    );
}
