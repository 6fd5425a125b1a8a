//! The second round of hardening, over HTTP against the real binary: wrong keys are
//! throttled per address (and only that address), logged once a window without the key;
//! the events of one conversion reach each destination in order.

use super::*;

/// A request from source address `from` (a loopback alias such as 127.0.0.2), raw:
/// the status and the whole answer.
fn from_address(server: &Server, from: &str, path: &str, key: &str) -> (u16, String) {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let addr: std::net::SocketAddr = server.base.trim_start_matches("http://").parse().unwrap();
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async {
        let socket = tokio::net::TcpSocket::new_v4().unwrap();
        socket.bind(format!("{from}:0").parse().unwrap()).unwrap();
        let mut stream = socket.connect(addr).await.unwrap();
        let req = format!(
            "GET {path} HTTP/1.1\r\nHost: t.shop.example\r\nAuthorization: Bearer {key}\r\nConnection: close\r\n\r\n"
        );
        stream.write_all(req.as_bytes()).await.unwrap();
        let mut out = Vec::new();
        stream.read_to_end(&mut out).await.unwrap();
        let text = String::from_utf8_lossy(&out).into_owned();
        let status = text.split(' ').nth(1).unwrap_or("0").parse().unwrap_or(0);
        (status, text)
    })
}

#[test]
fn wrong_keys_are_throttled_per_address_and_logged_once_without_the_key() {
    let server = Server::start(&config(""));
    let wrong = "wrong-key-0123456789-abcdefghijklmnop";
    let limit = affiliate_server::throttle::FAILURES_PER_WINDOW as usize;
    let mut statuses = std::collections::BTreeMap::new();
    let mut first_429 = None;
    for i in 0..10_000 {
        let r = server.get(
            "/v1/stats",
            &[("Authorization", &format!("Bearer {wrong}"))],
        );
        *statuses.entry(r.status).or_insert(0) += 1;
        if r.status == 429 && first_429.is_none() {
            first_429 = Some(i);
            let secs: u64 = r.header("retry-after").unwrap().parse().unwrap();
            assert!((1..=60).contains(&secs), "{secs}");
            assert_eq!(r.code(), "unauthorized");
        }
    }
    assert_eq!(first_429, Some(limit), "{statuses:?}");
    assert_eq!(statuses.get(&401), Some(&limit));
    assert_eq!(statuses.get(&429), Some(&(10_000 - limit)));
    // The throttled address is refused even with the right key; another address is
    // answered at once, and a partner key's failures count the same way.
    let right = server.get("/v1/stats", &[AUTH]);
    assert_eq!(right.status, 429);
    let started = std::time::Instant::now();
    let (status, _) = from_address(&server, "127.0.0.2", "/v1/stats", API_KEY);
    assert_eq!(status, 200);
    assert!(started.elapsed() < std::time::Duration::from_secs(1));
    let (status, _) = from_address(&server, "127.0.0.2", "/v1/partner/me", "pk_wrong");
    assert_eq!(status, 401);
    // One log line for the address, without the key; /metrics counts every one.
    std::thread::sleep(std::time::Duration::from_millis(200));
    let log = server.log();
    assert_eq!(
        log.matches("too many wrong keys from one address").count(),
        1,
        "{log}"
    );
    assert!(!log.contains(wrong));
    let (_, metrics) = from_address(&server, "127.0.0.3", "/metrics", API_KEY);
    assert!(
        metrics.contains(&format!(
            "affiliate_refusals_total{{kind=\"credentials\",code=\"api_key\"}} {limit}"
        )),
        "{metrics}"
    );
    assert!(
        metrics.contains("kind=\"credentials\",code=\"throttled\""),
        "{metrics}"
    );
    assert!(
        metrics.contains("kind=\"credentials\",code=\"partner_key\"} 1"),
        "{metrics}"
    );
}

