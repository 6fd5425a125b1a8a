//! Signed links: round trips, single-character tampering, rotation, malformed input.

mod common;

use affiliate_sdk::{Error, Key, Keyring, Link, LinkSigner};
use common::{link, single_char_mutations, vector_keyring};
use proptest::prelude::*;

const BASE: &str = "https://t.shop.example/go";

fn signer() -> LinkSigner {
    LinkSigner::new(vector_keyring(), BASE).unwrap()
}

/// What a WHATWG parser makes of a link URL (the `url` crate, then `form_urlencoded`
/// for the query): the codes of the path after the base, the first `sig` (none when
/// repeated), the first valid `sid`.
fn reference(s: &LinkSigner, input: &str) -> Option<Link> {
    let url = url::Url::parse(input).ok()?;
    let rest = url.path().strip_prefix("/go/")?;
    let mut parts = rest.split('/');
    let (campaign, partner, ad) = (parts.next()?, parts.next()?, parts.next());
    if parts.next().is_some() {
        return None;
    }
    let pairs: Vec<(String, String)> = url.query_pairs().into_owned().collect();
    let sigs: Vec<&String> = pairs
        .iter()
        .filter(|(n, _)| n == "sig")
        .map(|(_, v)| v)
        .collect();
    let [sig] = sigs.as_slice() else { return None };
    let mut link = s.verify_parts(campaign, partner, ad, sig).ok()?;
    link.sid = pairs
        .iter()
        .filter(|(n, _)| n == "sid")
        .find_map(|(_, v)| affiliate_sdk::Sid::new(v).ok());
    Some(link)
}

/// A query parameter: a name (sometimes `sig`, `sid` or an encoding of them) and a
/// value of any characters but tab, newline and carriage return (which a request line
/// cannot carry and a URL parser drops).
fn param() -> impl Strategy<Value = String> {
    let name = prop_oneof![
        Just("sid".to_string()),
        Just("s%69d".to_string()),
        Just("sig".to_string()),
        Just("utm_source".to_string()),
        "[a-z_]{0,6}",
        "[^\\t\\n\\r#&=]{0,8}",
    ];
    let value = prop_oneof![
        "[A-Za-z0-9._~-]{0,70}",
        "[A-Za-z0-9._~%+-]{0,20}",
        "[^\\t\\n\\r#&]{0,20}",
    ];
    (name, proptest::option::of(value)).prop_map(|(n, v)| match v {
        Some(v) => format!("{n}={v}"),
        None => n,
    })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(1000))]

    /// The link splitter agrees with a WHATWG parse (the `url` crate plus
    /// `form_urlencoded`) on random URLs: the same campaign, partner, ad, sig and sid,
    /// or both refuse.
    #[test]
    fn the_splitter_agrees_with_the_url_crate(
        link in link(),
        tamper_path in proptest::option::of("[A-Za-z0-9_%:@!$'()*+,;=~-]{1,6}"),
        before in proptest::collection::vec(param(), 0..4),
        after in proptest::collection::vec(param(), 0..4),
        keep_sig in any::<bool>(),
        fragment in proptest::option::of("[^\\t\\n\\r]{0,10}"),
    ) {
        let s = signer();
        let built = s.build_link(&link);
        let (path, query) = built.split_once('?').unwrap();
        let path = match &tamper_path {
            Some(t) => format!("{path}{t}"),
            None => path.to_owned(),
        };
        let mut params: Vec<String> = before;
        if keep_sig {
            params.extend(query.split('&').map(str::to_owned));
        }
        params.extend(after);
        // A URL parser strips trailing spaces and controls from its input: end with a
        // plain parameter so both read the same last value.
        params.push("z=1".into());
        let mut url = format!("{path}?{}", params.join("&"));
        if let Some(f) = fragment {
            url = format!("{url}#{f}");
        }
        let ours = s.verify_click(&url).ok().map(|c| c.link);
        prop_assert_eq!(ours, reference(&s, &url), "{}", url);
    }

    /// build → verify gives back the same fields, with and without extra parameters.
    #[test]
    fn build_then_verify_round_trips(link in link(), utm in "[a-z]{1,8}") {
        let s = signer();
        let url = s.build_link(&link);
        prop_assert_eq!(s.verify(&url)?, link);
        prop_assert_eq!(s.verify(&format!("{url}&utm_source={utm}"))?, link);
        let path_only = &url[BASE.len() - 3..];
        prop_assert_eq!(s.verify(path_only)?, link);
        // verify_parts on the router's view agrees.
        let sig = s.sign(&link);
        let got = s.verify_parts(
            link.campaign.as_str(),
            link.partner.as_str(),
            link.ad.as_ref().map(|a| a.as_str()),
            &sig,
        )?;
        prop_assert_eq!(got, Link { sid: None, ..link });
    }

    /// Every single-character change anywhere in the signed part of a link — the path
    /// after the base and the `sig` parameter — to any printable character is refused.
    #[test]
    fn any_single_character_change_in_the_signed_part_is_refused(link in link()) {
        let s = signer();
        let url = s.build_link(&Link { sid: None, ..link });
        let mut tried = 0;
        for (i, c, mutated) in single_char_mutations(&url, BASE.len()..url.len()) {
            tried += 1;
            prop_assert!(
                s.verify(&mutated).is_err(),
                "accepted {:?} (position {}, {:?})", mutated, i, c
            );
        }
        prop_assert!(tried > 20 * 90);
    }
}

