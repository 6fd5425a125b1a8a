//! The program's parsers, fuzzed through the tracker as the merchant API and the
//! Python binding call it: partner, campaign, coupon and ad JSON, merge patches, the
//! conversion listing's cursor, the CSV writer, and payout runs (their JSON and
//! idempotency key, the payouts CSV). A refusal is a typed error and
//! changes nothing; what is accepted reads back as it was given; every CSV file parses
//! back to its rows and no cell starts like a formula.

use affiliate_sdk::{
    AdSpec, CampaignSpec, ConversionQuery, CouponSpec, ManualConversion, PartnerSpec,
    conversions_csv, csv_cell, merge_patch,
};

fn snapshot(t: &affiliate_sdk::Tracker) -> String {
    let partners: Vec<_> = t.partners().iter().map(|p| t.partner_answer(p)).collect();
    let campaigns: Vec<_> = t.campaigns().iter().map(|c| t.campaign_answer(c)).collect();
    serde_json::json!([
        partners,
        campaigns,
        t.coupons(None)
            .iter()
            .map(|c| c.to_json())
            .collect::<Vec<_>>()
    ])
    .to_string()
}

/// The first byte picks the parser, the rest is its input.
pub fn program_json(data: &[u8]) {
    let Some((&which, rest)) = data.split_first() else {
        return;
    };
    let Ok(text) = std::str::from_utf8(rest) else {
        return;
    };
    let t = super::tracker();
    if which % 8 == 7 && which >= 128 {
        return payout_run(&t, text);
    }
    if which % 8 == 6 && which >= 128 {
        return partner_api(&t, text);
    }
    if which % 8 == 5 && which >= 128 {
        return webhook(&t, text);
    }
    let before = snapshot(&t);
    let refused = match which % 8 {
        0 => match serde_json::from_str::<PartnerSpec>(text) {
            Ok(spec) => match t.create_partner(&spec) {
                Ok(p) => {
                    let answer = t.partner_answer(&p);
                    assert_eq!(answer.code.as_str(), spec.code.as_str());
                    assert_eq!(answer.name.as_deref(), spec.name.as_deref());
                    assert_eq!(
                        answer.parent.as_ref().map(|c| c.as_str()),
                        spec.parent.as_deref()
                    );
                    false
                }
                Err(_) => true,
            },
            Err(_) => true,
        },
        1 => match serde_json::from_str::<CampaignSpec>(text) {
            Ok(spec) => match t.create_campaign(&spec) {
                Ok(c) => {
                    // What is stored is read back and validates to the same campaign.
                    let again = affiliate_sdk::Campaign::new(c.spec()).expect("stored spec");
                    assert_eq!(again, c);
                    false
                }
                Err(_) => true,
            },
            Err(_) => true,
        },
        2 | 3 => match serde_json::from_str::<serde_json::Value>(text) {
            Ok(patch) => {
                let r = if which % 8 == 2 {
                    t.update_partner("abc123", &patch).map(|_| ())
                } else {
                    t.update_campaign("haircare", &patch).map(|_| ())
                };
                if r.is_ok() {
                    // A merge patch applied twice is the same as once.
                    let mut once = serde_json::json!({"a": 1, "b": {"c": 2}});
                    merge_patch(&mut once, &patch);
                    let mut twice = once.clone();
                    merge_patch(&mut twice, &patch);
                    assert_eq!(once, twice);
                }
                r.is_err()
            }
            Err(_) => true,
        },
        4 => match serde_json::from_str::<CouponSpec>(text) {
            Ok(spec) => t
                .add_coupon("boss1", &spec.code, spec.campaign.as_deref())
                .is_err(),
            Err(_) => true,
        },
        5 => match serde_json::from_str::<AdSpec>(text) {
            Ok(ad) => match t.add_ad(&ad) {
                Ok(_) => {
                    assert!(t.ads(&ad.partner).expect("ads").contains(&ad));
                    false
                }
                Err(_) => true,
            },
            Err(_) => true,
        },
        6 => {
            for i in 0..3 {
                let m =
                    ManualConversion::sale(&format!("F-{i}"), "1.00", "USD", "haircare", "abc123");
                t.manual(&m).expect("manual");
            }
            let q = ConversionQuery::default();
            if let Ok(page) = t.conversions_page(&q, 2, Some(text)) {
                assert!(page.conversions.len() <= 2);
            }
            return;
        }
        _ => {
            // The CSV writer: any order id and sid the API takes.
            let cell = csv_cell(text);
            assert!(!cell.starts_with(['=', '+', '-', '@', '\t', '\r']));
            let mut m = ManualConversion::sale(text, "1.00", "USD", "haircare", "abc123");
            m.sid = Some(text.chars().rev().collect());
            let Ok(c) = t.manual(&m).or_else(|_| {
                m.sid = None;
                t.manual(&m)
            }) else {
                return;
            };
            let file = conversions_csv(std::slice::from_ref(&c)).expect("csv");
            let mut reader = csv::ReaderBuilder::new().from_reader(file.as_bytes());
            let rows: Vec<csv::StringRecord> = reader
                .records()
                .collect::<Result<_, _>>()
                .expect("parses back");
            assert_eq!(rows.len(), 1);
            assert_eq!(&rows[0][0], csv_cell(&c.order_id).as_ref());
            for value in rows[0].iter() {
                assert!(
                    !value.starts_with(['=', '+', '-', '@', '\t', '\r']),
                    "{value:?}"
                );
            }
            return;
        }
    };
    if refused {
        assert_eq!(snapshot(&t), before, "a refusal changed the program");
    }
}

