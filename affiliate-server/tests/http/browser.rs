//! Conversions the browser cannot forge: what a partner with a grudge tries against
//! the public pixel and beacon, over HTTP. Campaign `haircare` takes signed orders
//! only (the default), `beauty` unsigned ones within limits (`open`), `postonly` none.

use super::*;

/// A beacon body for `order` with `token` and, if given, `osig`.
fn beacon(
    order: &str,
    amount: &str,
    currency: &str,
    kind: &str,
    token: &str,
    osig: Option<&str>,
) -> String {
    let mut b = json!({"order_id": order, "amount": amount, "currency": currency, "kind": kind, "token": token});
    if let Some(s) = osig {
        b["osig"] = json!(s);
    }
    b.to_string()
}

fn token_for(server: &App, campaign: &str, partner: &str) -> String {
    server
        .click(&link(campaign, partner, None, None), None)
        .0
        .expect("a token")
}

/// Posts a beacon and returns its status and error code (or "created"/"duplicate").
fn outcome(server: &App, body: &str) -> (u16, String) {
    let r = server.post("/v1/conversions", &[("Content-Type", "text/plain")], body);
    let code = if r.status < 300 {
        if r.json()["duplicate"] == true {
            "duplicate".to_owned()
        } else {
            "created".to_owned()
        }
    } else {
        r.code()
    };
    (r.status, code)
}

#[test]
fn open_mode_limits_hold_amount_currency_kind_and_conversions_per_click() {
    let server = App::new(&config(""));
    let t = token_for(&server, "beauty", "solo");
    let refused = |body: &str, why: &str| {
        let (status, code) = outcome(&server, body);
        assert_eq!((status, code.as_str()), (422, "not_attributable"), "{why}");
    };
    // Above the largest amount any conversion may carry: refused at the door.
    assert_eq!(
        outcome(
            &server,
            &beacon("B-1", "184467440737095516.15", "USD", "sale", &t, None)
        ),
        (400, "malformed".into()),
        "the largest amount"
    );
    refused(
        &beacon("B-1", "100.01", "USD", "sale", &t, None),
        "over max_browser_amount",
    );
    refused(
        &beacon("B-1", "999999.999", "KWD", "sale", &t, None),
        "another currency",
    );
    refused(
        &beacon("B-1", "10.00", "EUR", "sale", &t, None),
        "another currency",
    );
    refused(
        &beacon("B-1", "0", "USD", "signup", &t, None),
        "a made-up kind",
    );
    // The pixel holds the same limits.
    let px = server.get(
        &format!("/px.gif?order_id=B-1&amount=5000.00&currency=USD&token={t}"),
        &[],
    );
    assert_eq!(px.header("x-affiliate-result"), Some("not_attributable"));
    // Within the limits: three conversions on one click, and no fourth.
    for i in 0..3 {
        let kind = if i == 2 { "lead" } else { "sale" };
        assert_eq!(
            outcome(
                &server,
                &beacon(&format!("B-ok-{i}"), "100.00", "USD", kind, &t, None)
            )
            .1,
            "created"
        );
    }
    refused(
        &beacon("B-ok-3", "1.00", "USD", "sale", &t, None),
        "a fourth conversion on one click",
    );
    let px = server.get(
        &format!("/px.gif?order_id=B-ok-4&amount=1.00&currency=USD&token={t}"),
        &[],
    );
    assert_eq!(px.header("x-affiliate-result"), Some("not_attributable"));
    let totals = server.totals();
    assert_eq!(
        (totals["sales"].as_u64(), totals["leads"].as_u64()),
        (Some(2), Some(1))
    );
    // A signed order is never limited by open mode's rules.
    let big = osig("B-big", "5000.00", "USD", "sale");
    assert_eq!(
        outcome(
            &server,
            &beacon("B-big", "5000.00", "USD", "sale", &t, Some(&big))
        )
        .1,
        "created"
    );
    // A wrong signature is refused, never downgraded to unsigned.
    let wrong = osig("B-other", "5.00", "USD", "sale");
    assert_eq!(
        outcome(
            &server,
            &beacon("B-w", "5.00", "USD", "sale", &t, Some(&wrong))
        ),
        (422, "invalid_signature".into()),
        "a wrong signature in open mode"
    );
    // `off`: nothing from the browser, signed or not.
    let p = token_for(&server, "postonly", "solo");
    refused(
        &beacon("P-1", "5.00", "USD", "sale", &p, None),
        "off, unsigned",
    );
    let s = osig("P-1", "5.00", "USD", "sale");
    refused(
        &beacon("P-1", "5.00", "USD", "sale", &p, Some(&s)),
        "off, signed",
    );
}