#[test]
fn sid_and_unrelated_parameters_are_not_signed() {
    let s = signer();
    let url = s
        .build("haircare", "abc123", Some("website2"), None)
        .unwrap();
    for extra in [
        "&sid=kw1",
        "&utm_source=x&sid=kw1",
        "&sid=kw1&gclid=abc",
        "&sid=k%77%31",
    ] {
        let link = s.verify(&format!("{url}{extra}")).unwrap();
        assert_eq!(link.sid.unwrap().as_str(), "kw1", "{extra}");
    }
    // A URL fragment is not part of the link.
    assert!(s.verify(&format!("{url}#top")).is_ok());
}

#[test]
fn a_bad_sid_fails_strict_verification_but_not_a_click() {
    let s = signer();
    let url = s.build("haircare", "abc123", None, None).unwrap();
    for bad in [
        "a%20b",
        "x%0D%0ASet-Cookie:%20evil=1",
        "",
        &"s".repeat(65),
        "a/b",
        "%FF",
    ] {
        let with_sid = format!("{url}&sid={bad}");
        let err = s.verify(&with_sid).unwrap_err();
        assert_eq!(err.code(), "malformed", "{bad}");
        let click = s.verify_click(&with_sid).unwrap();
        assert_eq!(click.link.sid, None);
        assert!(matches!(
            click.dropped_sid,
            Some(Error::Malformed { field: "sid", .. })
        ));
        assert_eq!(click.link.partner.as_str(), "abc123");
    }
    // A repeated sid keeps the first valid one; it never fails the link.
    for (query, kept) in [
        ("&sid=a&sid=b", "a"),
        ("&sid=a%20b&sid=ok", "ok"),
        ("&sid=&sid=x.1&sid=y", "x.1"),
    ] {
        let url = format!("{url}{query}");
        assert_eq!(
            s.verify_click(&url).unwrap().link.sid.unwrap().as_str(),
            kept,
            "{query}"
        );
        assert_eq!(
            s.verify(&url).unwrap().sid.unwrap().as_str(),
            kept,
            "{query}"
        );
    }
}

