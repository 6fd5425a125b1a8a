//! Partner credentials on every store: a claim is made once across trackers, a portal
//! sign-in link works once (on any tracker of the store) and expires, sessions and API
//! keys name their partner until it is suspended or the key revoked, and the partner
//! API stays inside the caller's subtree.

mod common;

use std::sync::Arc;

use affiliate_sdk::{
    Clock, Code, ManualConversion, MemoryStore, PartnerSpec, SledStore, StatsQuery, Status, Store,
    Tracker,
};

fn trees(store: Arc<dyn Store>) -> (Tracker, Arc<affiliate_sdk::FixedClock>) {
    let (t, clock) = common::conformance::tracker(store);
    // A second tree beside boss ← mid ← abc123: other ← otherkid.
    t.add_partner(&PartnerSpec::new("other")).unwrap();
    t.add_partner(&{
        let mut v = PartnerSpec::new("otherkid");
        v.parent = Some("other".into());
        v
    })
    .unwrap();
    (t, clock)
}

/// A session ends at logout and suspension on every tracker of the store (after its
/// refresh), stays ended after reactivation, and a key rotation ends it too.
fn sessions_end(
    t: &Tracker,
    second: &Tracker,
    store: &Arc<dyn Store>,
    clock: &Arc<affiliate_sdk::FixedClock>,
) {
    let login = |tr: &Tracker, p: &str| {
        let url = tr.portal_link(p, Some(600)).unwrap();
        tr.portal_login(url.split_once("?t=").unwrap().1)
            .unwrap()
            .session
    };
    let solo = Some(Code::new("solo").unwrap());
    let (a, b) = (login(t, "solo"), login(second, "solo"));
    assert_eq!(second.partner_for_session(&a).unwrap(), solo);
    assert_eq!(t.portal_logout(&a).unwrap(), solo);
    assert_eq!(
        t.partner_for_session(&b).unwrap(),
        None,
        "every session of the partner"
    );
    second.refresh().unwrap();
    assert_eq!(
        second.partner_for_session(&a).unwrap(),
        None,
        "on every tracker"
    );
    assert_eq!(t.portal_logout(&a).unwrap(), None, "once");
    // Signed in again in the same second: the new session holds.
    let c = login(t, "solo");
    assert_eq!(second.partner_for_session(&c).unwrap(), solo);
    clock.advance_secs(5);
    t.update_partner("solo", &serde_json::json!({"status": "suspended"}))
        .unwrap();
    t.update_partner("solo", &serde_json::json!({"status": "active"}))
        .unwrap();
    second.refresh().unwrap();
    assert_eq!(
        second.partner_for_session(&c).unwrap(),
        None,
        "suspension ended it"
    );
    let d = login(second, "solo");
    assert_eq!(t.partner_for_session(&d).unwrap(), solo);
    // A new current key: sessions signed with the old one end.
    let mut ring = t.signer().keyring().clone();
    ring.insert("k9", affiliate_sdk::Key::generate().unwrap())
        .unwrap();
    ring.set_current("k9").unwrap();
    let rotated = Tracker::open(
        affiliate_sdk::LinkSigner::new(ring, t.signer().base_url()).unwrap(),
        store.clone(),
    )
    .unwrap()
    .with_clock(clock.clone() as Arc<dyn Clock>);
    assert_eq!(rotated.partner_for_session(&d).unwrap(), None);
    assert_eq!(
        rotated
            .partner_for_session(&login(&rotated, "solo"))
            .unwrap(),
        solo
    );
}

