//! The partner API's isolation: two partner trees, each partner with a key and a
//! portal session; for every partner endpoint (the table below must name every
//! `/v1/partner/` route of `src/app.rs`) and every parameter that names a partner or
//! an ad, the other tree's ids with each credential kind get 403 or 404, never data;
//! what the endpoints answer unfiltered never holds the other tree's partners, orders
//! or payouts. Then the credentials themselves: no credential, the merchant's key, a
//! revoked key, a suspended partner, a used or forged sign-in link, a cross-site write.

use super::*;

/// `pa ← pa_kid` and `pb ← pb_kid`, each with an ad, an approved sale, a payout and an
/// adjustment.
fn two_trees() -> App {
    let app = App::new(&config(""));
    for (code, parent) in [
        ("pa", None),
        ("pa_kid", Some("pa")),
        ("pb", None),
        ("pb_kid", Some("pb")),
    ] {
        let mut body = json!({"code": code});
        if let Some(p) = parent {
            body["parent"] = json!(p);
        }
        assert_eq!(app.api_post("/v1/partners", &body).status, 201);
        let sale = json!({"order_id": format!("O-{code}"), "amount": "100.00", "currency": "USD",
            "kind": "sale", "campaign": "haircare", "partner": code});
        assert_eq!(app.api_post("/v1/conversions/manual", &sale).status, 201);
        app.api_post(
            "/v1/conversions/status",
            &json!({"order_ids": [format!("O-{code}")], "status": "approved"}),
        );
    }
    let r = app.send(
        "POST",
        "/v1/payouts",
        &[AUTH, ("Idempotency-Key", "iso")],
        r#"{"currency":"USD"}"#,
    );
    assert_eq!(r.status, 201, "{}", r.body);
    // And an adjustment each, its memo naming its partner.
    for code in ["pa", "pa_kid", "pb", "pb_kid"] {
        let r = app.send(
            "POST",
            "/v1/adjustments",
            &[AUTH, ("Idempotency-Key", &format!("adj-{code}"))],
            &json!({"partner": code, "currency": "USD", "amount": "1.00",
                    "memo": format!("bonus of {code}"), "kind": "bonus"})
            .to_string(),
        );
        assert_eq!(r.status, 201, "{}", r.body);
    }
    app
}

/// A partner's credentials: its key and its portal session cookie.
struct Creds {
    key: String,
    cookie: String,
}

fn creds(app: &App, partner: &str) -> Creds {
    let r = app.api_post(&format!("/v1/partners/{partner}/keys"), &json!({}));
    assert_eq!(r.status, 201, "{}", r.body);
    let key = r.json()["key"].as_str().unwrap().to_owned();
    let r = app.api_post(&format!("/v1/partners/{partner}/portal-link"), &json!({}));
    let url = r.json()["url"].as_str().unwrap().to_owned();
    let r = app.get(&path_of(&url), &[]);
    assert_eq!(r.status, 303, "{}", r.body);
    let cookie = r
        .header("set-cookie")
        .unwrap()
        .split(';')
        .next()
        .unwrap()
        .to_owned();
    assert!(cookie.starts_with("aff_portal=ps1."), "{cookie}");
    Creds { key, cookie }
}

/// Sends as the partner, with its key (`by_key`) or its session from the portal.
fn send(
    app: &App,
    c: &Creds,
    by_key: bool,
    method: &str,
    path: &str,
    body: &Value,
) -> common::Resp {
    let bearer = format!("Bearer {}", c.key);
    let headers: Vec<(&str, &str)> = if by_key {
        vec![("Authorization", bearer.as_str())]
    } else {
        vec![("Cookie", c.cookie.as_str()), ("X-Affiliate-Portal", "1")]
    };
    let body = if method == "GET" {
        String::new()
    } else {
        body.to_string()
    };
    app.send(method, path, &headers, &body)
}