#[test]
fn only_the_signed_part_can_fail_a_link() {
    let s = signer();
    let url = s
        .build("haircare", "abc123", Some("website2"), None)
        .unwrap();
    // Odd bytes in unsigned parameters, a long ad-network click id: the link verifies.
    for extra in [
        "&q=a\\b".to_string(),
        "&q=caf\u{e9}&r=\u{1F600}".to_string(),
        "&x=\t\r\n%00".to_string(),
        format!("&gclid={}", "C".repeat(6000)),
        "&&=&sig_x=1&SIG=2".to_string(),
    ] {
        let with = format!("{url}{extra}");
        let link = s
            .verify_click(&with)
            .unwrap_or_else(|e| panic!("{extra:?}: {e}"));
        assert_eq!(link.link.partner.as_str(), "abc123");
        assert_eq!(s.verify(&with).unwrap().ad.unwrap().as_str(), "website2");
    }
    // The signed part still fails: odd bytes in the path, a second sig, an over-long
    // URL.
    for bad in [
        url.replace("/abc123/", "/abc\\123/"),
        url.replace("/abc123/", "/abc\u{e9}123/"),
        format!("{url}&sig=k1.AAAAAAAAAAAAAAAAAAAAAA"),
        format!("{url}&pad={}", "p".repeat(affiliate_sdk::MAX_URL_LEN)),
    ] {
        assert!(s.verify_click(&bad).is_err(), "{bad:.80}");
    }
}

#[test]
fn codes_are_validated_exactly_never_truncated() {
    let s = signer();
    let long = "c".repeat(65);
    for (campaign, partner, ad) in [
        ("", "p", None),
        ("c", "", None),
        ("c", "p", Some("")),
        (long.as_str(), "p", None),
        ("hair care", "p", None),
        ("c", "p/q", None),
        ("c", "p", Some("a.b")),
        ("c", "ü", None),
        ("c\r\nX: y", "p", None),
    ] {
        let err = s.build(campaign, partner, ad, None).unwrap_err();
        assert_eq!(err.code(), "malformed", "{campaign:?} {partner:?} {ad:?}");
    }
    let max = "c".repeat(64);
    assert!(
        s.build(&max, &max, Some(&max), Some(&"s".repeat(64)))
            .is_ok()
    );
    assert!(s.build("c", "p", None, Some("a b")).is_err());
}

#[test]
fn codes_are_case_sensitive() {
    let s = signer();
    let url = s.build("Haircare", "abc123", None, None).unwrap();
    let lower = url.replace("Haircare", "haircare");
    assert_eq!(s.verify(&lower).unwrap_err(), Error::InvalidSignature);
}

#[test]
fn canonical_encoding_is_unambiguous() {
    let s = signer();
    let pairs = [
        (("ab", "c", None), ("a", "bc", None)),
        (("a", "b", Some("c")), ("a", "bc", None)),
        (("a", "b-c", None), ("a-b", "c", None)),
    ];
    for ((c1, p1, a1), (c2, p2, a2)) in pairs {
        let one = Link::parse(c1, p1, a1, None).unwrap();
        let two = Link::parse(c2, p2, a2, None).unwrap();
        let sig1 = s.sign(&one);
        assert_ne!(sig1, s.sign(&two));
        assert_eq!(
            s.verify_parts(c2, p2, a2, &sig1).unwrap_err(),
            Error::InvalidSignature
        );
    }
}

#[test]
fn rotation_old_links_verify_until_their_key_is_removed() {
    let mut ring = Keyring::new("old", Key::generate().unwrap()).unwrap();
    let old_link = LinkSigner::new(ring.clone(), BASE)
        .unwrap()
        .build("c", "p", None, None)
        .unwrap();
    ring.insert("new", Key::generate().unwrap()).unwrap();
    ring.set_current("new").unwrap();
    let s = LinkSigner::new(ring.clone(), BASE).unwrap();
    let new_link = s.build("c", "p", None, None).unwrap();
    assert!(new_link.contains("sig=new."));
    assert!(s.verify(&old_link).is_ok());
    assert!(s.verify(&new_link).is_ok());

    assert!(ring.remove("old"));
    let s = LinkSigner::new(ring, BASE).unwrap();
    assert_eq!(s.verify(&old_link).unwrap_err(), Error::InvalidSignature);
    assert!(s.verify(&new_link).is_ok());
}

#[test]
fn another_keyring_with_the_same_kid_does_not_verify() {
    let a = LinkSigner::new(Keyring::generate().unwrap(), BASE).unwrap();
    let b = LinkSigner::new(Keyring::generate().unwrap(), BASE).unwrap();
    let url = a.build("c", "p", None, None).unwrap();
    assert_eq!(b.verify(&url).unwrap_err(), Error::InvalidSignature);
}