#[test]
fn signed_mode_refuses_unsigned_and_mis_signed_orders_to_the_character() {
    let server = App::new(&config(""));
    let t = token_for(&server, "haircare", "abc123");
    let refused = |body: &str, why: &str| {
        let (status, code) = outcome(&server, body);
        assert!(status == 422 || status == 400, "{why}: {status} {code}");
        assert_ne!(code, "created", "{why}");
    };
    refused(&beacon("S-1", "49.90", "USD", "sale", &t, None), "unsigned");
    refused(
        &beacon("S-1", "49.90", "USD", "sale", &t, Some("")),
        "an empty signature",
    );
    let good = osig("S-1", "49.90", "USD", "sale");
    // A single changed character anywhere in osig.
    for i in 0..good.len() {
        let mut b = good.clone().into_bytes();
        b[i] = if b[i] == b'A' { b'B' } else { b'A' };
        refused(
            &beacon(
                "S-1",
                "49.90",
                "USD",
                "sale",
                &t,
                Some(&String::from_utf8(b).unwrap()),
            ),
            &format!("osig byte {i}"),
        );
    }
    // A single changed character in any signed field.
    for (order, amount, currency, kind) in [
        ("S-2", "49.90", "USD", "sale"),
        ("S-1", "49.91", "USD", "sale"),
        ("S-1", "49.90", "EUR", "sale"),
        ("S-1", "49.90", "USD", "lead"),
        ("S-1", "59.90", "USD", "sale"),
    ] {
        refused(
            &beacon(order, amount, currency, kind, &t, Some(&good)),
            &format!("{order} {amount} {currency} {kind}"),
        );
    }
    // The pixel: unsigned and mis-signed refused.
    for q in ["", "&osig=k1.AAAAAAAAAAAAAAAAAAAAAA"] {
        let px = server.get(
            &format!("/px.gif?order_id=S-1&amount=49.90&currency=USD&token={t}{q}"),
            &[],
        );
        assert_ne!(px.header("x-affiliate-result"), Some("created"), "{q}");
    }
    assert_eq!(server.totals()["sales"], 0, "nothing was recorded");
    // The signed order counts, once; the same signature with "49.9" is the same order.
    assert_eq!(
        outcome(
            &server,
            &beacon("S-1", "49.90", "USD", "sale", &t, Some(&good))
        )
        .1,
        "created"
    );
    assert_eq!(
        outcome(
            &server,
            &beacon("S-1", "49.9", "USD", "sale", &t, Some(&good))
        )
        .1,
        "duplicate"
    );
    let px = server.get(
        &format!("/px.gif?order_id=S-1&amount=49.90&currency=USD&token={t}&osig={good}"),
        &[],
    );
    assert_eq!(px.header("x-affiliate-result"), Some("duplicate"));
    let c = server.api_get("/v1/conversions/S-1").json();
    assert_eq!(
        (c["partner"].as_str(), c["channel"].as_str()),
        (Some("abc123"), Some("signed_browser"))
    );
    // A signed named action counts too: the merchant vouched for it.
    let lead = osig("S-3", "0", "USD", "signup");
    assert_eq!(
        outcome(
            &server,
            &beacon("S-3", "0", "USD", "signup", &t, Some(&lead))
        )
        .1,
        "created"
    );
}