/// Signs `partner` in to the portal: its session cookie (`name=value`).
fn sign_in(app: &impl Http, partner: &str) -> String {
    let r = app.api_post(&format!("/v1/partners/{partner}/portal-link"), &json!({}));
    assert_eq!(r.status, 200, "{}", r.body);
    let url = r.json()["url"].as_str().unwrap().to_owned();
    let r = app.get(&path_of(&url), &[]);
    assert_eq!(r.status, 303, "{}", r.body);
    r.header("set-cookie")
        .unwrap()
        .split(';')
        .next()
        .unwrap()
        .to_owned()
}

fn me(app: &impl Http, cookie: &str) -> u16 {
    app.get("/v1/partner/me", &[("Cookie", cookie)]).status
}

#[test]
fn portal_sessions_end_at_logout_and_suspension_and_writes_need_the_portals_origin() {
    let server = Server::start(&config(""));
    // A partner of the API (the config's are managed by the file).
    assert_eq!(
        server
            .api_post("/v1/partners", &json!({"code": "sess1"}))
            .status,
        201
    );
    let (first, second) = (sign_in(&server, "sess1"), sign_in(&server, "sess1"));
    assert_eq!((me(&server, &first), me(&server, &second)), (200, 200));
    // A sign-out from elsewhere (no portal header, another origin or scheme) is refused.
    // The server's own origin, as the browser sends it (scheme and host).
    let own = server.base.clone();
    let other_scheme = own.replacen("http://", "https://", 1);
    for origin in [
        None,
        Some("https://evil.example"),
        Some(other_scheme.as_str()),
    ] {
        let mut headers = vec![("Cookie", first.as_str())];
        if let Some(o) = origin {
            headers.push(("Origin", o));
        }
        let r = server.send("POST", "/portal/logout", &headers, "");
        assert_eq!(
            (r.status, r.code()),
            (403, "forbidden".into()),
            "{origin:?}"
        );
        assert_eq!(me(&server, &first), 200);
    }
    // A write with the cookie needs the exact origin, scheme included.
    let patch = |origin: &str| {
        server.send(
            "PATCH",
            "/v1/partner/me",
            &[
                ("Cookie", first.as_str()),
                ("Origin", origin),
                ("Content-Type", "application/merge-patch+json"),
            ],
            r#"{"name":"Solo"}"#,
        )
    };
    assert_eq!(patch(&other_scheme).status, 403, "the scheme counts");
    assert_eq!(patch("http://evil.example").status, 403);
    assert_eq!(patch(&own).status, 200);
    // Signed out from the portal: every session of the partner ends.
    let r = server.send(
        "POST",
        "/portal/logout",
        &[("Cookie", first.as_str()), ("Origin", own.as_str())],
        "",
    );
    assert_eq!(r.status, 204, "{}", r.body);
    assert!(r.header("set-cookie").unwrap().contains("Max-Age=0"));
    assert_eq!((me(&server, &first), me(&server, &second)), (401, 401));
    let write = server.send(
        "PATCH",
        "/v1/partner/me",
        &[
            ("Cookie", first.as_str()),
            ("X-Affiliate-Portal", "1"),
            ("Content-Type", "application/merge-patch+json"),
        ],
        r#"{"name":"Back"}"#,
    );
    assert_eq!(write.status, 401);
    // Signing in again works at once.
    let third = sign_in(&server, "sess1");
    assert_eq!(me(&server, &third), 200);
    // Suspended, then reactivated: the old session stays ended.
    let status = |s: &str| {
        server.send(
            "PATCH",
            "/v1/partners/sess1",
            &[AUTH, ("Content-Type", "application/merge-patch+json")],
            &json!({"status": s}).to_string(),
        )
    };
    assert_eq!(status("suspended").status, 200);
    assert_eq!(status("active").status, 200);
    assert_eq!(me(&server, &third), 401);
    assert_eq!(me(&server, &sign_in(&server, "sess1")), 200);
}

