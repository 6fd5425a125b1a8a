//! Session tokens: round trips, sizes, single-character tampering, rotation, expiry,
//! skew, versions and malformed input.

mod common;

use affiliate_sdk::{
    ClaimsError, ClickId, Code, Error, Key, Keyring, Link, MAX_TOKEN_LEN, Sid, TokenClaims,
    TokenValidation, UntrustedToken,
};
use common::{claims, single_char_mutations, vector_keyring};
use proptest::prelude::*;

const T0: u64 = 1_700_000_000;
const DAY: u64 = 86_400;

fn sample(campaign: &str, partner: &str, ad: Option<&str>, sid: Option<&str>) -> TokenClaims {
    let link = Link::parse(campaign, partner, ad, sid).unwrap();
    TokenClaims::new(ClickId::from_bytes([0xab; 16]), link, T0, 30 * DAY)
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(1000))]

    /// issue → verify gives back the same claims; the expiry is readable without a key;
    /// the token needs no escaping in a URL or cookie.
    #[test]
    fn issue_then_verify_round_trips(c in claims()) {
        let ring = vector_keyring();
        let token = ring.issue_token(&c)?;
        prop_assert!(token.len() <= MAX_TOKEN_LEN);
        prop_assert!(token.bytes().all(|b| b.is_ascii_alphanumeric() || b"._~-".contains(&b)));
        prop_assert_eq!(UntrustedToken::parse(&token)?.expires_at(), c.expires_at);
        let v = ring.verify_token(&token, c.issued_at)?;
        prop_assert_eq!(v.claims(), c);
    }

    /// Every single-character change of a token, at every position, to any printable
    /// character is refused.
    #[test]
    fn any_single_character_change_is_refused(c in claims()) {
        let ring = vector_keyring();
        let token = ring.issue_token(&c)?;
        for (i, r, mutated) in single_char_mutations(&token, 0..token.len()) {
            prop_assert!(
                ring.verify_token(&mutated, c.issued_at).is_err(),
                "accepted {:?} (position {}, {:?})", mutated, i, r
            );
        }
    }
}

#[test]
fn sizes_stay_within_the_design_limits() {
    let ring = vector_keyring();
    let eight = sample("campaign", "partner1", Some("ad000001"), Some("sid00001"));
    let t = ring.issue_token(&eight).unwrap();
    assert!(t.len() <= 160, "{} bytes", t.len());

    // Even with the longest key id.
    let mut long_kid = ring.clone();
    long_kid
        .insert("kkkkkkkkkkkkkkkk", Key::generate().unwrap())
        .unwrap();
    long_kid.set_current("kkkkkkkkkkkkkkkk").unwrap();
    assert!(long_kid.issue_token(&eight).unwrap().len() <= 160);

    let max = "x".repeat(64);
    let mut full = sample(&max, &max, Some(&max), Some(&max));
    full.expires_at = u64::MAX;
    let t = long_kid.issue_token(&full).unwrap();
    assert!(t.len() <= 512, "{} bytes", t.len());
    assert_eq!(
        long_kid.verify_token(&t, T0).unwrap().expires_at(),
        u64::MAX
    );
}

#[test]
fn window_and_skew() {
    let ring = vector_keyring();
    let c = sample("c", "p", None, None);
    let t = ring.issue_token(&c).unwrap();
    let exp = c.expires_at;
    assert!(ring.verify_token(&t, T0).is_ok());
    assert!(ring.verify_token(&t, exp - 1).is_ok());
    assert!(
        ring.verify_token(&t, exp + 59).is_ok(),
        "60 s skew after expiry"
    );
    assert_eq!(
        ring.verify_token(&t, exp + 60).unwrap_err(),
        Error::Claims(ClaimsError::Expired { expired_at: exp })
    );
    assert!(
        ring.verify_token(&t, T0 - 60).is_ok(),
        "60 s skew before issue"
    );
    let early = ring.verify_token(&t, T0 - 61).unwrap_err();
    assert_eq!(
        early,
        Error::Claims(ClaimsError::NotYetValid { issued_at: T0 })
    );
    assert_eq!(early.code(), "expired");
    assert_eq!(early.to_string(), "not yet valid");

    let strict = TokenValidation { skew_secs: 0 };
    assert!(ring.verify_token_with(&t, exp, &strict).is_err());
    assert!(ring.verify_token_with(&t, exp - 1, &strict).is_ok());
    assert!(ring.verify_token_with(&t, T0 - 1, &strict).is_err());
}

#[test]
fn claims_that_end_before_they_start_are_not_issued() {
    let ring = vector_keyring();
    let mut c = sample("c", "p", None, None);
    c.expires_at = c.issued_at - 1;
    assert_eq!(ring.issue_token(&c).unwrap_err().code(), "malformed");
}

