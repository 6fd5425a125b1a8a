//! Clicks and impressions: `GET` and `HEAD` on `/go/…` and `/imp/…`, refusals, cookies, CORS.

use super::*;

#[test]
fn tampered_and_unsigned_links_credit_nobody() {
    let server = App::new(&config(""));
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
    let server = App::new(&config(""));
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
fn first_click_campaign_keeps_the_earlier_token() {
    let server = App::new(&config(""));
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
fn impressions_and_cors() {
    let server = App::new(&config(""));
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
        json!({"USD": "0.66"}),
        "400 at 1.50 per mille, and boss1's 10 % override"
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
fn head_answers_as_get_would_but_issues_and_counts_nothing() {
    let app = common::inproc::App::new(&config(""));
    let go = link("haircare", "abc123", Some("ad1"), Some("kw1"));
    let head = app.head(&go, &[]);
    assert_eq!(head.status, 302);
    assert_eq!(
        head.header("location"),
        Some("https://shop.example/hair?utm_source=aff"),
        "the destination, without a token"
    );
    assert!(head.header("set-cookie").is_none());
    assert_eq!(head.body, "");
    assert_eq!(app.counted(), (0, 0), "a HEAD counts no click");
    // The same link by GET: a token, a cookie, one click.
    let get = app.get(&go, &[]);
    assert_eq!(get.status, 302);
    assert!(
        get.header("location")
            .unwrap()
            .starts_with("https://shop.example/hair?utm_source=aff&aff_token=v1.")
    );
    assert!(
        get.header("set-cookie")
            .unwrap()
            .starts_with("aff_token=v1.")
    );
    assert_eq!(app.counted(), (1, 0));

    // Refusals answer as a GET does: the destination for a known campaign, else 404.
    let tampered = go.replace("/ad1?", "/ad2?");
    let r = app.head(&tampered, &[]);
    assert_eq!(
        (r.status, r.header("location")),
        (302, Some("https://shop.example/hair?utm_source=aff"))
    );
    assert_eq!(
        app.get(&tampered, &[]).header("location"),
        r.header("location")
    );
    let stranger = link("haircare", "stranger", None, None);
    assert_eq!(app.head(&stranger, &[]).status, 302);
    assert!(app.head(&stranger, &[]).header("set-cookie").is_none());
    let nosuch = link("nosuch", "abc123", None, None);
    assert_eq!(app.head(&nosuch, &[]).status, 404);
    assert_eq!(app.get(&nosuch, &[]).status, 404);
    assert_eq!(app.counted(), (1, 0), "refusals count nothing");

    // Impressions: HEAD says what a GET would, and counts nothing.
    let imp = link("haircare", "abc123", None, None).replacen("/go/", "/imp/", 1);
    let head = app.head(&imp, &[]);
    assert_eq!(head.status, 200);
    assert_eq!(head.header("content-type"), Some("image/gif"));
    assert_eq!(head.header("x-affiliate-result"), Some("ok"));
    assert_eq!(app.counted(), (1, 0));
    let bad = app.head(&imp.replace("abc123", "solo"), &[]);
    assert_eq!(bad.header("x-affiliate-result"), Some("invalid_signature"));
    let get = app.get(&imp, &[]);
    assert_eq!(get.header("x-affiliate-result"), Some("ok"));
    assert_eq!(app.counted(), (1, 1));
}

#[test]
fn an_unknown_partners_signed_link_credits_nobody_in_process() {
    // Validly signed with the merchant's key, but for a partner it never created.
    let app = common::inproc::App::new(&config(""));
    let r = app.get(&link("haircare", "stranger", None, None), &[]);
    assert_eq!(
        (r.status, r.header("location")),
        (302, Some("https://shop.example/hair?utm_source=aff"))
    );
    assert!(r.header("set-cookie").is_none());
    assert_eq!(app.counted(), (0, 0));
}

/// A raw `GET` over a socket, bytes as given (a request target with raw non-ASCII
/// bytes cannot be built with an HTTP client): the status line and headers.
fn raw_get(server: &Server, target: &[u8], headers: &[(&str, &str)]) -> String {
    use std::io::{Read, Write};
    let addr = server.base.trim_start_matches("http://");
    let mut s = std::net::TcpStream::connect(addr).unwrap();
    let mut req = b"GET ".to_vec();
    req.extend_from_slice(target);
    req.extend_from_slice(b" HTTP/1.1\r\nHost: t\r\nConnection: close\r\n");
    if !headers
        .iter()
        .any(|(n, _)| n.eq_ignore_ascii_case("user-agent"))
    {
        req.extend_from_slice(format!("User-Agent: {}\r\n", BROWSER_UA).as_bytes());
    }
    for (n, v) in headers {
        req.extend_from_slice(format!("{n}: {v}\r\n").as_bytes());
    }
    req.extend_from_slice(b"\r\n");
    s.write_all(&req).unwrap();
    let mut out = Vec::new();
    let _ = s.read_to_end(&mut out);
    let text = String::from_utf8_lossy(&out);
    text.split("\r\n\r\n").next().unwrap_or_default().to_owned()
}

#[test]
fn unsigned_parameters_and_other_cookies_never_fail_a_valid_link() {
    let server = Server::start(&config(""));
    let link = link("haircare", "abc123", None, None);
    let credited = |head: &str| head.starts_with("HTTP/1.1 302") && head.contains("aff_token=v1.");
    // A backslash, an encoded non-UTF-8 byte and odd characters in other parameters,
    // a repeated sid, a long ad-network click id that takes the URL past 4,096 bytes.
    // (A raw non-ASCII byte in a request target is refused by the HTTP parser itself,
    // before the tracker sees it; the core ignores one in an unsigned parameter.)
    for target in [
        format!("{link}&q=a\\b&r=caf%E9&x=%FF%FE&y=[x]!*()").into_bytes(),
        format!("{link}&sid=kw1&sid=kw2").into_bytes(),
        format!("{link}&sid=bad%20one&sid=kw3").into_bytes(),
        format!("{link}&gclid={}", "G".repeat(5000)).into_bytes(),
    ] {
        let head = raw_get(&server, &target, &[]);
        assert!(
            credited(&head),
            "{}: {head}",
            String::from_utf8_lossy(&target[..80.min(target.len())])
        );
    }
    let rows = server.stats("group_by=sid");
    let sids: Vec<_> = rows.iter().map(|r| r["sid"].clone()).collect();
    assert!(
        sids.contains(&json!("kw1")) && sids.contains(&json!("kw3")),
        "{sids:?}"
    );
    assert!(!sids.contains(&json!("kw2")), "the first valid sid is kept");

    // A Cookie header over 8 KiB with a sibling subdomain's cookie first still yields
    // the visitor's token: the pixel's conversion is credited.
    let (token, _) = server.click(&link, None);
    let token = token.unwrap();
    let cookie = format!(
        "aff_token=v1.k1.1.1.AAAAAAAAAAAAAAAAAAAAAA.haircare.solo...AAAAAAAAAAAAAAAAAAAAAA; pad={}; aff_token={token}",
        "p".repeat(9000)
    );
    let osig = super::osig("CK-1", "10.00", "USD", "sale");
    let px = server.get(
        &format!("/px.gif?order_id=CK-1&amount=10.00&currency=USD&osig={osig}"),
        &[("Cookie", &cookie)],
    );
    assert_eq!(px.header("x-affiliate-result"), Some("created"));
    assert_eq!(
        server.api_get("/v1/conversions/CK-1").json()["partner"],
        "abc123"
    );
}
