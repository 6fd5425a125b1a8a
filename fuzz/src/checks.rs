//! What every fuzz target of the core checks, one function per target. The fuzz
//! binaries call these; `affiliate-sdk/tests/fuzz_regressions.rs` includes this file
//! and replays every input under `fuzz/regressions/<target>/` through [`run`], so a
//! crash once found stays a test. The server's own target (`config_parse`) is in
//! `server_checks.rs`, replayed by `affiliate-server/tests/fuzz_regressions.rs`.
//!
//! Each check asserts more than "no panic": what verifies is canonical (building it
//! again gives the same text), round trips give back what went in, and any change to
//! a signed part is refused.

use std::sync::Arc;

use affiliate_sdk::{
    BrowserConversion, BrowserConversions, Campaign, CampaignSpec, ClickId, ConversionRequest,
    CookieConfig, DeepTarget, FixedClock, Keyring, Kind, Link, LinkSigner, MAX_COOKIE_HEADER_LEN,
    MAX_TOKEN_LEN, ManualConversion, MemoryStore, Money, OrderFields, PartnerSpec, Percent,
    Postback, RefundRequest, TokenClaims, TokenValidation, Tracker, UntrustedToken,
    parse_cookie_header, parse_postback_query,
};
use arbitrary::{Arbitrary, Unstructured};

#[path = "program_checks.rs"]
mod program_checks;
#[allow(unused_imports)] // used by the fuzz binary, not by the regression replay
pub use program_checks::program_json;

/// Every core target by name, for the regression replay.
pub const TARGETS: [&str; 10] = [
    "link_verify",
    "token_verify",
    "cookie_header",
    "money_parse",
    "conversion_json",
    "link_roundtrip",
    "token_roundtrip",
    "order_signature",
    "report_page",
    "program_json",
];

/// The targets whose checks live with the server (`server_checks.rs`).
pub const SERVER_TARGETS: [&str; 2] = ["config_parse", "api_query"];

/// Runs core target `name` on `data`.
pub fn run(name: &str, data: &[u8]) {
    match name {
        "link_verify" => link_verify(data),
        "token_verify" => token_verify(data),
        "cookie_header" => cookie_header(data),
        "money_parse" => money_parse(data),
        "conversion_json" => conversion_json(data),
        "link_roundtrip" => link_roundtrip(data),
        "token_roundtrip" => token_roundtrip(data),
        "order_signature" => order_signature(data),
        "report_page" => report_page(data),
        "program_json" => program_checks::program_json(data),
        other => panic!("no fuzz target {other}"),
    }
}

const BASE: &str = "https://t.shop.example/go";
const NOW: u64 = 1_700_000_000;

fn keyring() -> Keyring {
    Keyring::from_base64(
        [
            ("k1", "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8"),
            ("k2", "S28xPTl2RkekPP8M42wxjJcL76KQkxvMlPGIaX-U2KMBAgME"),
        ],
        "k1",
    )
    .expect("the fixed keyring is valid")
}

fn signer() -> LinkSigner {
    LinkSigner::new(keyring(), BASE).expect("the fixed base URL is valid")
}

/// A link URL, strict and as a click: both agree on the signed part, and what
/// verifies rebuilds to a link that verifies to the same codes.
pub fn link_verify(data: &[u8]) {
    let Ok(url) = std::str::from_utf8(data) else {
        return;
    };
    let s = signer();
    let strict = s.verify(url);
    let click = s.verify_click(url);
    match (&strict, &click) {
        (Ok(link), Ok(c)) => assert_eq!(*link, c.link),
        (Ok(_), Err(e)) => panic!("strict verify accepted what a click refused: {e}"),
        // A bad sid fails strict verification only.
        (Err(_), _) => {}
    }
    if let Ok(c) = &click {
        // The campaign a refused link would land on is read from the same place.
        assert_eq!(s.campaign_segment(url), Some(c.link.campaign.as_str()));
    }
    destination(url);
    deep_link(url);
    landing(url);
    if let Ok(c) = &click
        && let Some(to) = &c.to
    {
        deep_link(to);
    }
    if let Ok(c) = click {
        let mut bare = c.link;
        bare.sid = None;
        let rebuilt = s.build_link(&bare);
        assert_eq!(s.verify(&rebuilt).expect("a rebuilt link verifies"), bare);
    }
}