#[test]
fn rotation_and_removed_kids() {
    let mut ring = Keyring::new("a", Key::generate().unwrap()).unwrap();
    let c = sample("c", "p", Some("ad"), Some("s.1"));
    let old = ring.issue_token(&c).unwrap();
    ring.insert("b", Key::generate().unwrap()).unwrap();
    ring.set_current("b").unwrap();
    let new = ring.issue_token(&c).unwrap();
    assert!(new.starts_with("v1.b."));
    assert!(ring.verify_token(&old, T0).is_ok());
    assert!(ring.verify_token(&new, T0).is_ok());
    assert!(ring.remove("a"));
    assert_eq!(
        ring.verify_token(&old, T0).unwrap_err(),
        Error::InvalidSignature
    );
    assert!(ring.verify_token(&new, T0).is_ok());
    // The current key cannot be removed.
    assert!(!ring.remove("b"));
}

#[test]
fn a_token_of_another_keyring_does_not_verify() {
    let t = Keyring::generate()
        .unwrap()
        .issue_token(&sample("c", "p", None, None))
        .unwrap();
    let other = Keyring::generate().unwrap();
    assert_eq!(
        other.verify_token(&t, T0).unwrap_err(),
        Error::InvalidSignature
    );
}

#[test]
fn a_link_signature_never_verifies_as_a_token() {
    // Same key, same kid: the purpose label keeps the tags apart. (The vectors check
    // the exact cross-purpose tags; this checks a whole link tag pasted into a token.)
    let ring = vector_keyring();
    let signer = affiliate_sdk::LinkSigner::new(ring.clone(), "https://t.example/go").unwrap();
    let c = sample("c", "p", None, None);
    let token = ring.issue_token(&c).unwrap();
    let link_tag = signer.sign(&c.link).split_once('.').unwrap().1.to_owned();
    let (signed, _) = token.rsplit_once('.').unwrap();
    let forged = format!("{signed}.{link_tag}");
    assert_eq!(
        ring.verify_token(&forged, T0).unwrap_err(),
        Error::InvalidSignature
    );
}

#[test]
fn malformed_tokens_are_refused_with_a_typed_error_that_leaks_nothing() {
    let ring = vector_keyring();
    let good = ring.issue_token(&sample("c", "p", None, None)).unwrap();
    let (signed, tag) = good.rsplit_once('.').unwrap();
    let cases = [
        String::new(),
        "v1".into(),
        "v1.".into(),
        "v2.k1.1.AAAA.AAAAAAAAAAAAAAAAAAAAAA".into(),
        "V1.k1.1.AAAA.AAAAAAAAAAAAAAAAAAAAAA".into(),
        good[3..].to_string(),
        signed.to_string(),
        format!("{good}."),
        format!("{good}.x"),
        format!("{signed}.{tag}="),
        format!("{signed}..{tag}"),
        good.replacen("v1.k1.", "v1..", 1),
        good.replacen("v1.k1.", "v1.k!.", 1),
        good.replacen("v1.k1.", "v1.kkkkkkkkkkkkkkkkk.", 1),
        good.replacen("v1.k1.", "v1.k1.-", 1),
        good.replacen("v1.k1.", "v1.k1.+", 1),
        "v1.k1.99999999999999999999.AAAA.AAAAAAAAAAAAAAAAAAAAAA".into(),
        "v1.k1.1.A=AA.AAAAAAAAAAAAAAAAAAAAAA".into(),
        format!("v1.k1.1.{}.AAAAAAAAAAAAAAAAAAAAAA", "A".repeat(500)),
        format!(" {good}"),
        format!("{good} "),
        good.replace('.', "%2E"),
        "v1.k1.1.AAAA.AAAAAAAAAAAAAAAAAAAAAA\u{e9}".into(),
    ];
    for t in cases {
        let err = ring.verify_token(&t, T0).unwrap_err();
        assert!(
            matches!(err.code(), "malformed" | "invalid_signature"),
            "{t:?}: {err}"
        );
        let text = err.to_string();
        assert!(
            !text.contains(tag) && !text.contains(&good),
            "error leaks the token: {text}"
        );
    }
}

