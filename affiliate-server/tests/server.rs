//! The real binary over HTTP: the whole flow, every refusal, restarts.

mod common;

use affiliate_sdk::{ClickIdGenerator, Link, LinkSigner, TokenClaims};
use common::{API_KEY, AUTH, Server, config, config_path, keyring, path_of, run};
use serde_json::{Value, json};

fn now() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs()
}

/// A signed link path (`/go/…?sig=…`) made with the server's key.
fn link(campaign: &str, partner: &str, ad: Option<&str>, sid: Option<&str>) -> String {
    let signer = LinkSigner::new(keyring(), "http://t.shop.example/go").unwrap();
    path_of(&signer.build(campaign, partner, ad, sid).unwrap())
}

fn sale(order_id: &str, amount: &str) -> Value {
    json!({"order_id": order_id, "amount": amount, "currency": "USD", "kind": "sale"})
}

fn with(mut v: Value, key: &str, value: &str) -> Value {
    v[key] = json!(value);
    v
}

#[test]
fn whole_flow_link_click_pixel_beacon_postback_stats() {
    let server = Server::start(&config(""));
    // The `link` command signs with the config alone.
    let cfg = config_path(server.dir.path());
    let (ok, out, err) = run(
        &[
            "link",
            "--config",
            cfg.to_str().unwrap(),
            "--campaign",
            "haircare",
            "--partner",
            "abc123",
            "--ad",
            "website2",
            "--sid",
            "kw1",
        ],
        None,
    );
    assert!(ok, "{err}");
    let url = out.trim();
    assert!(
        url.starts_with("http://t.shop.example/go/haircare/abc123/website2?sig=k1."),
        "{url}"
    );
    assert!(url.ends_with("&sid=kw1"));

    // Click: 302 to the destination with the token added, cookie set.
    let (token, r) = server.click(&path_of(url), None);
    assert_eq!(r.status, 302);
    let token = token.expect("Set-Cookie: aff_token=…");
    let location = r.header("location").unwrap();
    assert_eq!(
        location,
        format!("https://shop.example/hair?utm_source=aff&aff_token={token}")
    );
    let cookie = r.header("set-cookie").unwrap();
    assert!(
        cookie.contains("HttpOnly") && cookie.contains("SameSite=Lax") && cookie.contains("Path=/")
    );
    assert!(cookie.contains("Max-Age=2419200"), "28 days: {cookie}");
    assert!(!cookie.contains("Secure"), "public_url is http");
    assert_eq!(r.header("cache-control"), Some("no-store"));

    // Pixel with the cookie: always a GIF, never cached.
    let px = server.get(
        "/px.gif?order_id=A-1&amount=49.90&currency=USD&kind=sale",
        &[("Cookie", &format!("other=1; aff_token={token}"))],
    );
    assert_eq!(
        (px.status, px.header("content-type")),
        (200, Some("image/gif"))
    );
    assert_eq!(px.header("cache-control"), Some("no-store"));
    assert_eq!(px.header("x-affiliate-result"), Some("created"));

    // Beacon (text/plain, token in the body): the browser learns only the outcome.
    let b = server.post(
        "/v1/conversions",
        &[("Content-Type", "text/plain;charset=UTF-8")],
        &json!({"order_id": "A-2", "amount": "10.00", "currency": "USD", "kind": "sale", "token": token}).to_string(),
    );
    assert_eq!(b.status, 201, "{}", b.body);
    assert_eq!(
        b.json(),
        json!({"order_id": "A-2", "status": "pending", "duplicate": false})
    );

    // The shop's backend replays A-1 by postback: the first result, marked duplicate.
    let p = server.api_post("/v1/postback", &with(sale("A-1", "49.90"), "token", &token));
    assert_eq!(p.status, 200, "{}", p.body);
    let c = p.json();
    assert_eq!(c["duplicate"], true);
    assert_eq!(
        (
            c["campaign"].as_str(),
            c["partner"].as_str(),
            c["ad"].as_str(),
            c["sid"].as_str()
        ),
        (
            Some("haircare"),
            Some("abc123"),
            Some("website2"),
            Some("kw1")
        )
    );
    assert_eq!(
        c["commissions"],
        json!([
            {"partner": "abc123", "level": 0, "amount": "4.99"},
            {"partner": "boss1", "level": 1, "amount": "0.50"},
        ])
    );
    assert_eq!(c["evidence"], "token");
    assert!(c["click_id"].as_str().is_some());

    // Stats: one click, two sales, revenue and commission with overrides and CPC.
    let rows = server.stats("group_by=campaign,partner,ad,sid");
    assert_eq!(
        rows,
        vec![json!({
            "campaign": "haircare", "partner": "abc123", "ad": "website2", "sid": "kw1",
            "clicks": 1, "unique_clicks": 1, "impressions": 0, "leads": 0, "sales": 2,
            "revenue": {"USD": "59.90"},
            // 4.99 + 1.00 partner, 0.50 + 0.10 boss1, 0.01 per click
            "commission": {"USD": "6.60"},
        })]
    );
    let today = affiliate_sdk::format_day((now() / 86_400) as u32);
    let by_day = server.stats(&format!("group_by=day&from={today}&to={today}"));
    assert_eq!(by_day[0]["day"], today.as_str());
    assert_eq!(by_day[0]["sales"], 2);

    // Nothing secret in the logs, even at debug level.
    let log = server.log();
    assert!(!log.contains(&token), "token in the log");
    assert!(
        !log.contains(&token[token.len() - 22..]),
        "token tag in the log"
    );
    assert!(!log.contains(API_KEY), "API key in the log");
    assert!(
        !log.contains(&common::signing_key()),
        "signing key in the log"
    );
    assert!(
        log.contains("conversion"),
        "the log says what happened: {log}"
    );
}

