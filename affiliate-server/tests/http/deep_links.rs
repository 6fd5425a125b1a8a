//! Deep links: `to=` lands on the target only when its host, as the URL standard parses
//! it, is one of the campaign's `deep_link_hosts`; everything else lands on the
//! destination. Held to the open-redirect payloads and to the WHATWG URL tests of
//! web-platform-tests (the copy the `url` crate ships, read from Cargo's registry).

use super::*;

const DESTINATION: &str = "https://shop.example/home";

/// The campaign `deep` (https): deep links to shop.example and any subdomain of
/// pay.example, and to the hosts the WPT data uses most; `deephttp` the same over http.
fn deep_config() -> String {
    let campaign = |code: &str, destination: &str| {
        format!(
            r#"
[[campaign]]
code = "{code}"
destination = "{destination}"
currency = "USD"
sale_percent = "10"
deep_link_hosts = ["shop.example", "*.pay.example", "example.com", "*.example.com", "127.0.0.1", "xn--fa-hia.example"]
"#
        )
    };
    config("") + &campaign("deep", DESTINATION) + &campaign("deephttp", "http://shop.example/home")
}

/// The test's own reading of the patterns above.
fn allowed(host: &str) -> bool {
    [
        "shop.example",
        "example.com",
        "127.0.0.1",
        "xn--fa-hia.example",
    ]
    .contains(&host)
        || [".pay.example", ".example.com"].iter().any(|s| {
            host.strip_suffix(s).is_some_and(|sub| {
                sub.split('.').all(|l| {
                    !l.is_empty()
                        && l.bytes().all(|b| {
                            b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-' || b == b'_'
                        })
                })
            })
        })
}

fn deep_link(to: &str) -> String {
    deep_link_in("deep", to)
}

fn deep_link_in(campaign: &str, to: &str) -> String {
    let to: String = url::form_urlencoded::byte_serialize(to.as_bytes()).collect();
    format!("{}&to={to}", link(campaign, "abc123", None, None))
}

/// Where a browser goes: `Location` resolved against the request URL.
fn landed(link_path: &str, r: &common::Resp) -> url::Url {
    assert_eq!(r.status, 302, "{link_path}: {}", r.body);
    let request = url::Url::parse(&format!("http://t.shop.example{link_path}")).unwrap();
    let location = r.header("location").expect("a Location header");
    request
        .join(location)
        .unwrap_or_else(|e| panic!("{location}: {e}"))
}

/// The host a browser lands on is the destination's or an allowed one, over http(s),
/// with no credentials.
fn assert_safe(what: &str, at: &url::Url) {
    let host = at.host_str().unwrap_or("");
    assert!(
        host == "shop.example" || allowed(host),
        "{what:?} landed on {at}"
    );
    assert!(matches!(at.scheme(), "http" | "https"), "{what:?}: {at}");
    assert!(
        at.username().is_empty() && at.password().is_none(),
        "{what:?}: {at}"
    );
}

fn on_destination(at: &url::Url) -> bool {
    at.as_str()
        .starts_with(&format!("{DESTINATION}?aff_token=v1."))
}

