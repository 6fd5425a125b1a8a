//! Conversions: the whole flow from link to stats, every kind of evidence, replays,
//! statuses, authentication and malformed bodies.

use super::*;

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

    // Pixel with the cookie and the shop's order signature: always a GIF, never cached.
    let px = server.get(
        &format!(
            "/px.gif?order_id=A-1&amount=49.90&currency=USD&kind=sale&osig={}",
            osig("A-1", "49.90", "USD", "sale")
        ),
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
        &json!({"order_id": "A-2", "amount": "10.00", "currency": "USD", "kind": "sale",
                "token": token, "osig": osig("A-2", "10", "USD", "sale")})
        .to_string(),
    );
    assert_eq!(b.status, 201, "{}", b.body);
    assert_eq!(
        b.json(),
        json!({"order_id": "A-2", "status": "pending", "duplicate": false, "replaced": false})
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
            "clicks": 1, "unique_clicks": 1, "bot_clicks": 0, "impressions": 0, "leads": 0,
            "sales": 2, "revenue": {"USD": "59.90"},
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
fn expired_and_future_tokens_attribute_nothing() {
    let server = App::new(&config(""));
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
    let server = App::new(&config(""));
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
    let server = App::new(&config(""));
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
    let server = App::new(&config(""));
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
    let server = App::new(&config(""));
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
    let server = App::new(&config(""));
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