#[test]
fn tampered_and_unsigned_links_credit_nobody() {
    let server = Server::start(&config(""));
    let good = link("haircare", "abc123", Some("website2"), None);
    let mut tampered_tag = good.clone();
    let last = tampered_tag.pop().unwrap();
    tampered_tag.push(if last == 'A' { 'B' } else { 'A' });
    let bad = [
        tampered_tag,
        good.replace("/abc123/", "/solo/"),
        good.replace("/website2", "/website3"),
        good.replace("/website2", ""),
        good.split('?').next().unwrap().to_owned(),
        good.replace("sig=k1.", "sig=k2."),
        format!("{}?sig=", good.split('?').next().unwrap()),
        format!("{good}&sig=k1.AAAAAAAAAAAAAAAAAAAAAA"),
    ];
    for path in &bad {
        let (token, r) = server.click(path, None);
        assert_eq!(r.status, 302, "{path}");
        assert_eq!(token, None, "{path} set a cookie");
        assert_eq!(
            r.header("location"),
            Some("https://shop.example/hair?utm_source=aff"),
            "{path}"
        );
    }
    // A token signed with another key (same kid) converts nothing either.
    let other = affiliate_sdk::Keyring::generate().unwrap();
    let l = Link::parse("haircare", "abc123", None, None).unwrap();
    let forged = other
        .issue_token(&TokenClaims::new(
            ClickIdGenerator::new().next(now() * 1000).unwrap(),
            l,
            now(),
            86_400,
        ))
        .unwrap();
    let p = server.api_post(
        "/v1/postback",
        &with(sale("F-1", "10.00"), "token", &forged),
    );
    assert_eq!(p.status, 422, "{}", p.body);
    assert_eq!(p.code(), "invalid_signature");
    let totals = server.totals();
    assert_eq!(
        (totals["clicks"].as_u64(), totals["sales"].as_u64()),
        (Some(0), Some(0))
    );
}

#[test]
fn unknown_campaign_is_404_and_unknown_partner_lands_uncredited() {
    let server = Server::start(&config(""));
    let r = server.get(&link("nosuch", "abc123", None, None), &[]);
    assert_eq!((r.status, r.code().as_str()), (404, "unknown_campaign"));
    assert!(r.header("set-cookie").is_none());
    let (token, r) = server.click(&link("haircare", "stranger", None, None), None);
    assert_eq!((r.status, token), (302, None));
    assert_eq!(
        r.header("location"),
        Some("https://shop.example/hair?utm_source=aff")
    );
    assert_eq!(server.get("/nothing/here", &[]).code(), "not_found");
    assert_eq!(server.get("/healthz", &[]).body, "ok");
    let js = server.get("/snippet.js", &[]);
    assert_eq!(js.status, 200);
    assert!(
        js.header("content-type")
            .unwrap()
            .starts_with("text/javascript")
    );
    let built = concat!(env!("CARGO_MANIFEST_DIR"), "/../snippet/dist/snippet.js");
    assert_eq!(js.body, std::fs::read_to_string(built).unwrap());
}