/// A shop's landing request target (run by `link_verify` on its input; `@T` stands for
/// a fresh, valid token): a landing's clean location stays on the shop's site (a
/// path-absolute URL with no `\`, control, space or non-ASCII byte), holds no token
/// any more, and the cookie is the token's.
pub fn landing(text: &str) {
    static LANDING: std::sync::OnceLock<(Tracker, String)> = std::sync::OnceLock::new();
    let (tracker, token) = LANDING.get_or_init(|| {
        let tracker = Tracker::new(signer(), Arc::new(MemoryStore::new()))
            .with_clock(Arc::new(FixedClock::from_secs(NOW)));
        tracker
            .add_campaign(&CampaignSpec::new("c", "https://shop.example/", "USD"))
            .expect("a valid campaign");
        tracker
            .add_partner(&PartnerSpec::new("p"))
            .expect("a valid partner");
        let url = signer().build("c", "p", None, None).expect("a link");
        let token = tracker.click(&url, None).expect("a click").token;
        (tracker, token)
    });
    let target = text.replace("@T", token);
    let (path, query) = target.split_once('?').unwrap_or((&target, ""));
    let Ok(Some(landing)) = tracker.landing("GET", path, query) else {
        return;
    };
    let location = &landing.location;
    assert!(
        location.starts_with('/') && !location.starts_with("//"),
        "{location}"
    );
    assert!(
        !location
            .bytes()
            .any(|b| b <= b' ' || b >= 0x7f || b == b'\\' || b == b'#'),
        "{location}"
    );
    let base = url::Url::parse("https://shop.example/").expect("a base URL");
    let resolved = base.join(location).expect("a location resolves");
    assert_eq!(resolved.host_str(), Some("shop.example"), "{location}");
    let (path, query) = location.split_once('?').unwrap_or((location, ""));
    assert!(
        matches!(tracker.landing("GET", path, query), Ok(None)),
        "a token stayed in {location}"
    );
    assert!(
        landing
            .set_cookie
            .starts_with(&format!("aff_token={token};"))
    );
}

/// A campaign destination (run by `link_verify` on its input): what the `url` crate
/// accepts, serialised, is accepted as normalised text (the JS package's path) and
/// stays the same destination.
pub fn destination(text: &str) {
    let spec = |d: &str| CampaignSpec::new("c", d, "USD");
    let Ok(parsed) = Campaign::new(&spec(text)) else {
        return;
    };
    let again = Campaign::with_normalized_destination(&spec(parsed.destination()))
        .expect("a serialised destination is accepted as normalised text");
    assert_eq!(again.destination(), parsed.destination());
}

/// A deep link's `to=` (run by `link_verify` on its input and on a verified link's
/// `to`): a target that parses is accepted again from its serialisation (the JS
/// package's path), its host is the one the `url` crate reads, and a campaign lets a
/// click land there only on one of its `deep_link_hosts`.
pub fn deep_link(text: &str) {
    let Ok(target) = DeepTarget::parse(text) else {
        return;
    };
    let again =
        DeepTarget::from_href(target.href()).expect("a serialised target is accepted as text");
    assert_eq!(again, target);
    let url = url::Url::parse(target.href()).expect("a serialised target parses");
    assert_eq!(url.as_str(), target.href(), "serialisation is stable");
    let host = url.host().expect("a target has a host").to_string();
    assert_eq!(target.host(), host);
    assert!(matches!(url.scheme(), "http" | "https"));
    assert!(url.username().is_empty() && url.password().is_none());
    let mut spec = CampaignSpec::new("c", "https://shop.example/", "USD");
    spec.deep_link_hosts = vec!["shop.example".into(), "*.cdn.example".into()];
    let campaign = Campaign::new(&spec).expect("campaign");
    if campaign.check_deep_link(&target).is_ok() {
        assert!(
            host == "shop.example" || host.ends_with(".cdn.example"),
            "a deep link to {host} was allowed"
        );
    }
}