#[test]
fn a_squatted_order_is_replaced_by_the_merchant_and_a_rejected_one_attributed_again() {
    let server = App::new(&config(""));
    let squatter = token_for(&server, "beauty", "solo");
    let right = token_for(&server, "beauty", "abc123");
    // The squatter's beacon claims the shop's next order id first.
    assert_eq!(
        outcome(
            &server,
            &beacon("N-1", "80.00", "USD", "sale", &squatter, None)
        )
        .1,
        "created"
    );
    // The merchant's postback for that order replaces it.
    let p = server.api_post("/v1/postback", &with(sale("N-1", "80.00"), "token", &right));
    assert_eq!(p.status, 201, "{}", p.body);
    let c = p.json();
    assert_eq!(
        (c["replaced"].as_bool(), c["duplicate"].as_bool()),
        (Some(true), Some(false))
    );
    assert_eq!(
        (c["partner"].as_str(), c["channel"].as_str()),
        (Some("abc123"), Some("server"))
    );
    // The squatter's record is kept for audit.
    let stored = server.api_get("/v1/conversions/N-1").json();
    assert_eq!(stored["partner"], "abc123");
    let kept = stored["replaced_records"].as_array().unwrap();
    assert_eq!(kept.len(), 1);
    assert_eq!(
        (kept[0]["partner"].as_str(), kept[0]["channel"].as_str()),
        (Some("solo"), Some("browser"))
    );
    // Stats credit the right partner only.
    let rows = server.stats("group_by=partner&campaign=beauty");
    let sales = |p: &str| {
        rows.iter()
            .find(|r| r["partner"] == p)
            .map_or(0, |r| r["sales"].as_u64().unwrap())
    };
    assert_eq!((sales("abc123"), sales("solo")), (1, 0));
    assert_eq!(
        rows.iter().find(|r| r["partner"] == "abc123").unwrap()["commission"],
        json!({"USD": "8.00"})
    );
    // The merchant's replay is a duplicate; the squatter learns nothing.
    let again = server.api_post("/v1/postback", &with(sale("N-1", "80.00"), "token", &right));
    assert_eq!(
        (again.status, again.json()["duplicate"].as_bool()),
        (200, Some(true))
    );
    // Answered as a new order would be, and nothing changes.
    assert_eq!(
        outcome(
            &server,
            &beacon("N-1", "80.00", "USD", "sale", &squatter, None)
        ),
        (201, "created".into())
    );
    assert_eq!(
        server.api_get("/v1/conversions/N-1").json()["partner"],
        "abc123"
    );

    // A signed conversion replaces a squatted order too.
    assert_eq!(
        outcome(
            &server,
            &beacon("N-2", "30.00", "USD", "sale", &squatter, None)
        )
        .1,
        "created"
    );
    let s = osig("N-2", "30.00", "USD", "sale");
    let r = server.post(
        "/v1/conversions",
        &[],
        &beacon("N-2", "30.00", "USD", "sale", &right, Some(&s)),
    );
    assert_eq!(
        (r.status, r.json()["replaced"].as_bool()),
        (201, Some(true))
    );

    // Rejecting a squatted record frees its order id for the right partner.
    let hair_squatter = token_for(&server, "haircare", "solo");
    let hair_right = token_for(&server, "haircare", "abc123");
    let p = server.api_post(
        "/v1/postback",
        &with(sale("R-1", "20.00"), "token", &hair_squatter),
    );
    assert_eq!(p.status, 201);
    let r = server.api_post("/v1/conversions/R-1/status", &json!({"status": "rejected"}));
    assert_eq!(r.status, 200);
    let p = server.api_post(
        "/v1/postback",
        &with(sale("R-1", "20.00"), "token", &hair_right),
    );
    assert_eq!(p.status, 201, "{}", p.body);
    assert_eq!(
        (p.json()["partner"].as_str(), p.json()["replaced"].as_bool()),
        (Some("abc123"), Some(true))
    );
    assert_eq!(
        server.api_get("/v1/conversions/R-1").json()["status"],
        "pending"
    );
}

/// Everything a public answer shows, but the `date` header.
fn shown(r: &common::Resp) -> (u16, Vec<(String, String)>, String) {
    let mut headers: Vec<_> = r
        .headers
        .iter()
        .filter(|(n, _)| n != "date")
        .cloned()
        .collect();
    headers.sort();
    (r.status, headers, r.body.clone())
}

