//! The command line and the process: config errors, restarts, signals, keygen, ports.

use super::*;

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
fn the_program_made_through_the_api_survives_a_restart() {
    let server = Server::start(&config(""));
    let spring = json!({"code": "spring", "destination": "https://shop.example/spring",
        "currency": "USD", "sale_percent": "12", "status": "paused"});
    assert_eq!(server.api_post("/v1/campaigns", &spring).status, 201);
    let ann = json!({"code": "ann", "parent": "boss1", "name": "Ann"});
    assert_eq!(server.api_post("/v1/partners", &ann).status, 201);
    let r = server.api_post("/v1/partners/ann/coupons", &json!({"code": "ANN5"}));
    assert_eq!(r.status, 201);
    let r = server.send(
        "PATCH",
        "/v1/partners/ann",
        &[AUTH],
        r#"{"status":"suspended"}"#,
    );
    assert_eq!(r.status, 200);
    let before = (
        server.api_get("/v1/campaigns").body,
        server.api_get("/v1/partners").body,
    );
    let server = server.restart("TERM");
    let after = (
        server.api_get("/v1/campaigns").body,
        server.api_get("/v1/partners").body,
    );
    assert_eq!(after, before);
    assert!(after.1.contains(r#""code":"ann""#) && after.1.contains("ANN5"));
    // Still suspended and still paused: the click lands uncredited.
    let r = server.send(
        "PATCH",
        "/v1/partners/ann",
        &[AUTH],
        r#"{"status":"active"}"#,
    );
    assert_eq!(r.status, 200);
    let (token, r) = server.click(&link("spring", "ann", None, None), None);
    assert_eq!(
        (token, r.header("location")),
        (None, Some("https://shop.example/spring"))
    );
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

/// `affiliate-server portal-link` prints a sign-in link the running server accepts
/// once, for a partner the server knows (made through the API, not in the file).
#[test]
fn portal_link_signs_a_partner_in_once() {
    let server = Server::start(&config(""));
    assert_eq!(
        server
            .api_post("/v1/partners", &json!({"code": "newbie"}))
            .status,
        201
    );
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("same.toml");
    std::fs::write(&file, config("")).unwrap();
    let file = file.to_str().unwrap();
    let (ok, out, err) = run(
        &[
            "portal-link",
            "--config",
            file,
            "--partner",
            "newbie",
            "--ttl",
            "120",
        ],
        None,
    );
    assert!(ok, "{err}");
    let url = out.trim();
    assert!(
        url.starts_with("http://t.shop.example/portal/login?t=pl1.newbie."),
        "{url}"
    );
    let first = server.get(&path_of(url), &[]);
    assert_eq!(
        (first.status, first.header("location")),
        (303, Some("/portal"))
    );
    let cookie = first.header("set-cookie").unwrap();
    assert!(
        cookie.contains("HttpOnly") && cookie.contains("SameSite=Strict"),
        "{cookie}"
    );
    let session = cookie.split(';').next().unwrap();
    assert_eq!(
        server.get("/v1/partner/me", &[("Cookie", session)]).json()["code"],
        "newbie"
    );
    let again = server.get(&path_of(url), &[]);
    assert_eq!(again.header("location"), Some("/portal?error=forbidden"));
    for bad in [
        vec!["portal-link", "--config", file, "--partner", "a b"],
        vec![
            "portal-link",
            "--config",
            file,
            "--partner",
            "x",
            "--ttl",
            "0",
        ],
        vec![
            "portal-link",
            "--config",
            file,
            "--partner",
            "x",
            "--ttl",
            "999999999",
        ],
    ] {
        let (ok, _, err) = run(&bad, None);
        assert!(!ok && !err.is_empty(), "{bad:?}");
    }
}