#[test]
fn header_injection_through_sid_is_impossible() {
    let server = Server::start(&config(""));
    let base = link("haircare", "abc123", None, None);
    for sid in [
        "x%0d%0aSet-Cookie:%20evil=1",
        "x%0aLocation:%20https://evil.example",
        "%0d%0a%0d%0a%3Cscript%3Ealert(1)%3C/script%3E",
        "x%00y",
        "x%22y",
        "%E2%80%A8",
        &"a".repeat(65),
    ] {
        let (token, r) = server.click(&format!("{base}&sid={sid}"), None);
        assert_eq!(r.status, 302, "{sid}: the visitor still lands");
        let token = token.expect("the click still counts");
        assert_eq!(r.all("set-cookie").len(), 1, "{sid}");
        assert!(
            !r.headers
                .iter()
                .any(|(n, v)| n == "location" && (v.contains("evil") || v.contains('\n')))
        );
        assert!(
            r.headers
                .iter()
                .all(|(n, v)| n != "evil" && !v.contains("evil")),
            "{sid}: {:?}",
            r.headers
        );
        let session = keyring().verify_token(&token, now()).unwrap();
        assert_eq!(session.sid(), None, "{sid} dropped");
    }
    // A good sid passes through and is signed into the token, not the link.
    let (token, _) = server.click(&format!("{base}&sid=kw.1~x_y-z"), None);
    assert_eq!(
        keyring()
            .verify_token(&token.unwrap(), now())
            .unwrap()
            .sid(),
        Some("kw.1~x_y-z")
    );
    assert!(server.log().contains("sid dropped"));
    assert_eq!(server.totals()["clicks"], 8);
}

#[test]
fn config_errors_name_file_and_field_and_refuse_open_redirects() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("bad.toml");
    let good = config("");
    for destination in [
        "javascript:alert(1)",
        "//evil.example/",
        "https://shop.example@evil.example/",
        "https:\\\\\\\\evil.example/",
        "https://shop.example/\\r\\nLocation: https://evil.example",
        "data:text/html,hi",
        "/relative",
        "ftp://shop.example/",
    ] {
        let text = good.replacen(
            "destination = \"https://shop.example/hair?utm_source=aff\"",
            &format!("destination = \"{destination}\""),
            1,
        );
        std::fs::write(&file, text).unwrap();
        let (ok, _, err) = run(&["serve", "--config", file.to_str().unwrap()], None);
        assert!(!ok, "{destination} accepted");
        assert!(
            err.contains("bad.toml") && err.contains("campaign[0]") && err.contains("destination"),
            "{destination}: {err}"
        );
    }
    std::fs::write(
        &file,
        good.replace(
            "listen = \"127.0.0.1:0\"",
            "listen = \"127.0.0.1:0\"\nlisten_port = 1",
        ),
    )
    .unwrap();
    let (ok, _, err) = run(&["serve", "--config", file.to_str().unwrap()], None);
    assert!(
        !ok && err.contains("bad.toml") && err.contains("listen_port"),
        "{err}"
    );
    let (ok, _, err) = run(&["serve", "--config", "/nonexistent/aff.toml"], None);
    assert!(!ok && err.contains("/nonexistent/aff.toml"), "{err}");
}

#[test]
fn expired_and_future_tokens_attribute_nothing() {
    let server = Server::start(&config(""));
    let keys = keyring();
    let l = Link::parse("haircare", "abc123", None, None).unwrap();
    let t = now();
    let ids = ClickIdGenerator::new();
    let old = keys
        .issue_token(&TokenClaims::new(
            ids.next((t - 40 * 86_400) * 1000).unwrap(),
            l,
            t - 40 * 86_400,
            28 * 86_400,
        ))
        .unwrap();
    let future = keys
        .issue_token(&TokenClaims::new(
            ids.next(t * 1000).unwrap(),
            l,
            t + 3_600,
            28 * 86_400,
        ))
        .unwrap();
    for (i, token) in [old, future].iter().enumerate() {
        let r = server.api_post(
            "/v1/postback",
            &with(sale(&format!("E-{i}"), "10.00"), "token", token),
        );
        assert_eq!(
            (r.status, r.code().as_str()),
            (422, "expired"),
            "{}",
            r.body
        );
        let px = server.get(
            &format!("/px.gif?order_id=EP-{i}&amount=1.00&currency=USD&token={token}"),
            &[],
        );
        assert_eq!(px.header("x-affiliate-result"), Some("expired"));
    }
    assert_eq!(server.totals()["sales"], 0);
    assert_eq!(server.api_get("/v1/conversions/E-0").status, 404);
}