/// A token at a time taken from the input: what verifies is canonical (issuing its
/// claims again gives the same text) and its expiry reads the same without the key.
pub fn token_verify(data: &[u8]) {
    let (now, rest) = match data.split_first_chunk::<8>() {
        Some((n, rest)) => (NOW + u64::from_le_bytes(*n) % (400 * 86_400), rest),
        None => (NOW, data),
    };
    let Ok(token) = std::str::from_utf8(rest) else {
        return;
    };
    let ring = keyring();
    let untrusted = UntrustedToken::parse(token);
    if let Ok(v) = ring.verify_token_with(token, now, &TokenValidation::default()) {
        let u = untrusted.expect("a verified token parses untrusted");
        assert_eq!(u.expires_at(), v.expires_at());
        assert_eq!(u.campaign(), v.campaign());
        assert!(token.len() <= MAX_TOKEN_LEN);
        let mut ring = ring.clone();
        ring.set_current(u.kid())
            .expect("the token's kid is in the ring");
        assert_eq!(ring.issue_token(&v.claims()).expect("re-issue"), token);
    }
    // The portal's credentials parse the same text: a sign-in link or a session
    // verifies only as itself, never as the other nor as a token.
    let link = affiliate_sdk::portal::verify_link(&ring, token, now);
    let session = affiliate_sdk::portal::verify_session(&ring, token, now);
    assert!(!(link.is_ok() && session.is_ok()), "one text, two purposes");
    for claims in [link, session].into_iter().flatten() {
        assert!(claims.expires > now);
        assert!(
            ring.verify_token_with(token, now, &TokenValidation::default())
                .is_err()
        );
    }
    let _ = affiliate_sdk::portal::looks_like_partner_key(token);
}

/// A `Cookie` header: the token found is a non-empty piece of the header, no longer
/// than a token can be; oversized headers are refused. Every candidate the tracker
/// looks at is a piece of the header, and the one it keeps verifies.
pub fn cookie_header(data: &[u8]) {
    let Ok(header) = std::str::from_utf8(data) else {
        return;
    };
    let cfg = CookieConfig::new();
    let candidates: Vec<&str> = cfg.candidates(header).collect();
    assert!(candidates.len() <= affiliate_sdk::MAX_COOKIE_CANDIDATES);
    // What the `cookie` crate reads from the same header.
    let by_the_crate: Vec<&str> = cookie::Cookie::split_parse(header)
        .filter_map(Result::ok)
        .filter(|c| c.name_raw() == Some("aff_token"))
        .filter_map(|c| c.value_raw())
        .filter(|v| !v.is_empty() && v.len() <= MAX_TOKEN_LEN)
        .take(affiliate_sdk::MAX_COOKIE_CANDIDATES)
        .collect();
    assert_eq!(candidates, by_the_crate);
    for c in &candidates {
        assert!(!c.is_empty() && c.len() <= MAX_TOKEN_LEN && header.contains(c));
    }
    let t = tracker();
    if let Some(token) = t.token_from_cookies([header]) {
        assert!(candidates.contains(&token));
        t.verify_token(token).expect("the token kept verifies");
    }
    let found = parse_cookie_header(header, "aff_token");
    if header.len() > MAX_COOKIE_HEADER_LEN {
        assert!(found.is_err());
        return;
    }
    let found = found.expect("a header within the limit is never an error");
    assert_eq!(CookieConfig::new().find(header).ok().flatten(), found);
    if let Some(v) = found {
        assert!(!v.is_empty() && v.len() <= MAX_TOKEN_LEN);
        assert!(header.contains("aff_token") && header.contains(v));
    }
}