#[test]
fn without_a_valid_token_and_signature_every_answer_is_the_same_whatever_exists() {
    let server = App::new(&config(""));
    // Two recorded orders: one signed through the browser, one by postback.
    let t = token_for(&server, "haircare", "abc123");
    let s = osig("X-1", "49.90", "USD", "sale");
    assert_eq!(
        outcome(
            &server,
            &beacon("X-1", "49.90", "USD", "sale", &t, Some(&s))
        )
        .1,
        "created"
    );
    assert_eq!(
        server
            .api_post("/v1/postback", &with(sale("X-2", "10.00"), "token", &t))
            .status,
        201
    );
    server.api_post("/v1/conversions/X-2/status", &json!({"status": "approved"}));
    let expired = keyring()
        .issue_token(&TokenClaims::new(
            ClickIdGenerator::new()
                .next((now() - 40 * 86_400) * 1000)
                .unwrap(),
            Link::parse("haircare", "abc123", None, None).unwrap(),
            now() - 40 * 86_400,
            28 * 86_400,
        ))
        .unwrap();
    let forged = format!("{}AAAA", &t[..t.len() - 4]);
    // Unknown orders, existing orders with another amount, existing orders with the
    // same amount: for each way of lacking evidence, one answer.
    let orders = [
        ("X-9", "49.90"),
        ("X-1", "12.00"),
        ("X-1", "49.90"),
        ("X-2", "99.00"),
        ("X-2", "10.00"),
    ];
    let lacks: [(&str, Option<&str>, bool); 5] = [
        ("no token", None, false),
        ("a forged token", Some(&forged), false),
        ("an expired token", Some(&expired), false),
        ("a valid token, no signature", Some(&t), false),
        ("a valid token, another order's signature", Some(&t), true),
    ];
    for (why, token, signed) in lacks {
        let mut beacons = Vec::new();
        let mut pixels = Vec::new();
        for (order, amount) in orders {
            let sig = signed.then(|| osig("Z-0", amount, "USD", "sale"));
            let mut body =
                json!({"order_id": order, "amount": amount, "currency": "USD", "kind": "sale"});
            let mut query =
                format!("/px.gif?order_id={order}&amount={amount}&currency=USD&kind=sale");
            if let Some(t) = token {
                body["token"] = json!(t);
                query += &format!("&token={t}");
            }
            if let Some(s) = &sig {
                body["osig"] = json!(s);
                query += &format!("&osig={s}");
            }
            beacons.push(shown(&server.post(
                "/v1/conversions",
                &[("Content-Type", "text/plain")],
                &body.to_string(),
            )));
            pixels.push(shown(&server.get(&query, &[])));
        }
        for (name, answers) in [("beacon", &beacons), ("pixel", &pixels)] {
            assert!(
                answers.iter().all(|a| *a == answers[0]),
                "{name}, {why}: {answers:#?}"
            );
            assert!(
                answers[0].0 >= 400 || name == "pixel",
                "{name}, {why}: refused"
            );
        }
        let result = pixels[0]
            .1
            .iter()
            .find(|(n, _)| n == "x-affiliate-result")
            .map(|(_, v)| v.clone());
        assert_ne!(result.as_deref(), Some("created"), "{why}");
        assert_ne!(result.as_deref(), Some("duplicate"), "{why}");
    }
    // Nothing changed.
    assert_eq!(server.api_get("/v1/conversions/X-9").status, 404);
    assert_eq!(
        server.api_get("/v1/conversions/X-1").json()["amount"],
        "49.90"
    );
}

/// The open campaign's beacon is no oracle: an order id recorded before (by the
/// merchant, in any campaign, or by another click) gets the very answer a new one gets,
/// and the recorded order does not change.
#[test]
fn an_open_campaigns_beacon_answers_the_same_for_recorded_and_new_order_ids() {
    let server = App::new(&config(""));
    let r = server.api_post(
        "/v1/conversions/manual",
        &json!({"order_id": "SHOP-1", "amount": "40.00", "currency": "EUR", "kind": "sale",
                "campaign": "skincare", "partner": "abc123"}),
    );
    assert_eq!(r.status, 201, "{}", r.body);
    let first = token_for(&server, "beauty", "abc123");
    assert_eq!(
        outcome(
            &server,
            &beacon("SHOP-2", "20.00", "USD", "sale", &first, None)
        )
        .1,
        "created"
    );
    let prober = token_for(&server, "beauty", "solo");
    let answer = |order: &str| {
        let r = server.post(
            "/v1/conversions",
            &[("Content-Type", "text/plain")],
            &beacon(order, "10.00", "USD", "sale", &prober, None),
        );
        let mut body = r.json();
        body["order_id"] = json!("*");
        (r.status, body, r.header("content-type").map(str::to_owned))
    };
    let new = answer("SHOP-NEW");
    assert_eq!(new.0, 201);
    assert_eq!(
        answer("SHOP-1"),
        new,
        "a merchant's order of another campaign"
    );
    assert_eq!(answer("SHOP-2"), new, "another click's order");
    // Nothing changed, and the withheld reports are not conversions.
    let shop1 = server.api_get("/v1/conversions/SHOP-1").json();
    assert_eq!(
        (shop1["partner"].as_str(), shop1["amount"].as_str()),
        (Some("abc123"), Some("40.00"))
    );
    let shop2 = server.api_get("/v1/conversions/SHOP-2").json();
    assert_eq!(
        (shop2["partner"].as_str(), shop2["amount"].as_str()),
        (Some("abc123"), Some("20.00"))
    );
    let pixel = |order: &str| {
        server
            .get(
                &format!("/px.gif?order_id={order}&amount=10.00&currency=USD&token={prober}"),
                &[],
            )
            .header("x-affiliate-result")
            .map(str::to_owned)
    };
    assert_eq!(pixel("SHOP-1"), pixel("SHOP-NEW-2"));
}