#[test]
fn duplicate_and_conflicting_order_ids() {
    let server = Server::start(&config(""));
    let (token, _) = server.click(&link("haircare", "solo", None, None), None);
    let order = with(sale("D-1", "20.00"), "token", &token.unwrap());
    let first = server.api_post("/v1/postback", &order);
    assert_eq!(first.status, 201);
    let again = server.api_post("/v1/postback", &order);
    assert_eq!(again.status, 200);
    let (mut a, mut b) = (first.json(), again.json());
    assert_eq!(
        (a["duplicate"].take(), b["duplicate"].take()),
        (json!(false), json!(true))
    );
    assert_eq!(a, b, "a replay answers the first result");
    for (field, value) in [("amount", "20.01"), ("currency", "EUR"), ("kind", "lead")] {
        let r = server.api_post("/v1/postback", &with(order.clone(), field, value));
        assert_eq!((r.status, r.code().as_str()), (409, "conflict"), "{field}");
    }
    let stored = server.api_get("/v1/conversions/D-1").json();
    assert_eq!(
        (stored["amount"].as_str(), stored["currency"].as_str()),
        (Some("20.00"), Some("USD"))
    );
    assert_eq!(server.totals()["revenue"], json!({"USD": "20.00"}));
}

#[test]
fn coupon_click_id_manual_and_lead() {
    let server = Server::start(&config(""));
    // Coupon: case-insensitive; campaign needed since there are two.
    let r = server.api_post(
        "/v1/postback",
        &with(
            with(sale("C-1", "100.00"), "coupon", "abc10"),
            "campaign",
            "haircare",
        ),
    );
    assert_eq!(r.status, 201, "{}", r.body);
    assert_eq!(
        (r.json()["partner"].as_str(), r.json()["evidence"].as_str()),
        (Some("abc123"), Some("coupon"))
    );
    let r = server.api_post(
        "/v1/postback",
        &with(sale("C-2", "100.00"), "coupon", "NOPE"),
    );
    assert_eq!(
        (r.status, r.code().as_str()),
        (422, "not_attributable"),
        "{}",
        r.body
    );

    // Click id: the shop's backend kept it from the token.
    let (token, _) = server.click(&link("haircare", "solo", Some("banner"), Some("s1")), None);
    let click_id = keyring()
        .verify_token(&token.unwrap(), now())
        .unwrap()
        .click_id()
        .to_string();
    let r = server.api_post(
        "/v1/postback",
        &with(sale("K-1", "30.00"), "click_id", &click_id),
    );
    assert_eq!(r.status, 201, "{}", r.body);
    let c = r.json();
    assert_eq!(
        (
            c["partner"].as_str(),
            c["ad"].as_str(),
            c["sid"].as_str(),
            c["click_id"].as_str()
        ),
        (
            Some("solo"),
            Some("banner"),
            Some("s1"),
            Some(click_id.as_str())
        )
    );
    let r = server.api_post(
        "/v1/postback",
        &with(sale("K-2", "30.00"), "click_id", "not-a-click-id"),
    );
    assert_eq!(r.status, 400, "{}", r.body);

    // Manual entry.
    let r = server.api_post(
        "/v1/conversions/manual",
        &json!({
        "order_id": "M-1", "amount": "5.00", "currency": "EUR", "kind": "sale",
        "campaign": "skincare", "partner": "solo", "ad": "phone"}),
    );
    assert_eq!(r.status, 201, "{}", r.body);
    assert_eq!(
        (
            r.json()["evidence"].as_str(),
            r.json()["commissions"][0]["amount"].as_str()
        ),
        (Some("manual"), Some("5.00"))
    );
    let r = server.api_post("/v1/conversions/manual", &json!({
        "order_id": "M-2", "amount": "5.00", "currency": "EUR", "campaign": "skincare", "partner": "ghost"}));
    assert_eq!((r.status, r.code().as_str()), (422, "unknown_partner"));

    // A lead pays the flat lead commission.
    let r = server.api_post(
        "/v1/postback",
        &json!({"order_id": "L-1", "amount": "0", "currency": "USD",
        "kind": "lead", "coupon": "ABC10", "campaign": "haircare"}),
    );
    assert_eq!(r.json()["commissions"][0]["amount"], "2.00");
    let rows = server.stats("group_by=partner");
    let solo = rows.iter().find(|r| r["partner"] == "solo").unwrap();
    assert_eq!(solo["revenue"], json!({"EUR": "5.00", "USD": "30.00"}));
}