fn suite(store: Arc<dyn Store>) {
    // Claims: once, across trackers of the store.
    assert!(store.claim_once("test", "n1", u64::MAX, 0).unwrap());
    assert!(!store.claim_once("test", "n1", u64::MAX, 0).unwrap());
    assert!(store.claim_once("other-scope", "n1", u64::MAX, 0).unwrap());

    let (t, clock) = trees(store.clone());
    let second = Tracker::open(t.signer().clone(), store.clone())
        .unwrap()
        .with_clock(clock.clone() as Arc<dyn Clock>);
    // A sign-in link, used once on the other tracker, refused after.
    let url = t.portal_link("mid", Some(600)).unwrap();
    assert!(
        url.starts_with("https://t.shop.example/portal/login?t=pl1.mid."),
        "{url}"
    );
    let token = url.split_once("?t=").unwrap().1;
    let session = second.portal_login(token).unwrap();
    sessions_end(&t, &second, &store, &clock);
    assert_eq!(session.partner.as_str(), "mid");
    assert!(
        !format!("{session:?}").contains(&session.session),
        "Debug hides the session"
    );
    assert_eq!(
        t.portal_login(token).unwrap_err().code(),
        "forbidden",
        "a link works once"
    );
    assert_eq!(
        t.partner_for_session(&session.session).unwrap(),
        Some(Code::new("mid").unwrap())
    );
    assert_eq!(
        t.partner_for_session("ps1.mid.9999999999.x.k1.y").unwrap(),
        None
    );
    // A link not used in time expires; a session ends after 12 hours.
    let late = t.portal_link("abc123", Some(60)).unwrap();
    clock.advance_secs(61);
    let late = late.split_once("?t=").unwrap().1;
    assert_eq!(t.portal_login(late).unwrap_err().code(), "expired");
    assert_eq!(
        t.portal_link("mid", Some(0)).unwrap_err().code(),
        "malformed"
    );
    assert_eq!(
        t.portal_link("mid", Some(8 * 86_400)).unwrap_err().code(),
        "malformed"
    );
    assert_eq!(
        t.portal_link("nobody", None).unwrap_err().code(),
        "unknown_partner"
    );

    // Keys: made once, found by digest on every tracker, revoked.
    let (record, key) = t.create_partner_key("mid").unwrap();
    assert!(key.starts_with("pk_") && key.len() == 46);
    assert!(!serde_json::to_string(&record).unwrap().contains(&key));
    second.refresh().unwrap();
    assert_eq!(
        second.partner_for_key(&key).unwrap(),
        Some(Code::new("mid").unwrap())
    );
    assert_eq!(
        t.partner_for_key("pk_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA")
            .unwrap(),
        None
    );
    assert_eq!(t.partner_for_key("Bearer x").unwrap(), None);
    assert_eq!(t.partner_keys("mid").unwrap().len(), 1);
    assert_eq!(
        t.revoke_partner_key("abc123", &record.id)
            .unwrap_err()
            .code(),
        "not_found"
    );
    // Suspended: keys and sessions refused.
    t.update_partner("mid", &serde_json::json!({"status": "suspended"}))
        .unwrap();
    assert_eq!(t.partner_for_key(&key).unwrap_err().code(), "forbidden");
    assert_eq!(
        t.partner_for_session(&session.session).unwrap_err().code(),
        "forbidden"
    );
    t.update_partner("mid", &serde_json::json!({"status": "active"}))
        .unwrap();
    t.revoke_partner_key("mid", &record.id).unwrap();
    second.refresh().unwrap();
    assert_eq!(
        second.partner_for_key(&key).unwrap(),
        None,
        "revoked on every tracker"
    );

    // The partner API inside the subtree: mid sees itself and abc123, not boss or the
    // other tree; abc123 never sees mid's override.
    clock.advance_secs(3600);
    t.manual(&ManualConversion::sale(
        "S-1", "100.00", "USD", "haircare", "abc123",
    ))
    .unwrap();
    t.manual(&ManualConversion::sale(
        "S-2", "100.00", "USD", "haircare", "otherkid",
    ))
    .unwrap();
    t.set_status("S-1", Status::Approved).unwrap();
    let mid = Code::new("mid").unwrap();
    let abc = Code::new("abc123").unwrap();
    let by_partner = StatsQuery::new(&[affiliate_sdk::Dimension::Partner]);
    let rows = t.partner_stats(mid, &by_partner).unwrap();
    let names: Vec<_> = rows
        .iter()
        .map(|r| r.get(affiliate_sdk::Dimension::Partner).unwrap().to_owned())
        .collect();
    assert_eq!(names, ["abc123"]);
    let usd = affiliate_sdk::Currency::new("USD").unwrap();
    // abc123's 10.00 and mid's 1.00 override, not boss's 0.50.
    assert_eq!(rows[0].commission.minor(usd), 1100);
    let own = t.partner_stats(abc, &by_partner).unwrap();
    assert_eq!(
        own[0].commission.minor(usd),
        1000,
        "a child never sees its parent's override"
    );
    for outside in ["boss", "other", "otherkid", "nobody"] {
        let q = {
            let mut v = by_partner.clone();
            v.partner = Code::new(outside).ok();
            v
        };
        assert_eq!(
            t.partner_stats(mid, &q).unwrap_err().code(),
            "forbidden",
            "{outside}"
        );
        assert_eq!(
            t.check_in_subtree(abc, "mid").unwrap_err().code(),
            "forbidden"
        );
    }
    let page = t
        .partner_conversions_page(mid, &affiliate_sdk::ConversionQuery::default(), 100, None)
        .unwrap();
    let rows = serde_json::to_value(&page.conversions).unwrap();
    let rows = rows.as_array().unwrap();
    assert_eq!(rows.len(), 1);
    assert_eq!(
        (rows[0]["order_id"].as_str(), rows[0]["commission"].as_str()),
        (Some("S-1"), Some("1.00"))
    );
    assert!(rows[0].get("customer_id").is_none());
    assert_eq!(
        t.partner_link(abc, "haircare", Some("mid"), None, None, None)
            .unwrap_err()
            .code(),
        "forbidden"
    );
    assert!(
        t.partner_link(mid, "haircare", Some("abc123"), None, Some("kw"), None)
            .is_ok()
    );
    assert_eq!(
        t.partner_link(mid, "haircare", None, Some("nope"), None, None)
            .unwrap_err()
            .code(),
        "not_found"
    );
    assert_eq!(
        t.update_partner_me(mid, &serde_json::json!({"parent": null}))
            .unwrap_err()
            .code(),
        "forbidden"
    );
    let me = t
        .update_partner_me(mid, &serde_json::json!({"name": "Mid Media"}))
        .unwrap();
    let me = serde_json::to_value(&me).unwrap();
    assert_eq!(
        (me["name"].as_str(), me["children"].clone()),
        (Some("Mid Media"), serde_json::json!(["abc123"]))
    );
    assert_eq!(t.partner_balance(abc).unwrap()[0].2.payable, 1000);
}