#[test]
fn allowed_deep_links_land_on_the_target_with_the_token() {
    let app = App::new(&deep_config());
    for (to, expect) in [
        (
            "https://shop.example/p/42?c=red#top",
            "https://shop.example/p/42?c=red&aff_token=",
        ),
        ("https://shop.example", "https://shop.example/?aff_token="),
        (
            "HTTPS://Shop.Example/Ü?q=a b",
            "https://shop.example/%C3%9C?q=a%20b&aff_token=",
        ),
        (
            "https://eu.pay.example:8443/cart",
            "https://eu.pay.example:8443/cart?aff_token=",
        ),
        // A stale token in the target is replaced, not doubled.
        (
            "https://shop.example/p?aff_token=old&x=1",
            "https://shop.example/p?x=1&aff_token=",
        ),
    ] {
        let path = deep_link(to);
        let r = app.get(&path, &[]);
        let at = landed(&path, &r);
        assert!(at.as_str().starts_with(expect), "{to}: {at}");
        let token = at
            .query_pairs()
            .find(|(k, _)| k == "aff_token")
            .map(|(_, v)| v.into_owned())
            .unwrap();
        assert!(token.starts_with("v1."), "{to}");
        assert!(r.header("set-cookie").unwrap().contains(&token), "{to}");
        if to.contains("#top") {
            assert_eq!(at.fragment(), Some("top"));
        }
        // HEAD says where, issuing nothing; a bot lands there without a token.
        let head = app.head(&path, &[]);
        assert_eq!(
            head.header("location"),
            Some(url::Url::parse(to).unwrap().as_str()),
            "{to}"
        );
        let bot = app.get(&path, &[("User-Agent", "Slackbot 1.0")]);
        let bot_at = landed(&path, &bot);
        assert_eq!(bot_at.host_str(), at.host_str(), "{to}");
        assert!(!bot_at.as_str().contains("aff_token=v1."), "{to}");
    }
    // The conversion of a deep-linked click is attributed like any other.
    let path = deep_link("https://shop.example/p/42");
    let (token, _) = app.click(&path, None);
    let r = app.api_post(
        "/v1/postback",
        &json!({"order_id": "DEEP-1", "amount": "100.00", "currency": "USD", "token": token.unwrap()}),
    );
    assert_eq!(r.status, 201, "{}", r.body);
    assert_eq!(r.json()["partner"], "abc123");
}

/// Known open-redirect payloads (backslashes, `//evil`, `/\evil`, `https:evil`,
/// userinfo, tabs and newlines in the scheme, percent-encoded dots and slashes, IDN
/// look-alikes, trailing dots, ports, `javascript:`, `data:`): each lands on the
/// destination, as a person and as a bot, and `HEAD` says so too.
#[test]
fn open_redirect_payloads_land_on_the_destination() {
    let app = App::new(&deep_config());
    let payloads = [
        // An allowed host in clear: the campaign is https, so is every landing.
        "http://shop.example/p/42",
        "http://eu.pay.example:8080/cart",
        "//evil.example",
        "//evil.example/%2e%2e",
        "///evil.example",
        "////evil.example",
        "/\\evil.example",
        "\\\\evil.example",
        "/%5Cevil.example",
        "/%2F%2Fevil.example",
        "https:evil.example",
        "https:/evil.example",
        "https:\\\\evil.example",
        "https:/\\evil.example",
        "http:evil.example",
        "https://shop.example@evil.example",
        "https://shop.example:443@evil.example",
        "https://shop.example%40evil.example",
        "https://evil.example\\@shop.example",
        "https://evil.example#@shop.example",
        "https://evil.example?@shop.example",
        "https://evil.example/@shop.example",
        "https://evil.example%2f@shop.example",
        "https://evil.example%23@shop.example",
        "https://user:pass@shop.example/",
        "https://:@shop.example.evil.example",
        "ht\ttps://evil.example",
        "h\nttps://evil.example",
        "https://evil\t.example",
        "https://shop.example\t.evil.example",
        "https://sh\nop.example.evil.example",
        "\thttps://evil.example",
        "https://shop.example.evil.example",
        "https://evilshop.example",
        "https://shop.examplee",
        "https://shop%2eexample.evil.example",
        "https://evil%2eexample",
        "https://%65vil.example",
        "https://evil.example%2f.shop.example",
        "https://evil.example/.shop.example",
        "https://evil。example",
        "https://shop.example.",
        "https://shop.example..",
        "https://pay.example.",
        "https://x.pay.example.",
        "https://shоp.example",
        "https://ѕһор.example",
        "https://xn--shop-l0a.example",
        "https://shop.example:99999",
        "https://shop.example:-1",
        "https://evil.example:443",
        "https://[::1]:443",
        "http://0x7f.2/",
        "http://2130706434/",
        "http://127.2/",
        "https://evil.example:80\\@shop.example",
        "javascript:alert(1)",
        "javascript://shop.example/%0aalert(1)",
        "java\tscript:alert(1)",
        " javascript:alert(1)",
        "JaVaScRiPt:alert(1)",
        "data:text/html,<script>alert(1)</script>",
        "data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==",
        "vbscript:msgbox(1)",
        "file:///etc/passwd",
        "ftp://shop.example/",
        "ws://shop.example/",
        "blob:https://shop.example/uuid",
        "%68ttps://evil.example",
        "https%3A%2F%2Fevil.example",
        "evil.example",
        "/relative/path",
        "",
        "https://",
        "https://*.pay.example/",
        "https://shop.example\u{0}.evil.example",
        &format!("https://shop.example/{}", "a".repeat(3000)),
    ];
    for p in payloads {
        let path = deep_link(p);
        for ua in [BROWSER_UA, "Slackbot 1.0"] {
            let r = app.get(&path, &[("User-Agent", ua)]);
            let at = landed(&path, &r);
            assert_safe(p, &at);
            if ua == BROWSER_UA {
                assert!(on_destination(&at), "{p:?} landed on {at}");
            } else {
                assert_eq!(at.as_str(), DESTINATION, "{p:?}");
            }
        }
        let head = app.head(&path, &[]);
        assert_eq!(head.header("location"), Some(DESTINATION), "{p:?}");
    }
}

