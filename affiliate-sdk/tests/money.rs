//! Money, currencies, percentages, campaign specs and the partner tree.

mod common;

use std::sync::Arc;

use affiliate_sdk::{
    Campaign, CampaignSpec, Currency, Error, LinkSigner, MemoryStore, Money, MoneyError,
    PartnerSpec, Percent, Tracker, format_minor,
};
use proptest::prelude::*;

#[test]
fn amounts_parse_to_minor_units_by_currency_exponent() {
    for (amount, currency, minor) in [
        ("49.90", "USD", 4990),
        ("49.9", "USD", 4990),
        ("49", "USD", 4900),
        ("0", "USD", 0),
        ("0.01", "EUR", 1),
        ("1000", "JPY", 1000),
        ("1.000", "JPY", 1), // trailing zeros carry no extra precision
        ("1.234", "KWD", 1234),
        ("1.2345", "CLF", 12345),
        ("184467440737095516.15", "USD", u64::MAX),
    ] {
        let m = Money::parse(amount, currency).unwrap();
        assert_eq!(m.minor(), minor, "{amount} {currency}");
        assert_eq!(m.currency().code(), currency);
    }
    assert_eq!(Money::parse("5", "USD").unwrap().to_string(), "5.00");
    assert_eq!(Money::parse("5", "JPY").unwrap().to_string(), "5");
    assert_eq!(Money::parse("0.5", "KWD").unwrap().to_string(), "0.500");
}

#[test]
fn bad_amounts_and_currencies_are_typed_errors() {
    let err = |a: &str, c: &str| match Money::parse(a, c).unwrap_err() {
        Error::Money(e) => e,
        other => panic!("{a} {c}: {other:?}"),
    };
    assert_eq!(err("-1", "USD"), MoneyError::Negative);
    assert_eq!(
        err("1.001", "USD"),
        MoneyError::TooManyDecimals {
            currency: "USD",
            max: 2
        }
    );
    assert_eq!(
        err("1.5", "JPY"),
        MoneyError::TooManyDecimals {
            currency: "JPY",
            max: 0
        }
    );
    assert_eq!(err("184467440737095516.16", "USD"), MoneyError::Overflow);
    assert_eq!(err("99999999999999999999999", "USD"), MoneyError::Overflow);
    for bad in [
        "", ".", "1.", ".5", "1e3", "1,000", " 1", "1 ", "+1", "0x10", "1.2.3", "١", "NaN", "inf",
    ] {
        assert_eq!(err(bad, "USD"), MoneyError::Syntax, "{bad:?}");
    }
    for cur in ["usd", "US", "USDD", "XAU", "XXX", "ABC", "", "€"] {
        assert!(
            matches!(err("1", cur), MoneyError::UnknownCurrency(_)),
            "{cur:?}"
        );
    }
    assert_eq!(Money::parse("1", "XAU").unwrap_err().code(), "malformed");
    let usd = Currency::new("USD").unwrap();
    let eur = Currency::new("EUR").unwrap();
    assert!(
        Money::from_minor(1, usd)
            .checked_add(Money::from_minor(1, eur))
            .is_err()
    );
    assert!(
        Money::from_minor(u64::MAX, usd)
            .checked_add(Money::from_minor(1, usd))
            .is_err()
    );
}

#[test]
fn percentages_round_half_away_from_zero() {
    let usd = Currency::new("USD").unwrap();
    let p = |s: &str| Percent::parse(s).unwrap();
    assert_eq!(p("10").of(Money::from_minor(4990, usd)).minor(), 499);
    assert_eq!(p("10").of(Money::from_minor(5, usd)).minor(), 1); // 0.5 -> 1
    assert_eq!(p("10").of(Money::from_minor(4, usd)).minor(), 0); // 0.4 -> 0
    assert_eq!(p("7.5").of(Money::from_minor(4990, usd)).minor(), 374); // 374.25
    assert_eq!(p("12.5").of(Money::from_minor(4, usd)).minor(), 1); // 0.5
    assert_eq!(
        p("100").of(Money::from_minor(u64::MAX, usd)).minor(),
        u64::MAX
    );
    assert_eq!(p("0.0001").to_string(), "0.0001");
    for bad in ["100.0001", "-1", "1.00001", "", "abc", "1e2", "50%"] {
        assert_eq!(
            Percent::parse(bad).unwrap_err(),
            Error::Money(MoneyError::Percent),
            "{bad:?}"
        );
    }
}

proptest! {
    /// Formatting and parsing round trip for every exponent.
    #[test]
    fn format_then_parse_round_trips(minor in any::<u64>(), cur in prop::sample::select(vec!["USD", "JPY", "KWD", "CLF", "EUR"])) {
        let c = Currency::new(cur).unwrap();
        let text = format_minor(minor.into(), c.exponent());
        prop_assert_eq!(Money::parse(&text, cur).unwrap().minor(), minor);
    }

    /// A percentage never pays more than the amount, and rounding is to the nearest unit.
    #[test]
    fn a_share_is_within_half_a_unit(units in 0u32..=1_000_000, minor in any::<u32>()) {
        let text = format_minor(units.into(), 4);
        let share = Percent::parse(&text).unwrap().of_minor(minor.into());
        let exact = u128::from(minor) * u128::from(units); // in 1e-6 units
        let got = u128::from(share) * 1_000_000;
        prop_assert!(got.abs_diff(exact) <= 500_000);
        prop_assert!(share <= u64::from(minor));
    }
}