#[test]
fn correctly_signed_but_inconsistent_tokens_are_refused() {
    // Sign texts the issuer would never produce, with the real key, and check they
    // are refused as malformed rather than accepted or panicking.
    use base64::Engine as _;
    use base64::engine::general_purpose::URL_SAFE_NO_PAD as B64;
    use hmac::{Hmac, KeyInit, Mac};
    let ring = vector_keyring();
    let key = B64.decode(ring.key("k1").unwrap().to_base64()).unwrap();
    let sign = |signed: &str| {
        let mut mac = Hmac::<sha2::Sha256>::new_from_slice(&key).unwrap();
        mac.update(signed.as_bytes());
        mac.update(b"\0affiliate-sdk:token:v1");
        format!(
            "{signed}.{}",
            B64.encode(&mac.finalize().into_bytes()[..16])
        )
    };
    let click = "AYvP5WgAejydLgEjRWeJqw";
    let good = format!("v1.k1.{}.{T0}.{click}.c.p..", T0 + 10);
    assert!(
        ring.verify_token(&sign(&good), T0).is_ok(),
        "the helper signs correctly"
    );

    let long = "c".repeat(65);
    // A valid token's times and click id, then the given campaign, partner, ad and sid.
    let after = |codes: &str| format!("v1.k1.{}.{T0}.{click}.{codes}", T0 + 10);
    for signed in [
        format!("v1.k1.{}.{T0}.{click}.c.p..", T0 - 1), // expires before issued
        format!("v1.k1.{}.{T0}.AYvP5WgAejydLgEjRWeJqx.c.p..", T0 + 10), // non-canonical id
        format!("v1.k1.{}.{T0}.AYvP5WgAejydLgEjRWeJ.c.p..", T0 + 10), // short id
        after(&format!("{long}.p..")),
        after(".p.."),
        after("c..."),
        after("c.p.a~d."),
        after("c.p.a.s s"),
        after("c.p"),
        format!("v1.k1.{}.0{T0}.{click}.c.p..", T0 + 10),
        // Decimals: overflow, 21 digits, signs, empty, non-digits.
        format!("v1.k1.18446744073709551616.{T0}.{click}.c.p.."),
        format!("v1.k1.100000000000000000000.{T0}.{click}.c.p.."),
        format!("v1.k1.+{}.{T0}.{click}.c.p..", T0 + 10),
        format!("v1.k1.{}.-{T0}.{click}.c.p..", T0 + 10),
        format!("v1.k1..{T0}.{click}.c.p.."),
        format!("v1.k1.{}..{click}.c.p..", T0 + 10),
        format!("v1.k1.{}x.{T0}.{click}.c.p..", T0 + 10),
        // Click ids: a byte outside base64url, one character too many.
        format!("v1.k1.{}.{T0}.AYvP5WgAejydLgEjRWeJq+.c.p..", T0 + 10),
        format!("v1.k1.{}.{T0}.{click}A.c.p..", T0 + 10),
        // Codes: `~` is a sid byte, not a code byte; 65 bytes; a space.
        after("c~.p.."),
        after("c.p~.."),
        after(&format!("c.{long}..")),
        after(&format!("c.p.{long}.")),
        after("c.p a.."),
        // Sids: 65 bytes, a byte outside the alphabet, non-ASCII.
        after(&format!("c.p..{}", "s".repeat(65))),
        after("c.p..s/s"),
        after("c.p..s\u{e9}"),
    ] {
        let err = ring.verify_token(&sign(&signed), T0).unwrap_err();
        assert_eq!(err.code(), "malformed", "{signed}: {err}");
    }

    // The edges that are allowed: the largest expiry, zero times, dots and `~` in a
    // sid, 64-byte fields.
    let max = "m".repeat(64);
    for (signed, now, sid) in [
        (
            format!("v1.k1.18446744073709551615.{T0}.{click}.c.p.."),
            T0,
            None,
        ),
        (format!("v1.k1.0.0.{click}.c.p.a."), 0, None),
        (after("c.p..s.t.~u"), T0, Some("s.t.~u")),
        (after("c.p..."), T0, Some(".")),
        (
            after(&format!("{max}.{max}.{max}.{max}")),
            T0,
            Some(max.as_str()),
        ),
    ] {
        let token = sign(&signed);
        let v = ring
            .verify_token(&token, now)
            .unwrap_or_else(|e| panic!("{signed}: {e}"));
        assert_eq!(v.sid(), sid, "{signed}");
        assert_eq!(
            v.click_id().to_string(),
            "018bcfe5-6800-7a3c-9d2e-0123456789ab"
        );
    }
}

#[test]
fn untrusted_token_reads_only_kid_and_expiry() {
    let ring = vector_keyring();
    let c = sample("haircare", "abc123", None, Some("kw"));
    let t = ring.issue_token(&c).unwrap();
    let u = UntrustedToken::parse(&t).unwrap();
    assert_eq!((u.kid(), u.expires_at()), ("k1", T0 + 30 * DAY));
    assert_eq!(u.campaign(), "haircare");
    let dbg = format!("{u:?}");
    assert!(
        !dbg.contains(t.rsplit_once('.').unwrap().1),
        "Debug shows the tag: {dbg}"
    );
    // Parsing does not verify.
    let forged = t.replacen(&format!(".{}.", T0 + 30 * DAY), ".4000000000.", 1);
    assert_eq!(
        UntrustedToken::parse(&forged).unwrap().expires_at(),
        4_000_000_000
    );
    assert!(ring.verify_token(&forged, T0).is_err());
}

#[test]
fn claims_carry_every_field() {
    let ring = vector_keyring();
    let c = sample("haircare", "abc123", Some("website2"), Some("kw.1"));
    let token = ring.issue_token(&c).unwrap();
    let v = ring.verify_token(&token, T0 + 5).unwrap();
    assert_eq!(v.click_id(), ClickId::from_bytes([0xab; 16]));
    assert_eq!(v.campaign(), "haircare");
    assert_eq!(v.partner(), "abc123");
    assert_eq!(v.ad(), Some("website2"));
    assert_eq!(v.sid(), Some("kw.1"));
    assert_eq!((v.issued_at(), v.expires_at()), (T0, T0 + 30 * DAY));
    let link = v.link();
    assert_eq!(link.campaign, Code::new("haircare").unwrap());
    assert_eq!(link.sid, Some(Sid::new("kw.1").unwrap()));
    assert_eq!(v.claims(), c);
}