/// Every WPT URL test input as a deep-link target. With no base URL (as `to` is
/// parsed), the expected parse decides: an http(s) URL with an allowed host and no
/// credentials lands there, anything else on the destination. With a base, the
/// input still never lands on a host that is not allowed.
#[test]
fn wpt_url_tests_never_land_on_a_host_that_is_not_allowed() {
    let cases = wpt_cases();
    assert!(cases.len() > 700, "{} WPT cases", cases.len());
    let app = App::new(&deep_config());
    // The https campaign lands on https pages only; the http one on either.
    for (campaign, schemes) in [
        ("deep", &["https:"][..]),
        ("deephttp", &["http:", "https:"][..]),
    ] {
        let (mut deep, mut destination) = (0, 0);
        for case in &cases {
            let Some(input) = case["input"].as_str() else {
                continue;
            };
            let path = deep_link_in(campaign, input);
            let r = app.get(&path, &[]);
            let at = landed(&path, &r);
            assert_safe(input, &at);
            if campaign == "deep" {
                assert_eq!(
                    at.scheme(),
                    "https",
                    "{input:?}: the token in clear at {at}"
                );
            }
            let no_base = case["base"].is_null() || case["base"] == "about:blank";
            if !no_base {
                continue;
            }
            let field = |k: &str| case[k].as_str().unwrap_or("");
            let expect_deep = case["failure"] != true
                && schemes.contains(&field("protocol"))
                && field("username").is_empty()
                && field("password").is_empty()
                && allowed(field("hostname"));
            if expect_deep {
                deep += 1;
                assert_eq!(
                    at.scheme(),
                    field("protocol").trim_end_matches(':'),
                    "{input:?}"
                );
                assert_eq!(at.host_str(), Some(field("hostname")), "{input:?}");
                assert_eq!(
                    at.port().map(|p| p.to_string()).unwrap_or_default(),
                    field("port"),
                    "{input:?}"
                );
                assert_eq!(at.path(), field("pathname"), "{input:?}");
                assert!(
                    at.query_pairs()
                        .any(|(k, v)| k == "aff_token" && v.starts_with("v1.")),
                    "{input:?}: {at}"
                );
            } else {
                destination += 1;
                assert!(
                    at.host_str() == Some("shop.example") && at.path() == "/home",
                    "{input:?} landed on {at}"
                );
            }
        }
        println!(
            "WPT URL tests, campaign {campaign}: {} inputs; without a base: {deep} land on the allowed page, {destination} on the destination",
            cases.len()
        );
        let least = if campaign == "deep" { 4 } else { 30 };
        assert!(
            deep >= least && destination > 300,
            "{campaign}: {deep} deep, {destination} on the destination"
        );
    }
}