/// Every partner endpoint, with requests naming the other tree (`{other}` a partner,
/// `{other_ad}` one of its ads). `None`: the route takes no id; its plain answers
/// are checked for the other tree's data instead.
type Row = (&'static str, &'static str, Vec<(&'static str, Value)>);

fn table() -> Vec<Row> {
    vec![
        ("GET", "/v1/partner/me", vec![]),
        (
            "PATCH",
            "/v1/partner/me",
            vec![
                ("", json!({"parent": "{other}"})),
                ("", json!({"status": "active", "code": "{other}"})),
            ],
        ),
        (
            "POST",
            "/v1/partner/links",
            vec![
                ("", json!({"campaign": "haircare", "partner": "{other}"})),
                ("", json!({"campaign": "haircare", "ad": "{other_ad}"})),
                (
                    "",
                    json!({"campaign": "haircare", "partner": "{other}", "ad": "{other_ad}"}),
                ),
            ],
        ),
        (
            "GET",
            "/v1/partner/ads",
            vec![("?partner={other}", json!(null))],
        ),
        (
            "POST",
            "/v1/partner/ads",
            vec![("", json!({"code": "x1", "name": "X", "partner": "{other}"}))],
        ),
        (
            "PATCH",
            "/v1/partner/ads/{code}",
            vec![("/v1/partner/ads/{other_ad}", json!({"name": "mine now"}))],
        ),
        (
            "GET",
            "/v1/partner/stats",
            vec![
                ("?partner={other}", json!(null)),
                ("?partner={other}&group_by=partner,sid", json!(null)),
            ],
        ),
        (
            "GET",
            "/v1/partner/conversions",
            vec![
                ("?partner={other}", json!(null)),
                ("?partner={other}&status=approved", json!(null)),
            ],
        ),
        ("GET", "/v1/partner/balance", vec![]),
        ("GET", "/v1/partner/payouts", vec![]),
        ("GET", "/v1/partner/adjustments", vec![]),
        ("GET", "/v1/partner/traffic", vec![]),
        ("GET", "/v1/partner/postbacks", vec![]),
    ]
}

fn fill(text: &str, other: &str) -> String {
    text.replace("{other_ad}", &format!("ad_{other}"))
        .replace("{other}", other)
}

#[test]
fn a_partner_never_reaches_the_other_tree() {
    let app = two_trees();
    // Every /v1/partner/ route has a row.
    let routes =
        std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/src/app.rs")).unwrap();
    let rows = table();
    for (i, _) in routes.match_indices("\"/v1/partner/") {
        let path = &routes[i + 1..i + 1 + routes[i + 1..].find('"').unwrap()];
        assert!(
            rows.iter().any(|(_, p, _)| *p == path),
            "no isolation row for {path}"
        );
    }
    let partners = ["pa", "pa_kid", "pb", "pb_kid"];
    let all: Vec<(&str, Creds)> = partners.iter().map(|p| (*p, creds(&app, p))).collect();
    // Every partner has a postback URL; its sale's events are fanned out (to the URL
    // it has when they are) into postbacks of its own.
    for (p, c) in &all {
        let pb = json!({"postback_url": format!("https://t.{p}.example/pb?o={{order_id}}&s={{status}}")});
        let r = send(&app, c, true, "PATCH", "/v1/partner/me", &pb);
        assert_eq!(r.status, 200, "{}", r.body);
    }
    app.state.tracker.fan_out(1000).unwrap();
    for (p, c) in &all {
        let r = send(&app, c, true, "GET", "/v1/partner/postbacks", &json!(null));
        assert_eq!(r.status, 200, "{}", r.body);
        // Its sale's two events; never a child's or another tree's.
        let mut urls: Vec<String> = r.json()["postbacks"]
            .as_array()
            .unwrap()
            .iter()
            .map(|d| d["url"].as_str().unwrap().to_owned())
            .collect();
        urls.sort();
        let base = format!("https://t.{p}.example/pb");
        assert_eq!(
            urls,
            [
                format!("{base}?o=O-{p}&s=approved"),
                format!("{base}?o=O-{p}&s=pending"),
            ],
            "{p}: {}",
            r.body
        );
    }
    for (p, c) in &all {
        let r = send(
            &app,
            c,
            true,
            "POST",
            "/v1/partner/ads",
            &json!({"code": format!("ad_{p}"), "name": "Banner", "media_type": "image"}),
        );
        assert_eq!(r.status, 201, "{}", r.body);
    }
    let mut checked = 0;
    for (me, c) in &all {
        let others: Vec<&str> = partners
            .iter()
            .copied()
            .filter(|o| o.chars().nth(1) != me.chars().nth(1))
            .collect();
        // A child may not reach its parent either.
        let mut outside = others.clone();
        if me.ends_with("_kid") {
            outside.push(&me[..2]);
        }
        for by_key in [true, false] {
            for (method, route, cases) in table() {
                for (target, body) in &cases {
                    for other in &outside {
                        let path = if target.starts_with('/') {
                            fill(target, other)
                        } else {
                            format!("{route}{}", fill(target, other))
                        };
                        let body: Value =
                            serde_json::from_str(&fill(&body.to_string(), other)).unwrap();
                        let r = send(&app, c, by_key, method, &path, &body);
                        assert!(
                            r.status == 403 || r.status == 404,
                            "{me} ({}) {method} {path} {body}: {} {}",
                            if by_key { "key" } else { "session" },
                            r.status,
                            r.body
                        );
                        checked += 1;
                    }
                }
                // Unfiltered answers hold nothing of the other tree.
                if method == "GET" && !route.contains('{') {
                    let r = send(&app, c, by_key, "GET", route, &json!(null));
                    assert_eq!(r.status, 200, "{me} GET {route}: {}", r.body);
                    for other in &outside {
                        // A child's profile names its parent (`"parent"`), nothing more.
                        if route == "/v1/partner/me"
                            && me.ends_with("_kid")
                            && me.starts_with(other)
                        {
                            assert_eq!(r.json()["parent"], *other);
                            assert_eq!(
                                r.body.matches(&format!("\"{other}\"")).count(),
                                1,
                                "{}",
                                r.body
                            );
                            continue;
                        }
                        for needle in [
                            format!("\"{other}\""),
                            format!("O-{other}\""),
                            format!("ad_{other}\""),
                        ] {
                            assert!(
                                !r.body.contains(&needle),
                                "{me} GET {route} shows {needle}: {}",
                                r.body
                            );
                        }
                    }
                    checked += 1;
                }
            }
        }
    }
    println!("isolation: {checked} requests across the other tree's ids, none answered with data");
    // What a parent may do for its child.
    let (_, pa) = &all[0];
    let r = send(
        &app,
        pa,
        true,
        "POST",
        "/v1/partner/links",
        &json!({"campaign": "haircare", "partner": "pa_kid", "ad": "ad_pa_kid", "sid": "kw1"}),
    );
    assert_eq!(r.status, 200, "{}", r.body);
    assert!(
        r.json()["url"]
            .as_str()
            .unwrap()
            .contains("/go/haircare/pa_kid/ad_pa_kid")
    );
    let rows = send(
        &app,
        pa,
        true,
        "GET",
        "/v1/partner/stats?group_by=partner",
        &json!(null),
    )
    .json()["rows"]
        .clone();
    assert_eq!(rows.as_array().unwrap().len(), 2, "{rows}");
    let conv = send(
        &app,
        pa,
        false,
        "GET",
        "/v1/partner/conversions",
        &json!(null),
    )
    .json()["conversions"]
        .clone();
    let mine: Vec<(&str, &str)> = conv
        .as_array()
        .unwrap()
        .iter()
        .map(|c| {
            (
                c["order_id"].as_str().unwrap(),
                c["commission"].as_str().unwrap(),
            )
        })
        .collect();
    // pa's own 10.00, and its 1.00 override on its child's sale.
    assert_eq!(mine.len(), 2);
    assert!(
        mine.contains(&("O-pa", "10.00")) && mine.contains(&("O-pa_kid", "1.00")),
        "{mine:?}"
    );
    let kid = &all[1].1;
    let rows = send(
        &app,
        kid,
        true,
        "GET",
        "/v1/partner/stats?group_by=partner",
        &json!(null),
    )
    .json()["rows"]
        .clone();
    assert_eq!(
        rows[0]["commission"]["USD"], "10.00",
        "the child's own, not its parent's override"
    );
}

#[test]
fn credentials_are_checked_on_every_request() {
    let app = two_trees();
    let c = creds(&app, "pa");
    let me = |headers: &[(&str, &str)]| app.send("GET", "/v1/partner/me", headers, "");
    assert_eq!(me(&[]).status, 401);
    assert_eq!(
        me(&[AUTH]).status,
        401,
        "the merchant's key is no partner key"
    );
    assert_eq!(
        me(&[(
            "Authorization",
            "Bearer pk_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"
        )])
        .status,
        401
    );
    assert_eq!(
        me(&[(
            "Cookie",
            "aff_portal=ps1.pa.9999999999.AAAAAAAAAAAAAAAAAAAAAA.k1.AAAAAAAAAAAAAAAAAAAAAA"
        )])
        .status,
        401
    );
    let bearer = format!("Bearer {}", c.key);
    assert_eq!(me(&[("Authorization", &bearer)]).status, 200);
    assert_eq!(me(&[("Cookie", &c.cookie)]).status, 200);
    // A partner key is no merchant key.
    for path in [
        "/v1/stats",
        "/v1/payouts",
        "/v1/partners",
        "/v1/conversions",
    ] {
        assert_eq!(
            app.send("GET", path, &[("Authorization", &bearer)], "")
                .status,
            401,
            "{path}"
        );
    }
    // A cross-site write with the cookie is refused; the portal's own is not.
    let cross = [
        ("Cookie", c.cookie.as_str()),
        ("Origin", "https://evil.example"),
        ("Host", "t.shop.example"),
    ];
    let r = app.send("PATCH", "/v1/partner/me", &cross, r#"{"name": "pwned"}"#);
    assert_eq!((r.status, r.code()), (403, "forbidden".into()));
    let r = app.send(
        "PATCH",
        "/v1/partner/me",
        &[("Cookie", c.cookie.as_str())],
        r#"{"name": "pwned"}"#,
    );
    assert_eq!(
        r.status, 403,
        "a cookie write without Origin or the portal header"
    );
    let same = [
        ("Cookie", c.cookie.as_str()),
        ("Origin", "http://t.shop.example"),
        ("Host", "t.shop.example"),
    ];
    assert_eq!(
        app.send("PATCH", "/v1/partner/me", &same, r#"{"name": "Pa"}"#)
            .status,
        200
    );
    assert_eq!(app.api_get("/v1/partners/pa").json()["name"], "Pa");
    // Suspended: key and session refused (403); active again: accepted.
    let suspend = |s: &str| {
        app.send(
            "PATCH",
            "/v1/partners/pa",
            &[AUTH],
            &format!("{{\"status\": \"{s}\"}}"),
        )
    };
    assert_eq!(suspend("suspended").status, 200);
    assert_eq!(me(&[("Authorization", &bearer)]).status, 403);
    assert_eq!(me(&[("Cookie", &c.cookie)]).status, 403);
    let r = app.api_post("/v1/partners/pa/portal-link", &json!({}));
    assert_eq!(
        r.code(),
        "forbidden",
        "no sign-in link for a suspended partner"
    );
    assert_eq!(suspend("active").status, 200);
    // Revoked: refused on the next request.
    let keys = app.api_get("/v1/partners/pa/keys").json()["keys"].clone();
    assert_eq!(keys.as_array().unwrap().len(), 1);
    assert!(
        keys[0].get("key").is_none() && keys[0].get("digest").is_none(),
        "{keys}"
    );
    let id = keys[0]["id"].as_str().unwrap();
    assert_eq!(
        app.send("DELETE", &format!("/v1/partners/pa/keys/{id}"), &[AUTH], "")
            .status,
        204
    );
    assert_eq!(me(&[("Authorization", &bearer)]).status, 401);
    assert_eq!(
        app.send("DELETE", &format!("/v1/partners/pb/keys/{id}"), &[AUTH], "")
            .status,
        404
    );
    assert_eq!(
        app.api_post("/v1/partners/ghost/keys", &json!({})).status,
        404
    );
    // Sign-in links: used once; forged or garbled ones go back to the portal with why.
    let url = app
        .api_post("/v1/partners/pb/portal-link", &json!({"ttl_secs": 60}))
        .json()["url"]
        .as_str()
        .unwrap()
        .to_owned();
    assert_eq!(
        app.get(&path_of(&url), &[]).header("location"),
        Some("/portal")
    );
    let again = app.get(&path_of(&url), &[]);
    assert_eq!(
        (again.status, again.header("location")),
        (303, Some("/portal?error=forbidden"))
    );
    assert!(again.header("set-cookie").is_none());
    for t in [
        "",
        "x",
        &url.replace("pl1.pb.", "pl1.pa."),
        "pl1.pb.1.AAAAAAAAAAAAAAAAAAAAAA.k1.AAAAAAAAAAAAAAAAAAAAAA",
    ] {
        let r = app.get(
            &format!("/portal/login?t={}", t.rsplit("t=").next().unwrap()),
            &[],
        );
        assert_eq!(r.status, 303);
        assert!(
            r.header("location").unwrap().starts_with("/portal?error="),
            "{t}"
        );
        assert!(r.header("set-cookie").is_none());
    }
    for body in [
        json!({"ttl_secs": 0}),
        json!({"ttl_secs": 9_999_999}),
        json!({"ttl": 5}),
    ] {
        let r = app.api_post("/v1/partners/pb/portal-link", &body);
        assert_eq!((r.status, r.code()), (400, "malformed".into()), "{body}");
    }
}

#[test]
fn bad_partner_input_is_refused_and_changes_nothing() {
    let app = two_trees();
    let c = creds(&app, "pa");
    let before = send(&app, &c, true, "GET", "/v1/partner/me", &json!(null)).body;
    let cases: Vec<(&str, &str, Value, u16)> = vec![
        (
            "PATCH",
            "/v1/partner/me",
            json!({"name": "x".repeat(300)}),
            400,
        ),
        (
            "PATCH",
            "/v1/partner/me",
            json!({"email": "a@b.example"}),
            403,
        ),
        ("PATCH", "/v1/partner/me", json!([1, 2]), 400),
        ("PATCH", "/v1/partner/me", json!({"postback_url": 5}), 400),
        (
            "PATCH",
            "/v1/partner/me",
            json!({"postback_url": "https://t.pa.example/pb?p={payout}"}),
            400,
        ),
        (
            "PATCH",
            "/v1/partner/me",
            json!({"postback_url": "https://{sid}.pa.example/pb"}),
            400,
        ),
        (
            "PATCH",
            "/v1/partner/me",
            json!({"postback_url": "https:///{sid}"}),
            400,
        ),
        (
            "POST",
            "/v1/partner/links",
            json!({"campaign": "nope"}),
            404,
        ),
        (
            "POST",
            "/v1/partner/links",
            json!({"campaign": "haircare", "sid": "a b"}),
            400,
        ),
        (
            "POST",
            "/v1/partner/links",
            json!({"campaign": "haircare", "to": "https://evil.example"}),
            400,
        ),
        (
            "POST",
            "/v1/partner/ads",
            json!({"code": "a b", "name": "X"}),
            400,
        ),
        (
            "POST",
            "/v1/partner/ads",
            json!({"code": "ok1", "name": ""}),
            400,
        ),
        (
            "POST",
            "/v1/partner/ads",
            json!({"code": "ok1", "name": "X", "media_type": "hologram"}),
            400,
        ),
        ("PATCH", "/v1/partner/ads/none", json!({"name": "X"}), 404),
    ];
    for (method, path, body, status) in cases {
        let r = send(&app, &c, true, method, path, &body);
        assert_eq!(r.status, status, "{method} {path} {body}: {}", r.body);
        assert!(r.json()["error"]["code"].is_string());
    }
    for q in [
        "group_by=color",
        "from=yesterday",
        "limit=0",
        "cursor=%%%",
        "x=1",
        "partner=a%20b",
    ] {
        let r = send(
            &app,
            &c,
            true,
            "GET",
            &format!("/v1/partner/stats?{q}"),
            &json!(null),
        );
        assert!(
            r.status == 400 || r.status == 403,
            "stats?{q}: {}",
            r.status
        );
    }
    for q in ["status=lost", "limit=5000", "cursor=zzz", "sort=x"] {
        let r = send(
            &app,
            &c,
            true,
            "GET",
            &format!("/v1/partner/conversions?{q}"),
            &json!(null),
        );
        assert_eq!(r.status, 400, "conversions?{q}");
    }
    assert_eq!(
        send(&app, &c, true, "GET", "/v1/partner/me", &json!(null)).body,
        before
    );
    let r = send(
        &app,
        &c,
        true,
        "PATCH",
        "/v1/partner/me",
        &json!({"postback_url": "https://t.pa.example/?x={nope}"}),
    );
    assert!(r.body.contains("unknown macro {nope}"), "{}", r.body);
    let ok =
        json!({"postback_url": "https://t.pa.example/pb?cid={click_id}&o={order_id}&s={status}"});
    assert_eq!(
        send(&app, &c, true, "PATCH", "/v1/partner/me", &ok).status,
        200
    );
    assert!(
        send(&app, &c, true, "GET", "/v1/partner/ads", &json!(null)).json()["ads"]
            .as_array()
            .unwrap()
            .is_empty()
    );
}

/// Every listing, the merchant's and the partner's, refuses a parameter it does not
/// take (a misspelt filter must not list everything) and one given twice, naming what
/// it takes; the same listing with its real parameters answers.
#[test]
fn listings_refuse_unknown_and_repeated_parameters() {
    let app = two_trees();
    let c = creds(&app, "pa");
    let bearer = format!("Bearer {}", c.key);
    let partner = [("Authorization", bearer.as_str())];
    let webhook = app.api_post("/v1/webhooks", &json!({"url": "https://hooks.example/x"}));
    assert_eq!(webhook.status, 201, "{}", webhook.body);
    let deliveries = format!(
        "/v1/webhooks/{}/deliveries",
        webhook.json()["id"].as_str().unwrap()
    );
    // The path, the credential's headers, parameters it takes.
    type Listing<'a> = (&'a str, &'a [(&'a str, &'a str)], &'a str);
    let listings: [Listing; 13] = [
        ("/v1/stats", &[AUTH], "group_by=partner&limit=10"),
        ("/v1/stats.csv", &[AUTH], "group_by=partner"),
        ("/v1/balances", &[AUTH], "partner=pa&currency=USD"),
        ("/v1/conversions", &[AUTH], "status=approved&limit=5"),
        ("/v1/conversions.csv", &[AUTH], "partner=pa"),
        ("/v1/partners", &[AUTH], "status=active&limit=2"),
        ("/v1/payouts", &[AUTH], "currency=USD"),
        ("/v1/payouts.csv", &[AUTH], "status=pending"),
        (&deliveries, &[AUTH], "limit=5"),
        ("/v1/partner/ads", &partner, "partner=pa_kid"),
        ("/v1/partner/stats", &partner, "group_by=day"),
        ("/v1/partner/conversions", &partner, "limit=1"),
        ("/v1/partner/postbacks", &partner, "limit=1"),
    ];
    for (path, headers, good) in listings {
        let r = app.get(&format!("{path}?{good}"), headers);
        assert_eq!(r.status, 200, "{path}?{good}: {}", r.body);
        let r = app.get(&format!("{path}?{good}&partnr=x"), headers);
        assert_eq!(
            (r.status, r.code()),
            (400, "malformed".to_owned()),
            "{path}"
        );
        let message = r.json()["error"]["message"].as_str().unwrap().to_owned();
        assert!(
            message.contains("unknown parameter \"partnr\"; expected"),
            "{path}: {message}"
        );
        let first = good.split('&').next().unwrap();
        let r = app.get(&format!("{path}?{good}&{first}"), headers);
        assert_eq!(
            (r.status, r.code()),
            (400, "malformed".to_owned()),
            "{path}"
        );
        assert!(r.body.contains("more than once"), "{path}: {}", r.body);
    }
}
