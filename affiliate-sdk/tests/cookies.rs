//! The token cookie: Set-Cookie attributes and finding the token among other cookies.

mod common;

use affiliate_sdk::{CookieConfig, MAX_COOKIE_HEADER_LEN, parse_cookie_header};
use common::{claims, vector_keyring};
use proptest::prelude::*;

const TOKEN: &str =
    "v1.k1.1702592000.1700000000.AYvP5WgAejydLgEjRWeJqw.haircare.abc123...v1Af6m4lqecE8z0xRo2kiQ";

#[test]
fn set_cookie_has_the_documented_defaults() {
    let h = CookieConfig::new().set_cookie(TOKEN, 2_592_000).unwrap();
    assert_eq!(
        h,
        format!("aff_token={TOKEN}; HttpOnly; SameSite=Lax; Path=/; Max-Age=2592000")
    );
    let h = CookieConfig::new()
        .secure(true)
        .set_cookie(TOKEN, 60)
        .unwrap();
    assert!(h.contains("; Secure") && h.ends_with("Max-Age=60"));
    let h = CookieConfig::new()
        .name("ref")
        .unwrap()
        .set_cookie(TOKEN, 60)
        .unwrap();
    assert!(h.starts_with("ref=v1."));
}

#[test]
fn max_age_runs_to_the_token_expiry() {
    let cfg = CookieConfig::new();
    let h = cfg
        .set_cookie_until_expiry(TOKEN, 1_702_592_000 - 3_600)
        .unwrap();
    assert!(h.ends_with("Max-Age=3600"), "{h}");
    let h = cfg
        .set_cookie_until_expiry(TOKEN, 1_702_592_000 + 5)
        .unwrap();
    assert!(h.ends_with("Max-Age=0"), "{h}");
    let clear = cfg.clear_cookie();
    assert_eq!(
        clear,
        "aff_token=; HttpOnly; SameSite=Lax; Path=/; Max-Age=0"
    );
}

#[test]
fn nothing_can_be_injected_into_the_header() {
    let cfg = CookieConfig::new();
    for bad in [
        "x; Domain=evil.example",
        "v1.k1.2.1.AYvP5WgAejydLgEjRWeJqw.c.p...v1Af6m4lqecE8z0xRo2kiQ\r\nSet-Cookie: a=b",
        "v1.k1.2.1.AYvP5WgAejydLgEjRWeJqw.c.p p...v1Af6m4lqecE8z0xRo2kiQ",
        "",
    ] {
        assert_eq!(
            cfg.set_cookie(bad, 60).unwrap_err().code(),
            "malformed",
            "{bad:?}"
        );
    }
    let long = "a".repeat(300);
    for bad in [
        ".",
        "a..b",
        "shop.example; Secure",
        "-shop.example",
        "shop_example.com",
        "a\r\nb",
        &long,
    ] {
        assert_eq!(
            CookieConfig::new().domain(bad).unwrap_err().code(),
            "malformed",
            "{bad:?}"
        );
    }
    let long = "n".repeat(65);
    for bad in ["", "a=b", "a;b", "a b", &long] {
        assert_eq!(
            CookieConfig::new().name(bad).unwrap_err().code(),
            "malformed",
            "{bad:?}"
        );
    }
    assert!(CookieConfig::new().domain("").is_ok());
    assert!(CookieConfig::new().domain("shop.example").is_ok());
}

#[test]
fn oversized_headers_are_refused_and_oversized_values_ignored() {
    let at_limit = format!(
        "aff_token={TOKEN}; pad={}",
        "p".repeat(MAX_COOKIE_HEADER_LEN - TOKEN.len() - 16)
    );
    assert_eq!(at_limit.len(), MAX_COOKIE_HEADER_LEN);
    assert_eq!(
        parse_cookie_header(&at_limit, "aff_token").unwrap(),
        Some(TOKEN)
    );
    let over = format!("{at_limit}x");
    assert_eq!(
        parse_cookie_header(&over, "aff_token").unwrap_err().code(),
        "malformed"
    );
    let huge_value = format!("aff_token={}; aff_token={TOKEN}", "v".repeat(600));
    assert_eq!(
        parse_cookie_header(&huge_value, "aff_token").unwrap(),
        Some(TOKEN)
    );
}

#[test]
fn names_match_exactly() {
    for header in [
        format!("AFF_TOKEN={TOKEN}"),
        format!("aff_token2={TOKEN}"),
        format!("x-aff_token={TOKEN}"),
        format!("\"aff_token\"={TOKEN}"),
    ] {
        assert_eq!(
            parse_cookie_header(&header, "aff_token").unwrap(),
            None,
            "{header}"
        );
    }
    let spaced = format!("  aff_token = {TOKEN} ;theme=dark");
    assert_eq!(
        parse_cookie_header(&spaced, "aff_token").unwrap(),
        Some(TOKEN)
    );
}

proptest! {
    /// The token is found among arbitrary neighbours, malformed ones included, and a
    /// header without it finds nothing.
    #[test]
    fn token_found_among_arbitrary_neighbours(
        c in claims(),
        before in proptest::collection::vec("[ -:<-~]{0,30}", 0..6),
        after in proptest::collection::vec("[ -:<-~]{0,30}", 0..6),
    ) {
        let ring = vector_keyring();
        let token = ring.issue_token(&c)?;
        let neighbours = |v: &Vec<String>| -> Vec<String> {
            v.iter().filter(|s| !s.trim_start().starts_with("aff_token")).cloned().collect()
        };
        let mut parts = neighbours(&before);
        parts.push(format!("aff_token={token}"));
        parts.extend(neighbours(&after));
        let header = parts.join("; ");
        let found = parse_cookie_header(&header, "aff_token")?;
        prop_assert_eq!(found, Some(token.as_str()));
        prop_assert!(ring.verify_token(found.unwrap(), c.issued_at).is_ok());

        let without: Vec<String> = neighbours(&before).into_iter().chain(neighbours(&after)).collect();
        let without = without.join("; ");
        prop_assert_eq!(parse_cookie_header(&without, "aff_token")?, None);
    }

    /// No input makes the parser panic; it returns a value or a typed error.
    #[test]
    fn arbitrary_headers_never_panic(header in ".{0,300}") {
        let _ = parse_cookie_header(&header, "aff_token");
    }
}