#[test]
fn every_status_transition() {
    use affiliate_sdk::Status;
    let server = Server::start(&config(""));
    let all = ["pending", "approved", "paid", "rejected", "reversed"];
    // How to reach each status from pending.
    let path = |s: &str| -> &[&str] {
        match s {
            "pending" => &[],
            "approved" => &["approved"],
            "paid" => &["approved", "paid"],
            "rejected" => &["rejected"],
            _ => &["approved", "reversed"],
        }
    };
    let allowed = [
        ("pending", "approved"),
        ("approved", "paid"),
        ("pending", "rejected"),
        ("approved", "rejected"),
        ("approved", "reversed"),
        ("paid", "reversed"),
    ];
    let mut n = 0;
    for from in all {
        for to in all {
            n += 1;
            let id = format!("S-{n}");
            let r = server.api_post(
                "/v1/conversions/manual",
                &json!({"order_id": id, "amount": "10.00",
                "currency": "USD", "campaign": "haircare", "partner": "abc123"}),
            );
            assert_eq!(r.status, 201);
            for step in path(from) {
                let r = server.api_post(
                    &format!("/v1/conversions/{id}/status"),
                    &json!({"status": step}),
                );
                assert_eq!(r.status, 200, "{from} via {step}: {}", r.body);
            }
            let r = server.api_post(
                &format!("/v1/conversions/{id}/status"),
                &json!({"status": to}),
            );
            let ok = allowed.contains(&(from, to));
            assert_eq!(
                ok,
                from.parse::<Status>()
                    .unwrap()
                    .can_become(to.parse().unwrap())
            );
            if ok {
                assert_eq!(
                    (r.status, r.json()["status"].as_str()),
                    (200, Some(to)),
                    "{from}->{to}"
                );
            } else {
                // Including pending -> pending: "pending" is never a target.
                assert_eq!(
                    (r.status, r.code().as_str()),
                    (409, "invalid_transition"),
                    "{from}->{to}"
                );
            }
            let now_status =
                server.api_get(&format!("/v1/conversions/{id}")).json()["status"].clone();
            let expect = if ok { to } else { from };
            assert_eq!(now_status, expect, "{from}->{to}");
        }
    }
    let r = server.api_post(
        "/v1/conversions/nope/status",
        &json!({"status": "approved"}),
    );
    assert_eq!((r.status, r.code().as_str()), (404, "not_found"));
    let r = server.api_post("/v1/conversions/S-1/status", &json!({"status": "refunded"}));
    assert_eq!((r.status, r.code().as_str()), (400, "malformed"));
    // Reversed and rejected conversions leave revenue; every conversion still counts.
    let totals = server.totals();
    assert_eq!(totals["sales"], 25);
}

#[test]
fn missing_or_wrong_api_key_is_401() {
    let server = Server::start(&config(""));
    let body = sale("U-1", "1.00").to_string();
    let endpoints: [(&str, &str); 6] = [
        ("POST", "/v1/postback"),
        ("POST", "/v1/conversions/manual"),
        ("POST", "/v1/conversions/U-1/status"),
        ("GET", "/v1/conversions/U-1"),
        ("GET", "/v1/stats"),
        ("GET", "/v1/stats?group_by=day"),
    ];
    let bad_keys: [&[(&str, &str)]; 5] = [
        &[],
        &[("Authorization", "Bearer wrong-key-0123456789abcdef")],
        &[("Authorization", "Bearer test-api-key-0123456789abcde")],
        &[("Authorization", "test-api-key-0123456789abcdef")],
        &[("Authorization", "Basic dGVzdDp0ZXN0")],
    ];
    for (method, path) in endpoints {
        for headers in bad_keys {
            let r = if method == "GET" {
                server.get(path, headers)
            } else {
                server.post(path, headers, &body)
            };
            assert_eq!(
                (r.status, r.code().as_str()),
                (401, "unauthorized"),
                "{method} {path} {headers:?}"
            );
            assert_eq!(r.header("www-authenticate"), Some("Bearer"));
        }
    }
    assert_eq!(server.get("/v1/stats", &[AUTH]).status, 200);
    assert_eq!(server.totals()["sales"], 0, "nothing was recorded");
}