#[test]
fn malformed_links_are_refused_with_a_typed_error() {
    let s = signer();
    let good = s.build("c", "p", None, None).unwrap();
    let sig = good.split("sig=").nth(1).unwrap();
    let cases = [
        String::new(),
        "not a url".into(),
        "https://t.shop.example/go".into(),
        "https://t.shop.example/go/c".into(),
        format!("https://t.shop.example/go/c?sig={sig}"),
        format!("https://t.shop.example/go/c/p/a/b?sig={sig}"),
        format!("https://t.shop.example/go/c/p/?sig={sig}"),
        format!("https://t.shop.example/c/p?sig={sig}"),
        "https://t.shop.example/go/c/p?sig=".into(),
        "https://t.shop.example/go/c/p?sig=k1".into(),
        "https://t.shop.example/go/c/p?sig=k1.".into(),
        "https://t.shop.example/go/c/p?sig=.AAAAAAAAAAAAAAAAAAAAAA".into(),
        format!("{good}&sig={sig}"),
        format!("https://t.shop.example/go/c/p?sig={}", "A".repeat(5000)),
        format!("https://t.shop.example/go/c%2Fp?sig={sig}"),
    ];
    for url in cases {
        let err = s.verify(&url).unwrap_err();
        assert!(
            matches!(err.code(), "malformed" | "invalid_signature"),
            "{url}: {err}"
        );
        assert!(!err.to_string().contains(sig), "error leaks the signature");
    }
}

#[test]
fn base_url_is_validated() {
    let ring = vector_keyring();
    for bad in [
        "",
        "t.shop.example/go",
        "ftp://h/go",
        "https://h/go?x=1",
        "https://h/go#f",
        "https://u:p@h/go",
    ] {
        assert_eq!(
            LinkSigner::new(ring.clone(), bad).unwrap_err().code(),
            "malformed",
            "{bad}"
        );
    }
    let s = LinkSigner::new(ring.clone(), "https://t.shop.example/go/").unwrap();
    assert_eq!(s.base_url(), "https://t.shop.example/go");
    let root = LinkSigner::new(ring, "https://t.shop.example").unwrap();
    let url = root.build("c", "p", None, None).unwrap();
    assert!(url.starts_with("https://t.shop.example/c/p?sig="));
    assert!(root.verify(&url).is_ok());
}

/// The checked constructor (the JS package's, fed by the engine's `URL().href`) gives
/// the same signer as the parsing one for every normalized base, and refuses what is
/// not normalized instead of guessing.
#[test]
fn a_normalized_base_url_gives_the_same_signer_as_a_parsed_one() {
    let ring = vector_keyring();
    for input in [
        "https://t.shop.example/go",
        "HTTPS://T.Shop.Example/go/",
        "http://127.0.0.1:8080",
        "http://[::1]:8080/a/b/",
        "https://xn--bcher-kva.example/go",
        "https://bücher.example/go",
        "https://t.example/%C3%A9/go",
    ] {
        let parsed = LinkSigner::new(ring.clone(), input).unwrap();
        let href = url::Url::parse(input).unwrap().to_string();
        let checked = LinkSigner::with_normalized_base_url(ring.clone(), &href).unwrap();
        assert_eq!(checked.base_url(), parsed.base_url(), "{input}");
        let link = parsed.build("c", "p", Some("a"), Some("s")).unwrap();
        assert_eq!(checked.build("c", "p", Some("a"), Some("s")).unwrap(), link);
        assert_eq!(
            checked.verify(&link).unwrap(),
            parsed.verify(&link).unwrap()
        );
    }
    for bad in [
        "",
        "https://",
        "HTTPS://t.example/go",
        "https://T.example/go",
        "ftp://h/go",
        "https://h/go?x=1",
        "https://h/go#f",
        "https://u:p@h/go",
        "https://h/g o",
        "https://h/g\\o",
        "https://bücher.example/go",
    ] {
        assert_eq!(
            LinkSigner::with_normalized_base_url(ring.clone(), bad)
                .unwrap_err()
                .code(),
            "malformed",
            "{bad:?}"
        );
    }
}
