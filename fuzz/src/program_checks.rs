//! The program's parsers, fuzzed through the tracker as the merchant API and the
//! Python binding call it: partner, campaign, coupon and ad JSON, merge patches, the
//! conversion listing's cursor and the CSV writer. A refusal is a typed error and
//! changes nothing; what is accepted reads back as it was given; every CSV file parses
//! back to its rows and no cell starts like a formula.

use affiliate_sdk::{
    AdSpec, CampaignSpec, ConversionQuery, CouponSpec, ManualConversion, PartnerSpec,
    conversions_csv, csv_cell, merge_patch,
};

fn snapshot(t: &affiliate_sdk::Tracker) -> String {
    let partners: Vec<_> = t.partners().iter().map(|p| t.partner_json(p)).collect();
    let campaigns: Vec<_> = t.campaigns().iter().map(|c| t.campaign_json(c)).collect();
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
    let before = snapshot(&t);
    let refused = match which % 8 {
        0 => match serde_json::from_str::<PartnerSpec>(text) {
            Ok(spec) => match t.create_partner(&spec) {
                Ok(p) => {
                    let json = t.partner_json(&p);
                    assert_eq!(json["code"], spec.code.as_str());
                    assert_eq!(json["name"].as_str(), spec.name.as_deref());
                    assert_eq!(json["parent"].as_str(), spec.parent.as_deref());
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