#[test]
fn over_https_the_session_cookie_is_a_host_cookie() {
    let https = config("").replace(
        "public_url = \"http://t.shop.example\"",
        "public_url = \"https://t.shop.example\"",
    );
    assert_ne!(https, config(""));
    let app = App::new(&https);
    let cookie = sign_in(&app, "solo");
    assert!(cookie.starts_with("__Host-aff_portal=ps1."), "{cookie}");
    assert_eq!(me(&app, &cookie), 200);
    // The plain name is not read over https (a sibling site could have set it).
    let plain = cookie.replacen("__Host-aff_portal", "aff_portal", 1);
    assert_eq!(me(&app, &plain), 401);
}

/// Events about one conversion arrive in order at each destination: after the sale's
/// webhook fails, its approval waits for the sale's retry, for the webhook and for the
/// partner's postback alike.
#[test]
fn events_of_one_conversion_arrive_in_order_after_a_failed_delivery() {
    use crate::common::receiver::Receiver;
    use std::time::Duration;
    let rx = Receiver::start();
    rx.answer(503);
    let server = Server::start(&config("\n[events]\nallow_private_destinations = true\n"));
    let r = server.api_post(
        "/v1/webhooks",
        &json!({"url": format!("{}/h", rx.base),
            "events": ["conversion.created", "conversion.updated"]}),
    );
    assert_eq!(r.status, 201, "{}", r.body);
    let r = server.api_post(
        "/v1/partners",
        &json!({"code": "ordp",
            "postback_url": format!("{}/pb?e={{event}}&o={{order_id}}", rx.base)}),
    );
    assert_eq!(r.status, 201, "{}", r.body);
    let sale = json!({"order_id": "ORD-1", "amount": "50.00", "currency": "USD",
        "kind": "sale", "campaign": "haircare", "partner": "ordp"});
    assert_eq!(server.api_post("/v1/conversions/manual", &sale).status, 201);
    // Both of the sale's deliveries fail once.
    rx.wait(Duration::from_secs(10), |g| g.len() >= 2);
    let r = server.api_post(
        "/v1/conversions/ORD-1/status",
        &json!({"status": "approved"}),
    );
    assert_eq!(r.status, 200, "{}", r.body);
    rx.answer(204);
    // The sale's two again, then the approval's two.
    let got = rx.wait(Duration::from_secs(30), |g| g.len() >= 6);
    let events: Vec<String> = got
        .iter()
        .map(|g| {
            let kind = if g.method == "POST" {
                "hook"
            } else {
                "postback"
            };
            let event = if g.method == "POST" {
                g.json()["type"].as_str().unwrap_or_default().to_owned()
            } else {
                g.target.split("e=").nth(1).unwrap_or_default()[..18].to_owned()
            };
            format!("{kind} {event}")
        })
        .collect();
    assert_eq!(events.len(), 6, "{events:?}");
    for kind in ["hook", "postback"] {
        let mine: Vec<&str> = events
            .iter()
            .filter(|e| e.starts_with(kind))
            .map(|e| e.split(' ').nth(1).unwrap())
            .collect();
        assert_eq!(
            mine,
            [
                "conversion.created",
                "conversion.created",
                "conversion.updated"
            ],
            "{kind}: {events:?}"
        );
    }
}