#[test]
fn malformed_and_oversized_bodies_change_nothing() {
    let server = Server::start(&config(""));
    let (token, _) = server.click(&link("haircare", "abc123", None, None), None);
    let token = token.unwrap();
    let cases: Vec<(String, u16)> = vec![
        (String::new(), 400),
        ("not json".into(), 400),
        ("[]".into(), 400),
        (json!({"order_id": "B-1", "amount": 49.9, "currency": "USD", "token": token}).to_string(), 400),
        (json!({"order_id": "B-1", "amount": "49.999", "currency": "USD", "token": token}).to_string(), 400),
        (json!({"order_id": "B-1", "amount": "-1.00", "currency": "USD", "token": token}).to_string(), 400),
        (json!({"order_id": "B-1", "amount": "1.00", "currency": "XXY", "token": token}).to_string(), 400),
        (json!({"order_id": "B 1", "amount": "1.00", "currency": "USD", "token": token}).to_string(), 400),
        (json!({"order_id": "B-1", "amount": "1.00", "currency": "USD", "token": token, "coupon_code": "x"}).to_string(), 400),
        (json!({"order_id": "B-1", "amount": "1.00", "currency": "USD", "token": token, "pad": "x".repeat(17 * 1024)}).to_string(), 413),
    ];
    for (body, status) in &cases {
        let r = server.post("/v1/postback", &[AUTH], body);
        assert_eq!(
            (r.status, r.code().as_str()),
            (*status, "malformed"),
            "{}: {}",
            &body[..body.len().min(80)],
            r.body
        );
    }
    for (body, status) in cases.iter().filter(|(_, s)| *s == 413).chain(&cases[..3]) {
        let r = server.post("/v1/conversions", &[], body);
        assert_eq!((r.status, r.code().as_str()), (*status, "malformed"));
        let r = server.post("/v1/conversions/manual", &[AUTH], body);
        assert_eq!(r.status, *status);
    }
    let px = server.get("/px.gif?order_id=B-1&amount=lots&currency=USD", &[]);
    assert_eq!(
        (px.status, px.header("x-affiliate-result")),
        (200, Some("malformed"))
    );
    let px = server.get("/px.gif?garbage", &[]);
    assert_eq!(
        (px.status, px.header("content-type")),
        (200, Some("image/gif"))
    );
    assert_eq!(server.totals()["sales"], 0);
    assert_eq!(server.api_get("/v1/conversions/B-1").status, 404);
}

#[test]
fn impressions_and_cors() {
    let server = Server::start(&config(""));
    let l = link("haircare", "abc123", Some("banner"), None).replacen("/go/", "/imp/", 1);
    for _ in 0..400 {
        let r = server.get(&l, &[]);
        assert_eq!(
            (r.status, r.header("x-affiliate-result")),
            (200, Some("ok"))
        );
    }
    let forged = l.replace("/banner", "/other");
    assert_eq!(
        server.get(&forged, &[]).header("x-affiliate-result"),
        Some("invalid_signature")
    );
    let t = server.totals();
    assert_eq!(t["impressions"], 400);
    assert_eq!(
        t["commission"],
        json!({"USD": "0.60"}),
        "400 at 1.50 per mille"
    );

    let pre = |origin: &str| {
        server.options(
            "/v1/conversions",
            &[
                ("Origin", origin),
                ("Access-Control-Request-Method", "POST"),
                ("Access-Control-Request-Headers", "content-type"),
            ],
        )
    };
    let ok = pre("https://shop.example");
    assert_eq!(
        ok.header("access-control-allow-origin"),
        Some("https://shop.example")
    );
    assert_eq!(ok.header("access-control-allow-credentials"), Some("true"));
    assert_eq!(
        pre("https://evil.example").header("access-control-allow-origin"),
        None
    );
    let r = server.post(
        "/v1/conversions",
        &[("Origin", "https://shop.example")],
        &json!({"order_id": "X-1", "amount": "1.00", "currency": "USD"}).to_string(),
    );
    assert_eq!(
        (r.status, r.code().as_str()),
        (422, "not_attributable"),
        "no token anywhere"
    );
    assert_eq!(
        r.header("access-control-allow-origin"),
        Some("https://shop.example")
    );
    // Only the beacon endpoint speaks CORS.
    let other = server.options(
        "/v1/postback",
        &[
            ("Origin", "https://shop.example"),
            ("Access-Control-Request-Method", "POST"),
        ],
    );
    assert_eq!(other.header("access-control-allow-origin"), None);
}