/// The WHATWG URL test data of web-platform-tests, as the `url` crate (a dependency of
/// this workspace, so already in Cargo's registry) ships it.
fn wpt_cases() -> Vec<Value> {
    let lock =
        std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../Cargo.lock")).unwrap();
    let version = lock
        .split("[[package]]")
        .find(|p| p.contains("\nname = \"url\"\n"))
        .and_then(|p| p.lines().find_map(|l| l.strip_prefix("version = ")))
        .map(|v| v.trim_matches('"').to_owned())
        .expect("the url crate in Cargo.lock");
    let home = std::env::var_os("CARGO_HOME")
        .map(std::path::PathBuf::from)
        .unwrap_or_else(|| std::path::PathBuf::from(std::env::var("HOME").unwrap()).join(".cargo"));
    let registry = home.join("registry").join("src");
    let file = std::fs::read_dir(&registry)
        .unwrap_or_else(|e| panic!("{}: {e}", registry.display()))
        .filter_map(Result::ok)
        .map(|d| {
            d.path()
                .join(format!("url-{version}/tests/urltestdata.json"))
        })
        .find(|p| p.exists())
        .unwrap_or_else(|| {
            panic!(
                "url-{version}/tests/urltestdata.json under {}",
                registry.display()
            )
        });
    let all: Vec<Value> = serde_json::from_str(&std::fs::read_to_string(file).unwrap()).unwrap();
    all.into_iter().filter(Value::is_object).collect()
}

#[test]
fn link_builders_make_deep_links_only_to_allowed_hosts() {
    let app = App::new(&deep_config());
    let r = app.api_post(
        "/v1/links",
        &json!({"campaign": "deep", "partner": "abc123", "sid": "kw", "to": "https://shop.example/p/7?c=1"}),
    );
    assert_eq!(r.status, 200, "{}", r.body);
    let url = r.json()["url"].as_str().unwrap().to_owned();
    assert!(
        url.ends_with("&sid=kw&to=https%3A%2F%2Fshop.example%2Fp%2F7%3Fc%3D1"),
        "{url}"
    );
    let path = path_of(&url);
    let at = landed(&path, &app.get(&path, &[]));
    assert!(
        at.as_str()
            .starts_with("https://shop.example/p/7?c=1&aff_token=v1."),
        "{at}"
    );

    for (to, code) in [
        ("https://evil.example/", "malformed"),
        ("https://shop.example@evil.example/", "malformed"),
        ("javascript:alert(1)", "malformed"),
        ("//shop.example/", "malformed"),
    ] {
        let r = app.api_post(
            "/v1/links",
            &json!({"campaign": "deep", "partner": "abc123", "to": to}),
        );
        assert_eq!(
            (r.status, r.code()),
            (400, code.to_owned()),
            "{to}: {}",
            r.body
        );
        assert!(
            r.json()["error"]["message"]
                .as_str()
                .unwrap()
                .contains("to"),
            "{}",
            r.body
        );
    }
    // A campaign without deep_link_hosts takes no deep link at all.
    let r = app.api_post(
        "/v1/links",
        &json!({"campaign": "haircare", "partner": "abc123", "to": "https://shop.example/x"}),
    );
    assert_eq!(r.status, 400, "{}", r.body);

    // The partner API: the partner's own deep links.
    let key = app.api_post("/v1/partners/abc123/keys", &json!({})).json()["key"]
        .as_str()
        .unwrap()
        .to_owned();
    let auth = format!("Bearer {key}");
    let r = app.post(
        "/v1/partner/links",
        &[
            ("Authorization", &auth),
            ("Content-Type", "application/json"),
        ],
        &json!({"campaign": "deep", "to": "https://eu.pay.example/c"}).to_string(),
    );
    assert_eq!(r.status, 200, "{}", r.body);
    assert!(
        r.json()["url"]
            .as_str()
            .unwrap()
            .contains("/deep/abc123?sig=")
    );
    let r = app.post(
        "/v1/partner/links",
        &[
            ("Authorization", &auth),
            ("Content-Type", "application/json"),
        ],
        &json!({"campaign": "deep", "to": "https://evil.example/"}).to_string(),
    );
    assert_eq!(r.status, 400, "{}", r.body);
}