/// An amount and currency (the first 3 bytes), and a percentage: what parses formats
/// back to a text that parses to the same value.
pub fn money_parse(data: &[u8]) {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let cut = (0..=3.min(text.len()))
        .rev()
        .find(|&i| text.is_char_boundary(i))
        .unwrap_or(0);
    let (currency, amount) = text.split_at(cut);
    if let Ok(m) = Money::parse(amount, currency) {
        let again = Money::parse(&m.to_string(), currency).expect("formatted money parses");
        assert_eq!(again, m);
        assert_eq!(m.currency().code(), currency.to_ascii_uppercase());
    }
    if let Ok(p) = Percent::parse(text) {
        assert_eq!(
            Percent::parse(&p.to_string()).expect("formatted percent parses"),
            p
        );
    }
}

fn tracker() -> Tracker {
    let tracker = Tracker::new(signer(), Arc::new(MemoryStore::new()))
        .with_clock(Arc::new(FixedClock::from_secs(NOW)));
    // No DNS while fuzzing: names are not resolved (the guard's address rules are
    // fuzzed with a fixed resolver in `webhook`).
    tracker.allow_private_destinations(true);
    let mut c = CampaignSpec::new("haircare", "https://shop.example/", "USD");
    c.sale_percent = Some("10".into());
    c.lead_flat = Some("2.00".into());
    c.override_percents = vec!["10".into()];
    tracker.add_campaign(&c).expect("campaign");
    let mut open = CampaignSpec::new("beauty", "https://shop.example/b", "USD");
    open.sale_percent = Some("10".into());
    open.browser_conversions = BrowserConversions::Open;
    open.max_browser_amount = Some("100.00".into());
    tracker.add_campaign(&open).expect("campaign");
    tracker
        .add_partner(&PartnerSpec::new("boss1"))
        .expect("partner");
    let mut p = PartnerSpec::new("abc123");
    p.parent = Some("boss1".into());
    p.coupons = vec!["ABC10".into()];
    tracker.add_partner(&p).expect("partner");
    tracker
}