/// The snippet's token check: `204` only for the tracker's own unexpired token, with
/// CORS for the shop; a forged one (right shape, wrong tag) is `422`.
#[test]
fn the_token_check_vouches_only_for_the_trackers_own_tokens() {
    let server = Server::start(&config(""));
    let signer =
        affiliate_sdk::LinkSigner::new(crate::common::keyring(), "http://t.shop.example/go")
            .unwrap();
    let link = crate::common::path_of(&signer.build("haircare", "abc123", None, None).unwrap());
    let (token, _) = server.click(&link, None);
    let token = token.unwrap();
    let origin = [("Origin", "https://shop.example")];
    let r = server.get(&format!("/v1/token?token={token}"), &origin);
    assert_eq!(r.status, 204, "{}", r.body);
    assert_eq!(
        r.header("access-control-allow-origin"),
        Some("https://shop.example")
    );
    assert_eq!(r.header("cache-control"), Some("no-store"));
    // The same token with another partner in it: the tag no longer matches.
    let forged = token.replace(".abc123.", ".solo.");
    let r = server.get(&format!("/v1/token?token={forged}"), &origin);
    assert_eq!((r.status, r.code()), (422, "invalid_signature".into()));
    assert_eq!(
        r.header("access-control-allow-origin"),
        Some("https://shop.example")
    );
    for bad in ["", "token=", "token=garbage", "token=a&token=b", "tok=x"] {
        let r = server.get(&format!("/v1/token?{bad}"), &origin);
        assert!(
            r.status == 400 || r.status == 422,
            "{bad}: {} {}",
            r.status,
            r.body
        );
    }
    // Another origin gets no CORS grant: its page cannot read the answer.
    let r = server.get(
        &format!("/v1/token?token={token}"),
        &[("Origin", "https://evil.example")],
    );
    assert_eq!(r.header("access-control-allow-origin"), None);
    let metrics = server.api_get("/metrics").body;
    assert!(
        metrics.contains(r#"affiliate_refusals_total{kind="token",code="invalid_signature"} 1"#),
        "{metrics}"
    );
}

/// A partner moved to a new parent: the new parent sees only what happened after the
/// move; the old parent keeps the orders it holds overrides on, and nothing later.
#[test]
fn a_moved_partners_history_stays_with_the_parent_who_earned_on_it() {
    let server = Server::start(&config(""));
    for (code, parent) in [("oldp", None), ("newp", None), ("kid", Some("oldp"))] {
        let r = server.api_post("/v1/partners", &json!({"code": code, "parent": parent}));
        assert_eq!(r.status, 201, "{}", r.body);
    }
    let key = |p: &str| {
        let r = server.post(&format!("/v1/partners/{p}/keys"), &[AUTH], "");
        assert_eq!(r.status, 201, "{}", r.body);
        format!("Bearer {}", r.json()["key"].as_str().unwrap())
    };
    let (old_key, new_key) = (key("oldp"), key("newp"));
    let sale = |order: &str| {
        let body = json!({"order_id": order, "amount": "100.00", "currency": "USD",
            "kind": "sale", "campaign": "haircare", "partner": "kid"});
        let r = server.api_post("/v1/conversions/manual", &body);
        assert_eq!(r.status, 201, "{}", r.body);
    };
    sale("BEFORE-1");
    let r = server.send(
        "PATCH",
        "/v1/partners/kid",
        &[AUTH, ("Content-Type", "application/json")],
        &json!({"parent": "newp"}).to_string(),
    );
    assert_eq!(r.status, 200, "{}", r.body);
    sale("AFTER-1");
    let orders = |key: &str| -> Vec<(String, String)> {
        let r = server.get("/v1/partner/conversions", &[("Authorization", key)]);
        assert_eq!(r.status, 200, "{}", r.body);
        let mut v: Vec<(String, String)> = r.json()["conversions"]
            .as_array()
            .unwrap()
            .iter()
            .map(|c| {
                (
                    c["order_id"].as_str().unwrap().to_owned(),
                    c["commission"].as_str().unwrap_or_default().to_owned(),
                )
            })
            .collect();
        v.sort();
        v
    };
    // Overrides: 10 % of the child's 10.00 to its parent at the time.
    assert_eq!(orders(&old_key), [("BEFORE-1".into(), "1.00".into())]);
    assert_eq!(orders(&new_key), [("AFTER-1".into(), "1.00".into())]);
    // The reports too: each parent's conversions are its own orders only.
    for (key, order) in [(&old_key, "BEFORE-1"), (&new_key, "AFTER-1")] {
        let r = server.get(
            "/v1/partner/stats?group_by=partner",
            &[("Authorization", key.as_str())],
        );
        assert_eq!(r.status, 200, "{}", r.body);
        let rows = r.json()["rows"].clone();
        let sales: u64 = rows
            .as_array()
            .unwrap()
            .iter()
            .map(|row| row["sales"].as_u64().unwrap_or(0))
            .sum();
        assert_eq!(sales, 1, "{order}: {rows}");
    }
}