#[test]
fn campaign_specs_name_the_bad_field() {
    let good = CampaignSpec::new("haircare", "https://shop.example/hair", "USD");
    assert!(Campaign::new(&good).is_ok());
    let field = |f: &dyn Fn(&mut CampaignSpec)| {
        let mut s = good.clone();
        f(&mut s);
        match Campaign::new(&s).unwrap_err() {
            Error::Malformed { field, .. } => field,
            other => panic!("{other:?}"),
        }
    };
    assert_eq!(field(&|s| s.code = "hair care".into()), "code");
    for dest in [
        "javascript:alert(1)",
        "//evil.example",
        "/relative",
        "https://user:pw@shop.example/",
        "https://shop.example/\r\nSet-Cookie: x",
        "data:text/html,hi",
        "ftp://shop.example/",
        "https://shop.example\\@evil.example/",
    ] {
        assert_eq!(
            field(&|s| s.destination = dest.into()),
            "destination",
            "{dest}"
        );
    }
    assert_eq!(field(&|s| s.currency = "usd".into()), "currency");
    assert_eq!(field(&|s| s.cookie_days = 0), "cookie_days");
    assert_eq!(
        field(&|s| s.sale_percent = Some("101".into())),
        "sale_percent"
    );
    assert_eq!(
        field(&|s| {
            s.sale_percent = Some("10".into());
            s.sale_flat = Some("1".into());
        }),
        "sale_percent"
    );
    assert_eq!(field(&|s| s.sale_flat = Some("1.001".into())), "sale_flat");
    assert_eq!(field(&|s| s.lead_flat = Some("-2".into())), "lead_flat");
    assert_eq!(
        field(&|s| s.override_percents = vec!["10".into(), "x".into()]),
        "override_percents"
    );
    let toml_like: CampaignSpec = serde_json::from_str(
        r#"{"code":"c","destination":"https://s.example/","currency":"EUR","attribution":"first"}"#,
    )
    .unwrap();
    let c = Campaign::new(&toml_like).unwrap();
    assert_eq!(
        (c.cookie_days(), c.attribution()),
        (30, affiliate_sdk::Attribution::First)
    );
    assert!(
        serde_json::from_str::<CampaignSpec>(
            r#"{"code":"c","destination":"https://s.example/","currency":"EUR","typo":1}"#
        )
        .is_err()
    );
}

#[test]
fn partners_refuse_unknown_parents_cycles_and_shared_coupons() {
    let signer = LinkSigner::new(common::vector_keyring(), "https://t.example/go").unwrap();
    let t = Tracker::new(signer, Arc::new(MemoryStore::new()));
    let spec = |code: &str, parent: Option<&str>, coupons: &[&str]| {
        let mut v = PartnerSpec::default();
        v.code = code.into();
        v.parent = parent.map(Into::into);
        v.coupons = coupons.iter().map(|c| (*c).into()).collect();
        v
    };
    assert_eq!(
        t.add_partner(&spec("a", Some("ghost"), &[]))
            .unwrap_err()
            .code(),
        "unknown_partner"
    );
    assert!(t.partner("a").is_none(), "a refused partner is not added");
    t.add_partner(&spec("a", None, &["SAVE10"])).unwrap();
    t.add_partner(&spec("b", Some("a"), &[])).unwrap();
    t.add_partner(&spec("c", Some("b"), &[])).unwrap();
    // a -> c would close a -> c -> b -> a.
    assert_eq!(
        t.add_partner(&spec("a", Some("c"), &[]))
            .unwrap_err()
            .code(),
        "malformed"
    );
    assert_eq!(
        t.add_partner(&spec("a", Some("a"), &[]))
            .unwrap_err()
            .code(),
        "malformed"
    );
    assert_eq!(t.partner("a").unwrap().parent, None);
    // Coupons are case-insensitive and unique across partners.
    assert!(t.add_partner(&spec("b", Some("a"), &["save10"])).is_err());
    assert!(t.add_partner(&spec("d", None, &["bad coupon"])).is_err());
    // Adding a partner again adds coupons; it keeps those it holds until one is
    // taken away, and then another partner may have it.
    t.add_partner(&spec("a", None, &["SAVE20"])).unwrap();
    let held: Vec<String> = t
        .partner("a")
        .unwrap()
        .coupons
        .iter()
        .map(ToString::to_string)
        .collect();
    assert_eq!(held, ["SAVE10", "SAVE20"]);
    assert!(t.add_partner(&spec("b", Some("a"), &["save10"])).is_err());
    assert_eq!(t.remove_coupon("save10").unwrap().partner.as_str(), "a");
    assert_eq!(t.remove_coupon("save10").unwrap_err().code(), "not_found");
    t.add_partner(&spec("b", Some("a"), &["save10"])).unwrap();
    assert_eq!(t.partner("b").unwrap().coupons[0].as_str(), "SAVE10");
}