/// A postback or manual-entry body: parsed, attributed or refused with a typed error;
/// a recorded conversion replays as a duplicate with the same values.
pub fn conversion_json(data: &[u8]) {
    let t = tracker();
    // The GET postback's query: what parses is recorded (or refused) as the JSON body is.
    if let Ok(query) = std::str::from_utf8(data)
        && let Ok((_, p)) = parse_postback_query(query)
        && let Ok(conv) = t.postback(&p)
    {
        let order_id = match &p {
            Postback::Conversion(req) => &req.order_id,
            Postback::Refund(r) => &r.order_id,
        };
        assert_eq!(&conv.order_id, order_id);
        assert!(t.postback(&p).expect("a replay is answered").duplicate);
    }
    // A postback body may be a refund: of an order recorded here, it never gives back
    // more than the order's amount or a level's commission, and replays.
    if let Ok(p) = serde_json::from_slice::<Postback>(data)
        && let Postback::Refund(r) = &p
    {
        let t = tracker();
        let _ = t.manual(&ManualConversion::sale(
            &r.order_id,
            "100.00",
            "USD",
            "haircare",
            "abc123",
        ));
        refund_holds(
            &t,
            &r.order_id,
            &RefundRequest::new(&r.refund_id, &r.refund_amount),
        );
    }
    // An adjustment body: refused with a typed error, or one entry within the bound that
    // its key replays and another request under the key cannot reuse.
    if let Ok(req) = serde_json::from_slice::<affiliate_sdk::ledger::AdjustmentRequest>(data) {
        let t = tracker();
        match t.adjust("fuzz-key", &req) {
            Ok(affiliate_sdk::Adjusted::Created(e)) => {
                assert!(e.amount_minor > 0);
                assert!(e.amount_minor <= affiliate_sdk::MAX_AMOUNT * 1_000);
                assert!(e.note.as_ref().is_some_and(|n| !n.memo.is_empty()));
                assert!(matches!(
                    t.adjust("fuzz-key", &req).expect("a replay"),
                    affiliate_sdk::Adjusted::Replayed(_)
                ));
            }
            Ok(affiliate_sdk::Adjusted::Replayed(_)) => panic!("a new key replayed"),
            Err(e) => assert!(!e.code().is_empty()),
        }
    }
    // A traffic rejection's path (`{day}/{campaign}/{partner}`): refused with a typed
    // error (nothing is in the ledger here), never a panic.
    if let Ok(text) = std::str::from_utf8(data)
        && let [day, campaign, partner] = text.split('/').collect::<Vec<_>>()[..]
    {
        let code = tracker()
            .reject_traffic(day, campaign, partner)
            .expect_err("no traffic in the ledger")
            .code();
        assert!(
            matches!(code, "malformed" | "not_found"),
            "{text:?}: {code}"
        );
    }
    if let Ok(r) = serde_json::from_slice::<RefundRequest>(data) {
        let t = tracker();
        t.manual(&ManualConversion::sale(
            "F-1", "99.99", "USD", "haircare", "abc123",
        ))
        .expect("a fixed sale");
        let _ = t.refund("F-1", &RefundRequest::new("R-0", "33.33"));
        refund_holds(&t, "F-1", &r);
    }
    if let Ok(req) = serde_json::from_slice::<ConversionRequest>(data)
        && let Ok(conv) = t.convert(&req)
    {
        let replay = t.convert(&req).expect("a replay is answered");
        assert!(replay.duplicate);
        assert_eq!(replay.commissions, conv.commissions);
        let stored = t.conversion(&req.order_id).expect("stored");
        assert_eq!(stored.amount, conv.amount);
    }
    if let Ok(req) = serde_json::from_slice::<ManualConversion>(data)
        && let Ok(conv) = t.manual(&req)
    {
        assert!(!conv.commissions.is_empty());
        assert!(t.manual(&req).expect("a replay is answered").duplicate);
    }
    // The beacon's body: a browser conversion that counts is signed, or unsigned within
    // the open campaign's limits; its replay from the same browser is a duplicate.
    if let Ok(req) = serde_json::from_slice::<BrowserConversion>(data) {
        let t = tracker();
        if let Ok(conv) = t.convert_browser(&req) {
            assert!(
                req.osig.as_deref().is_some_and(|s| !s.is_empty())
                    || (conv.link.campaign.as_str() == "beauty"
                        && conv.amount.minor() <= 10_000
                        && matches!(conv.kind, Kind::Sale | Kind::Lead)),
                "an unsigned browser conversion outside the limits: {conv:?}"
            );
            let replay = t.convert_browser(&req).expect("a replay is answered");
            // A withheld answer recorded nothing: it is answered so again.
            assert!(replay.duplicate || (conv.withheld && replay.withheld));
        }
    }
}

/// A refund of `order_id` by `req`: refused with a typed error that changes nothing, or
/// recorded within the order's amount, each level giving back at most what it earned,
/// and answered again as a replay.
fn refund_holds(t: &Tracker, order_id: &str, req: &RefundRequest) {
    let before = t.conversion(order_id).ok();
    match t.refund(order_id, req) {
        Ok(c) => {
            assert!(c.refunded_minor() <= c.amount.minor());
            for k in &c.commissions {
                assert!(c.net_commission_minor(k.amount.minor()) <= k.amount.minor());
            }
            assert!(t.refund(order_id, req).expect("a replay").duplicate);
        }
        Err(e) => {
            assert!(!e.code().is_empty());
            assert_eq!(
                t.conversion(order_id).ok(),
                before,
                "a refusal changed the order"
            );
        }
    }
}