#[test]
fn memory() {
    suite(Arc::new(MemoryStore::new()));
}

#[test]
fn sled() {
    let dir = tempfile::tempdir().unwrap();
    suite(Arc::new(SledStore::open(dir.path()).unwrap()));
}

#[cfg(feature = "postgres")]
#[test]
fn postgres() {
    let (store, _) = common::fresh_pg_store(&affiliate_sdk::store::StoreLimits::default());
    suite(Arc::new(store));
}

/// A partner the configuration file moves to another parent: the move is dated as
/// through the API, so the new parent sees none of its earlier conversions and the old
/// one keeps the order it earned an override on.
#[test]
fn a_move_by_the_configuration_file_is_dated_too() {
    let (t, clock) = common::conformance::tracker(Arc::new(MemoryStore::new()));
    let hair = t.campaign("haircare").unwrap().spec().clone();
    let spec = |code: &str, parent: Option<&str>| {
        let mut p = PartnerSpec::new(code);
        p.parent = parent.map(str::to_owned);
        p
    };
    t.apply_config(
        std::slice::from_ref(&hair),
        &[
            spec("old", None),
            spec("new", None),
            spec("kid", Some("old")),
        ],
    )
    .unwrap();
    let sale = |order: &str| {
        let mut m = ManualConversion::default();
        (m.order_id, m.amount, m.currency, m.kind) =
            (order.into(), "100.00".into(), "USD".into(), "sale".into());
        (m.campaign, m.partner) = ("haircare".into(), "kid".into());
        t.manual(&m).unwrap();
    };
    sale("CFG-1");
    clock.advance_secs(10);
    t.apply_config(
        &[hair],
        &[
            spec("old", None),
            spec("new", None),
            spec("kid", Some("new")),
        ],
    )
    .unwrap();
    clock.advance_secs(10);
    sale("CFG-2");
    let orders = |p: &str| -> Vec<String> {
        t.partner_conversions_page(Code::new(p).unwrap(), &Default::default(), 100, None)
            .unwrap()
            .conversions
            .iter()
            .map(|c| c.order_id.clone())
            .collect()
    };
    assert_eq!(orders("old"), ["CFG-1"]);
    assert_eq!(orders("new"), ["CFG-2"]);
}
