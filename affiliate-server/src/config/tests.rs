//! The config parser's unit tests.

use super::*;

fn parse(text: &str) -> Result<Config, ConfigError> {
    Config::parse(Path::new("/etc/aff.toml"), text)
}

fn demo() -> String {
    demo_toml("127.0.0.1:8080".parse().unwrap()).unwrap()
}

#[test]
fn demo_config_loads() {
    let c = parse(&demo()).unwrap();
    assert_eq!(c.public_url, "http://127.0.0.1:8080");
    assert_eq!(c.data_dir, Path::new("/etc"));
    let t = c
        .tracker(Arc::new(affiliate_sdk::MemoryStore::new()))
        .unwrap();
    assert_eq!(
        t.partner("abc123").unwrap().parent.unwrap().as_str(),
        "boss1"
    );
}

#[test]
fn errors_name_file_and_field() {
    let cases = [
        (
            "listen = \"127.0.0.1:8080\"",
            "listen = \"nowhere\"",
            "server.listen",
        ),
        (
            "\"http://127.0.0.1:8080\"",
            "\"ftp://x\"",
            "server.public_url",
        ),
        (
            "cookie_domain = \"\"",
            "cookie_domain = \"a b\"",
            "server.cookie_domain",
        ),
        (
            "allowed_origins = []",
            "allowed_origins = [\"https://a.example/path\"]",
            "server.allowed_origins[0]",
        ),
        ("current = \"k1\"", "current = \"k9\"", "keys"),
        (
            "current = \"k1\"\nk1 = \"",
            "current = \"k1\"\nk1 = \"!",
            "keys.k1",
        ),
        ("cookie_days = 28", "cookie_days = 28\nbogus = 1", "bogus"),
        (
            "sale_percent = \"10\"",
            "sale_percent = \"ten\"",
            "campaign[0] (\"haircare\")",
        ),
        (
            "parent = \"boss1\"",
            "parent = \"nobody\"",
            "partner[1] (\"abc123\")",
        ),
    ];
    for (from, to, field) in cases {
        let text = demo().replacen(from, to, 1);
        assert_ne!(text, demo(), "{from}");
        let e = match parse(&text) {
            Ok(_) => panic!("{to} was accepted"),
            Err(e) => e.to_string(),
        };
        assert!(e.starts_with("/etc/aff.toml: "), "{e}");
        assert!(e.contains(field), "{field} not in {e}");
    }
}

#[test]
fn the_store_ca_file_is_read_and_must_hold_a_certificate() {
    let dir = tempfile::tempdir().unwrap();
    let store = |ca: &str| {
        format!(
            "{}\n[store]\nurl = \"postgres://u:secret@db.example/aff?sslmode=require\"\nca_file = \"{ca}\"\n",
            demo()
        )
    };
    let plain = store("ca.pem").replace("?sslmode=require", "");
    let e = Config::parse(&dir.path().join("aff.toml"), &plain).unwrap_err();
    assert!(e.to_string().contains("sslmode=require"), "{e}");

    let missing = Config::parse(&dir.path().join("aff.toml"), &store("ca.pem")).unwrap_err();
    assert!(missing.to_string().contains("store.ca_file"), "{missing}");
    assert!(missing.to_string().contains("ca.pem"), "{missing}");

    std::fs::write(dir.path().join("ca.pem"), "not a certificate").unwrap();
    let not_pem = Config::parse(&dir.path().join("aff.toml"), &store("ca.pem")).unwrap_err();
    assert!(
        not_pem.to_string().contains("no PEM certificate"),
        "{not_pem}"
    );

    let pem = "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n";
    std::fs::write(dir.path().join("ca.pem"), pem).unwrap();
    // Relative to the config file, like data_dir.
    let c = Config::parse(&dir.path().join("aff.toml"), &store("ca.pem")).unwrap();
    assert_eq!(c.store_ca.as_deref(), Some(pem));
    assert!(!format!("{c:?}").contains("secret"));
}

#[test]
fn api_keys_are_checked_and_never_shown() {
    let text = demo();
    let key = text
        .split("api_keys = [\"")
        .nth(1)
        .unwrap()
        .split('"')
        .next()
        .unwrap();
    let c = parse(&text).unwrap();
    assert!(!format!("{c:?}").contains(key));
    let e = parse(&text.replace(key, "change-me"))
        .unwrap_err()
        .to_string();
    assert!(e.contains("server.api_keys[0]"), "{e}");
    let e = parse(&text.replace(&format!("[\"{key}\"]"), "[]"))
        .unwrap_err()
        .to_string();
    assert!(e.contains("server.api_keys"), "{e}");
}

#[test]
fn open_redirect_destinations_are_refused() {
    for bad in [
        "javascript:alert(1)",
        "//evil.example/",
        "https://shop.example@evil.example/",
        "https:\\\\\\\\evil.example",
        "https://shop.example/\\r\\nSet-Cookie: x=1",
        "https://shop.example/\\tpath",
        "data:text/html,<script>alert(1)</script>",
        "/relative/path",
        "https://shop.example/\\nLocation: https://evil.example",
    ] {
        let text = demo().replacen(
            "destination = \"http://127.0.0.1:8080/demo/shop/haircare\"",
            &format!("destination = \"{bad}\""),
            1,
        );
        let e = parse(&text).map(|_| ()).unwrap_err().to_string();
        assert!(
            e.contains("campaign[0]") && e.contains("destination"),
            "{bad}: {e}"
        );
    }
}

#[test]
fn partners_may_come_in_any_order() {
    let text = demo().replace("[[partner]]\ncode = \"boss1\"\n\n", "")
        + "\n[[partner]]\ncode = \"boss1\"\n";
    parse(&text).unwrap();
    let cyclic = demo().replace("code = \"boss1\"", "code = \"boss1\"\nparent = \"abc123\"");
    let e = parse(&cyclic).unwrap_err().to_string();
    assert!(e.contains("partner["), "{e}");
}

#[test]
fn an_events_proxy_is_checked_and_its_credentials_never_shown() {
    let with = |proxy: &str| format!("{}\n[events]\nproxy = \"{proxy}\"\n", demo());
    let c = parse(&with("http://ops:s3cret@proxy.internal:3128")).unwrap();
    assert!(c.events.proxy().unwrap().is_some());
    assert!(!format!("{c:?}").contains("s3cret"));
    assert!(parse(&demo()).unwrap().events.proxy().unwrap().is_none());
    for bad in [
        "socks5://ops:s3cret@p:1080",
        "ops:s3cret@proxy.internal",
        "http://p:1/x",
    ] {
        let e = parse(&with(bad)).unwrap_err().to_string();
        assert!(e.contains("events.proxy"), "{e}");
        assert!(!e.contains("s3cret"), "{e}");
    }
}