/// Order signatures: arbitrary text never panics the verifier; for valid fields, the
/// signature verifies, and any changed byte of it, or another amount, is refused.
pub fn order_signature(data: &[u8]) {
    let ring = keyring();
    let sale = Kind::Sale;
    let fixed = OrderFields {
        order_id: "A-1",
        amount: Money::parse("49.90", "USD").expect("fixed amount"),
        kind: &sale,
    };
    if let Ok(text) = std::str::from_utf8(data) {
        // Arbitrary text as an osig: refused with a typed error, never a panic.
        let _ = ring.verify_order(text, &fixed);
    }
    let mut u = Unstructured::new(data);
    let Ok((order_id, amount, currency, kind, at, to)) = (|| {
        Ok::<_, arbitrary::Error>((
            String::arbitrary(&mut u)?,
            String::arbitrary(&mut u)?,
            String::arbitrary(&mut u)?,
            String::arbitrary(&mut u)?,
            usize::arbitrary(&mut u)?,
            u8::arbitrary(&mut u)?,
        ))
    })() else {
        return;
    };
    let Ok(osig) = ring.sign_order(&order_id, &amount, &currency, &kind) else {
        return;
    };
    let kind: Kind = kind.parse().expect("signed, so the kind parsed");
    let money = Money::parse(&amount, &currency).expect("signed, so the amount parsed");
    let order = OrderFields {
        order_id: &order_id,
        amount: money,
        kind: &kind,
    };
    ring.verify_order(&osig, &order)
        .expect("what was signed verifies");
    let changed = mutate(&osig, 0..osig.len(), at, to);
    if let Ok(changed) = std::str::from_utf8(&changed) {
        assert!(ring.verify_order(changed, &order).is_err(), "{changed}");
    }
    let other = OrderFields {
        amount: Money::from_minor(money.minor().wrapping_add(1), money.currency()),
        ..order.clone()
    };
    assert!(ring.verify_order(&osig, &other).is_err());
}

const CODE: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_-";
const SID: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789._~-";

fn word(u: &mut Unstructured<'_>, alphabet: &[u8]) -> arbitrary::Result<String> {
    let len = u.int_in_range(1..=64)?;
    (0..len)
        .map(|_| Ok(char::from(*u.choose(alphabet)?)))
        .collect()
}

fn opt_word(u: &mut Unstructured<'_>, alphabet: &[u8]) -> arbitrary::Result<Option<String>> {
    if bool::arbitrary(u)? {
        word(u, alphabet).map(Some)
    } else {
        Ok(None)
    }
}

/// Replaces the byte at `at` (taken modulo `range`) by a different one.
fn mutate(text: &str, range: std::ops::Range<usize>, at: usize, to: u8) -> Vec<u8> {
    let mut bytes = text.as_bytes().to_vec();
    let i = range.start + at % range.len();
    bytes[i] = if to == bytes[i] {
        to.wrapping_add(1)
    } else {
        to
    };
    bytes
}

/// Structure-aware: valid codes and sid → build → verify gives back the same fields;
/// changing any one byte of the signed part (path after the base, and `sig`) is
/// refused.
pub fn link_roundtrip(data: &[u8]) {
    let mut u = Unstructured::new(data);
    let Ok((campaign, partner, ad, sid, at, to)) = (|| {
        Ok::<_, arbitrary::Error>((
            word(&mut u, CODE)?,
            word(&mut u, CODE)?,
            opt_word(&mut u, CODE)?,
            opt_word(&mut u, SID)?,
            usize::arbitrary(&mut u)?,
            u8::arbitrary(&mut u)?,
        ))
    })() else {
        return;
    };
    let s = signer();
    let url = s
        .build(&campaign, &partner, ad.as_deref(), sid.as_deref())
        .expect("valid codes build");
    let link = s.verify(&url).expect("a built link verifies");
    let expected = Link::parse(&campaign, &partner, ad.as_deref(), sid.as_deref()).expect("valid");
    assert_eq!(link, expected);
    let signed_end = url.find("&sid=").unwrap_or(url.len());
    let changed = mutate(&url, BASE.len()..signed_end, at, to);
    if let Ok(changed) = std::str::from_utf8(&changed) {
        assert!(
            s.verify(changed).is_err(),
            "a changed link verified: {changed}"
        );
        assert!(
            s.verify_click(changed).is_err(),
            "a changed link clicked: {changed}"
        );
    }
}