/// A payout run from fuzzed JSON, its key the text's first characters: refused, it
/// changes nothing; made, it moves exactly its amounts from payable to in payout, a
/// replay answers the same, and the payouts CSV parses back to one row each.
fn payout_run(t: &affiliate_sdk::Tracker, text: &str) {
    use affiliate_sdk::ledger::PayoutRunSpec;
    for i in 0..2 {
        let m = ManualConversion::sale(&format!("P-{i}"), "10.00", "USD", "haircare", "abc123");
        t.manual(&m).expect("manual");
        t.set_status(&m.order_id, affiliate_sdk::Status::Approved)
            .expect("approve");
    }
    let key: String = text.chars().take(24).collect();
    let total = |t: &affiliate_sdk::Tracker| -> (i128, i128) {
        let rows = t.balances(None, None).expect("balances");
        (
            rows.iter().map(|r| r.2.payable).sum(),
            rows.iter().map(|r| r.2.in_payout).sum(),
        )
    };
    let before = total(t);
    let made = serde_json::from_str::<PayoutRunSpec>(text)
        .map_err(|_| ())
        .and_then(|spec| {
            t.create_payouts(&key, &spec)
                .map(|m| (spec, m))
                .map_err(|_| ())
        });
    let Ok((spec, made)) = made else {
        assert_eq!(total(t), before, "a refused run changed the ledger");
        assert!(t.payouts(None, None, None).expect("payouts").is_empty());
        return;
    };
    let paid: i128 = made
        .payouts()
        .iter()
        .map(|p| i128::from(p.amount_minor))
        .sum();
    assert_eq!(total(t), (before.0 - paid, before.1 + paid));
    let again = t.create_payouts(&key, &spec).expect("replay");
    assert_eq!(again.payouts(), made.payouts());
    let file = t.payouts_csv(None, None, None).expect("csv");
    let rows = csv::ReaderBuilder::new()
        .from_reader(file.as_bytes())
        .records()
        .count();
    assert_eq!(rows, made.payouts().len());
}

/// The partner API's bodies from fuzzed JSON, as `abc123` (whose parent is `boss1`):
/// a profile patch, a link request and an ad. A refusal changes nothing; what is
/// accepted stays inside the caller's subtree.
/// A webhook body (`POST /v1/webhooks`): made with a secret that its JSON never shows,
/// or refused with nothing stored; its URL through the destination guard with a fixed
/// resolver: an accepted destination never has an inward address for a host.
fn webhook(t: &affiliate_sdk::Tracker, text: &str) {
    use affiliate_sdk::outbound::{check_destination, is_inward};
    let Ok(req) = serde_json::from_str::<affiliate_sdk::WebhookRequest>(text) else {
        return;
    };
    let public = |_: &str, _: u16| Ok(vec![std::net::IpAddr::from([93, 184, 215, 14])]);
    if let Ok(u) = check_destination(&req.url, false, public) {
        let ip = match u.host() {
            Some(url::Host::Ipv4(v4)) => Some(std::net::IpAddr::V4(v4)),
            Some(url::Host::Ipv6(v6)) => Some(std::net::IpAddr::V6(v6)),
            _ => None,
        };
        assert!(
            !ip.is_some_and(is_inward),
            "an inward address passed: {}",
            req.url
        );
        assert!(matches!(u.scheme(), "http" | "https"));
    }
    match t.create_webhook(&req) {
        Ok(hook) => {
            let json = hook.to_json().to_string();
            assert!(
                !json.contains(hook.secret.expose()),
                "the secret in the JSON"
            );
            assert!(
                !format!("{hook:?}").contains(hook.secret.expose()),
                "the secret in Debug"
            );
            assert_eq!(t.webhook(&hook.id).expect("stored"), hook);
        }
        Err(_) => assert!(t.webhooks().is_empty(), "a refused webhook was stored"),
    }
}

fn partner_api(t: &affiliate_sdk::Tracker, text: &str) {
    // The text as a postback template: accepted, any values leave its host alone.
    if let Ok(t) = affiliate_sdk::outbound::PostbackTemplate::parse(text) {
        let mut v = affiliate_sdk::outbound::PostbackValues::default();
        let host = |u: &str| {
            url::Url::parse(u)
                .ok()
                .map(|u| u.host_str().map(str::to_owned))
        };
        let plain = t.render(&v);
        for m in affiliate_sdk::outbound::MACROS {
            v.set(m, "@evil.example/#?&%{sid}..//\\");
        }
        assert_eq!(
            host(&t.render(&v)),
            host(&plain),
            "a value moved the host: {text}"
        );
    }
    let Ok(json) = serde_json::from_str::<serde_json::Value>(text) else {
        return;
    };
    let me = affiliate_sdk::Code::new("abc123").expect("code");
    let before = snapshot(t);
    if t.update_partner_me(me, &json).is_err() {
        assert_eq!(
            snapshot(t),
            before,
            "a refused profile change changed the program"
        );
    } else {
        let p = t.partner("abc123").expect("still there");
        assert_eq!(p.parent.map(|c| c.to_string()).as_deref(), Some("boss1"));
        assert_eq!(p.status, affiliate_sdk::PartnerStatus::Active);
    }
    let field = |k: &str| json.get(k).and_then(|v| v.as_str());
    if let Ok(url) = t.partner_link(
        me,
        field("campaign").unwrap_or("haircare"),
        field("partner"),
        field("ad"),
        field("sid"),
        field("to"),
    ) {
        assert!(
            url.contains("/abc123"),
            "a link for someone outside the subtree: {url}"
        );
    }
    if let Ok(ad) = serde_json::from_value::<AdSpec>(json.clone())
        && let Ok(made) = t.create_partner_ad(me, ad)
    {
        assert_eq!(made.partner, "abc123");
    }
}