#[test]
fn first_click_campaign_keeps_the_earlier_token() {
    let server = Server::start(&config(""));
    let (first, _) = server.click(&link("skincare", "abc123", None, None), None);
    let first = first.unwrap();
    let (second, r) = server.click(&link("skincare", "solo", None, None), Some(&first));
    assert_eq!(second.as_deref(), Some(first.as_str()), "first click kept");
    assert!(r.header("location").unwrap().ends_with(&first));
    let (third, _) = server.click(&link("haircare", "solo", None, None), Some(&first));
    assert_ne!(
        third.as_deref(),
        Some(first.as_str()),
        "another campaign gets its own token"
    );
    let r = server.api_post(
        "/v1/postback",
        &json!({"order_id": "FC-1", "amount": "80.00", "currency": "EUR",
        "token": second.unwrap()}),
    );
    assert_eq!(r.json()["partner"], "abc123");
    let rows = server.stats("group_by=campaign,partner");
    let unique: u64 = rows
        .iter()
        .map(|r| r["unique_clicks"].as_u64().unwrap())
        .sum();
    assert_eq!((rows.len(), unique), (3, 3));
}

#[test]
fn data_survives_a_restart_and_sigterm_flushes_clicks() {
    let server = Server::start(&config(""));
    let (token, _) = server.click(&link("haircare", "abc123", None, Some("kw9")), None);
    let r = server.api_post(
        "/v1/postback",
        &with(sale("R-1", "12.34"), "token", &token.unwrap()),
    );
    assert_eq!(r.status, 201);
    // Clicks right before the signal: batched in memory, flushed on SIGTERM.
    for _ in 0..5 {
        server.click(&link("haircare", "solo", None, None), None);
    }
    let before = server.stats("group_by=partner,sid");
    let server = server.restart("TERM");
    assert_eq!(server.stats("group_by=partner,sid"), before);
    assert_eq!(server.totals()["clicks"], 6);
    // Ctrl-C (SIGINT) flushes too.
    for _ in 0..3 {
        server.click(&link("haircare", "solo", None, None), None);
    }
    let server = server.restart("INT");
    assert_eq!(server.totals()["clicks"], 9);
    assert!(server.log().contains("SIGINT: stopping"));
    let r = server.api_post(
        "/v1/postback",
        &with(sale("R-1", "12.34"), "coupon", "ABC10"),
    );
    assert_eq!(
        (r.status, r.json()["duplicate"].as_bool()),
        (200, Some(true)),
        "order ids survive too"
    );
    assert!(server.log().contains("store flushed"));
}

#[test]
fn keygen_prints_a_fresh_key() {
    let (ok, a, _) = run(&["keygen"], None);
    let (_, b, _) = run(&["keygen"], None);
    assert!(ok);
    assert_ne!(a, b);
    let key = a.trim();
    assert_eq!(key.len(), 43);
    affiliate_sdk::Key::from_base64(key).unwrap();
    let (ok, _, err) = run(
        &[
            "link",
            "--config",
            "/nonexistent.toml",
            "--campaign",
            "a",
            "--partner",
            "b",
        ],
        None,
    );
    assert!(!ok && err.contains("/nonexistent.toml"));
}

#[test]
fn a_port_in_use_is_an_error_not_shared() {
    let server = Server::start(&config(""));
    let port = server.base.rsplit(':').next().unwrap();
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("second.toml");
    std::fs::write(
        &file,
        config("").replace("127.0.0.1:0", &format!("127.0.0.1:{port}")),
    )
    .unwrap();
    let (ok, _, err) = run(&["serve", "--config", file.to_str().unwrap()], None);
    assert!(!ok && err.contains("cannot listen on"), "{err}");
    assert_eq!(server.get("/healthz", &[]).body, "ok");
}