/// Structure-aware: claims → issue → verify gives back the same claims; changing any
/// one byte of the token is refused.
pub fn token_roundtrip(data: &[u8]) {
    let mut u = Unstructured::new(data);
    let Ok((campaign, partner, ad, sid, id, iat, window, at, to)) = (|| {
        Ok::<_, arbitrary::Error>((
            word(&mut u, CODE)?,
            word(&mut u, CODE)?,
            opt_word(&mut u, CODE)?,
            opt_word(&mut u, SID)?,
            <[u8; 16]>::arbitrary(&mut u)?,
            u.int_in_range(0..=4_000_000_000u64)?,
            u.int_in_range(0..=3650 * 86_400u64)?,
            usize::arbitrary(&mut u)?,
            u8::arbitrary(&mut u)?,
        ))
    })() else {
        return;
    };
    let link =
        Link::parse(&campaign, &partner, ad.as_deref(), sid.as_deref()).expect("valid codes");
    let claims = TokenClaims::new(ClickId::from_bytes(id), link, iat, window);
    let ring = keyring();
    let token = ring.issue_token(&claims).expect("valid claims issue");
    assert!(token.len() <= MAX_TOKEN_LEN);
    let v = ring
        .verify_token(&token, iat)
        .expect("a fresh token verifies");
    assert_eq!(v.claims(), claims);
    let changed = mutate(&token, 0..token.len(), at, to);
    if let Ok(changed) = std::str::from_utf8(&changed) {
        assert!(
            ring.verify_token(changed, iat).is_err(),
            "a changed token verified: {changed}"
        );
    }
}

/// A report's `limit` (the first 2 bytes) and `cursor` (the rest, as text): a typed
/// error or a page of at most `limit` rows after the cursor's row; the next cursor,
/// when given, leads to the rows after the page's last.
pub fn report_page(data: &[u8]) {
    use affiliate_sdk::{Dimension, StatsQuery};
    let Some((limit, rest)) = data.split_first_chunk::<2>() else {
        return;
    };
    let limit = usize::from(u16::from_le_bytes(*limit)) % 12;
    let Ok(cursor) = std::str::from_utf8(rest) else {
        return;
    };
    let t = tracker();
    for sid in ["a", "b", "c", "d", "e"] {
        let url = signer()
            .build("haircare", "abc123", None, Some(sid))
            .expect("link");
        t.click(&url, None).expect("click");
    }
    let q = StatsQuery::new(&[Dimension::Sid]);
    let all = t.stats(&q).expect("stats");
    for cursor in [None, Some(cursor)] {
        let Ok(page) = t.stats_page(&q, limit, cursor) else {
            continue;
        };
        assert!((1..=10_000).contains(&limit));
        assert!(page.rows.len() <= limit);
        if let Some(next) = &page.next_cursor {
            let more = t
                .stats_page(&q, limit, Some(next))
                .expect("a cursor it gave");
            let last = page
                .rows
                .last()
                .expect("a page with a next cursor has rows");
            assert!(more.rows.iter().all(|r| r.group > last.group));
        }
        if cursor.is_none() {
            assert_eq!(page.rows, all[..all.len().min(limit)]);
        }
    }
}
