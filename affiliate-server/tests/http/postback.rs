//! `GET /v1/postback` for hosted carts that can only call a URL, with postback keys:
//! shown once, kept as digests, revocable, able to record conversions and nothing else.

use super::*;

fn enc(s: &str) -> String {
    url::form_urlencoded::byte_serialize(s.as_bytes()).collect()
}

fn get_postback(http: &impl Http, key: &str, rest: &str) -> common::Resp {
    http.get(&format!("/v1/postback?key={}&{rest}", enc(key)), &[])
}

#[test]
fn a_postback_key_records_conversions_by_get_and_nothing_else() {
    let server = Server::start(&config(""));
    let r = server.api_post("/v1/postback-keys", &json!({"label": "Hosted cart"}));
    assert_eq!(r.status, 201, "{}", r.body);
    assert_eq!(r.header("cache-control"), Some("no-store"));
    let created = r.json();
    let key = created["key"].as_str().unwrap().to_owned();
    let id = created["id"].as_str().unwrap().to_owned();
    assert!(
        key.starts_with("pbk_") && id.starts_with("pbkid_"),
        "{created}"
    );
    assert_eq!(created["label"], "Hosted cart");

    // Listed without the key or its digest.
    let listed = server.api_get("/v1/postback-keys");
    assert_eq!(listed.status, 200);
    assert_eq!(
        listed.json()["keys"],
        json!([{"id": id, "label": "Hosted cart", "created": created["created"]}])
    );
    assert!(!listed.body.contains(&key[4..]));

    // A click's token, then the cart's GET: 201 and the conversion, as POST answers.
    let (token, _) = server.click(&link("haircare", "abc123", None, Some("kw")), None);
    let token = token.unwrap();
    let query = format!(
        "order_id=CART-1&amount=80.00&currency=USD&kind=sale&token={}",
        enc(&token)
    );
    let r = get_postback(&server, &key, &query);
    assert_eq!(r.status, 201, "{}", r.body);
    assert_eq!(r.header("cache-control"), Some("no-store"));
    let c = r.json();
    assert_eq!(
        (&c["order_id"], &c["partner"], &c["amount"], &c["duplicate"]),
        (
            &json!("CART-1"),
            &json!("abc123"),
            &json!("80.00"),
            &json!(false)
        )
    );
    let posted = server.api_get("/v1/conversions/CART-1").json();
    assert_eq!(posted["commission"], c["commission"]);
    // A replay is 200 and the same record; other values under the order id conflict.
    let again = get_postback(&server, &key, &query);
    assert_eq!(
        (again.status, again.json()["duplicate"].clone()),
        (200, json!(true))
    );
    let r = get_postback(
        &server,
        &key,
        &format!(
            "order_id=CART-1&amount=99.00&currency=USD&token={}",
            enc(&token)
        ),
    );
    assert_eq!((r.status, r.code()), (409, "conflict".to_owned()));
    // By click id, and a lead.
    let click_id = keyring()
        .verify_token(&token, now())
        .unwrap()
        .click_id()
        .to_string();
    let r = get_postback(
        &server,
        &key,
        &format!("order_id=CART-2&amount=0&currency=USD&kind=lead&click_id={click_id}"),
    );
    assert_eq!(
        (r.status, r.json()["kind"].clone()),
        (201, json!("lead")),
        "{}",
        r.body
    );

    // Bad queries are 400 and record nothing.
    for (rest, what) in [
        (
            "order_id=X-1&amount=1&currency=USD&evil=1",
            "unknown parameter",
        ),
        (
            "order_id=X-1&order_id=X-2&amount=1&currency=USD",
            "more than once",
        ),
        ("amount=1&currency=USD", "order_id"),
        ("order_id=X-1&amount=1,5&currency=USD", "amount"),
    ] {
        let r = get_postback(&server, &key, rest);
        assert_eq!(
            (r.status, r.code()),
            (400, "malformed".to_owned()),
            "{rest}: {}",
            r.body
        );
        assert!(r.body.contains(what), "{rest}: {}", r.body);
    }
    assert_eq!(server.api_get("/v1/conversions/X-1").status, 404);

    // The postback key opens nothing else; a merchant key is no postback key.
    let bearer = format!("Bearer {key}");
    for (method, path) in [
        ("GET", "/v1/stats"),
        ("GET", "/v1/conversions"),
        ("GET", "/v1/conversions/CART-1"),
        ("GET", "/v1/postback-keys"),
        ("POST", "/v1/postback-keys"),
        ("POST", "/v1/postback"),
        ("POST", "/v1/conversions/CART-1/status"),
        ("GET", "/v1/partner/me"),
        ("DELETE", &format!("/v1/postback-keys/{id}")),
    ] {
        let r = server.send(method, path, &[("Authorization", &bearer)], "{}");
        assert_eq!(r.status, 401, "{method} {path}: {}", r.body);
    }
    for (k, why) in [
        (API_KEY, "a merchant key"),
        ("pbk_", "not a key"),
        (&format!("pbk_{}", "A".repeat(43)), "no such key"),
    ] {
        let r = get_postback(&server, k, "order_id=X-2&amount=1&currency=USD");
        assert_eq!(
            (r.status, r.code()),
            (401, "unauthorized".to_owned()),
            "{why}"
        );
    }
    let r = server.get("/v1/postback?order_id=X-2&amount=1&currency=USD", &[]);
    assert_eq!(r.status, 401);
    // Without a valid key a malformed query is unauthorized too: its rules are not shown.
    let r = get_postback(&server, "pbk_nope", "order_id=X-2&evil=1");
    assert_eq!(
        (r.status, r.code()),
        (401, "unauthorized".to_owned()),
        "{}",
        r.body
    );

    // Revoked: refused at once, across a restart too.
    let r = server.send("DELETE", &format!("/v1/postback-keys/{id}"), &[AUTH], "");
    assert_eq!(r.status, 204);
    let r = get_postback(&server, &key, "order_id=X-3&amount=1&currency=USD");
    assert_eq!(r.status, 401);
    let r = server.send("DELETE", &format!("/v1/postback-keys/{id}"), &[AUTH], "");
    assert_eq!(r.status, 404);
    assert_eq!(
        server.api_get("/v1/postback-keys").json()["keys"],
        json!([])
    );
    let server = server.restart("TERM");
    let r = get_postback(&server, &key, "order_id=X-3&amount=1&currency=USD");
    assert_eq!(r.status, 401);
    assert_eq!(server.api_get("/v1/conversions/X-3").status, 404);

    // The key never reaches the log, at debug level, used or refused.
    let log = server.log();
    assert!(log.contains("conversion by GET postback"), "{log}");
    assert!(!log.contains(&key[4..]), "the postback key is in the log");
}

#[test]
fn postback_key_labels_and_counts_are_checked() {
    let app = App::new(&config(""));
    let r = app.api_post("/v1/postback-keys", &json!({"label": "x".repeat(101)}));
    assert_eq!(r.status, 400, "{}", r.body);
    let r = app.api_post("/v1/postback-keys", &json!({"label": "a\u{7}b"}));
    assert_eq!(r.status, 400, "{}", r.body);
    let r = app.api_post("/v1/postback-keys", &json!({"name": "x"}));
    assert_eq!(r.status, 400, "{}", r.body);
    let r = app.post("/v1/postback-keys", &[AUTH], "");
    assert_eq!(r.status, 400, "an empty body is no JSON object: {}", r.body);
    for _ in 0..affiliate_sdk::MAX_POSTBACK_KEYS {
        assert_eq!(app.api_post("/v1/postback-keys", &json!({})).status, 201);
    }
    let r = app.api_post("/v1/postback-keys", &json!({}));
    assert_eq!(
        (r.status, r.code()),
        (409, "conflict".to_owned()),
        "{}",
        r.body
    );
    let r = app.send("DELETE", "/v1/postback-keys/pbkid_nope", &[AUTH], "");
    assert_eq!(r.status, 404);
}
