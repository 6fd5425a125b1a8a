//! The requests that report a conversion: a server postback ([`ConversionRequest`]), a
//! browser's report ([`BrowserConversion`]) and a conversion entered by hand
//! ([`ManualConversion`]).

use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};
use crate::money::Money;
use crate::records::Kind;

/// The evidence is one or more of `token`, `click_id` and `coupon`. As JSON (the
/// postback body) an unknown field is an error, so a misspelt evidence field is not
/// silently ignored.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
#[non_exhaustive]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema), schema(as = PostbackRequest, description = "A server postback: the order and one or more pieces of evidence (`token`, `click_id`, `coupon`); an unknown member is refused."))]
pub struct ConversionRequest {
    /// The merchant's order id: 1–128 printable ASCII characters, no spaces, quotes or
    /// backslashes.
    #[cfg_attr(feature = "openapi", schema(value_type = crate::formats::Id))]
    pub order_id: String,
    /// Decimal amount (`"49.90"`). Empty (left out): 0 for a lead or a named
    /// action, `malformed` for a sale.
    #[cfg_attr(feature = "openapi", schema(value_type = crate::formats::Amount))]
    pub amount: String,
    /// ISO 4217 code.
    #[cfg_attr(feature = "openapi", schema(value_type = crate::formats::Currency))]
    pub currency: String,
    /// `sale`, `lead` or an action name.
    #[serde(default = "default_kind")]
    #[cfg_attr(feature = "openapi", schema(value_type = crate::formats::Kind))]
    pub kind: String,
    /// A session token.
    #[serde(default)]
    #[cfg_attr(feature = "openapi", schema(nullable = false))]
    pub token: Option<String>,
    /// A click id.
    #[serde(default)]
    #[cfg_attr(feature = "openapi", schema(nullable = false))]
    pub click_id: Option<String>,
    /// A coupon code.
    #[serde(default)]
    #[cfg_attr(feature = "openapi", schema(value_type = Option<crate::formats::CodeText>, nullable = false))]
    pub coupon: Option<String>,
    /// The merchant's customer id, for recurring commissions.
    #[serde(default)]
    #[cfg_attr(feature = "openapi", schema(value_type = Option<crate::formats::Id>, nullable = false))]
    pub customer_id: Option<String>,
    /// The campaign, needed with coupon evidence when several campaigns exist.
    #[serde(default)]
    #[cfg_attr(feature = "openapi", schema(value_type = Option<crate::formats::CodeText>, nullable = false))]
    pub campaign: Option<String>,
}

fn default_kind() -> String {
    "sale".into()
}

impl ConversionRequest {
    /// A sale of `amount` in `currency` with no evidence yet.
    #[must_use]
    pub fn sale(order_id: &str, amount: &str, currency: &str) -> ConversionRequest {
        ConversionRequest {
            order_id: order_id.into(),
            amount: amount.into(),
            currency: currency.into(),
            kind: default_kind(),
            ..ConversionRequest::default()
        }
    }
}

/// A conversion reported by a browser through the public pixel or beacon: strings as
/// they arrived. The session token is its only evidence; `osig` is the merchant's
/// order signature ([`Keyring::sign_order`](crate::Keyring::sign_order)). Unknown
/// fields are ignored (a pixel URL may carry a cache-buster).
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[non_exhaustive]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema), schema(as = BeaconRequest, description = "The snippet's beacon (`POST /v1/conversions`), any content type; unknown members are ignored (a pixel URL may carry a cache-buster)."))]
pub struct BrowserConversion {
    /// The merchant's order id.
    #[cfg_attr(feature = "openapi", schema(value_type = crate::formats::Id))]
    pub order_id: String,
    /// Decimal amount. Empty (left out): 0 for a lead or a named action,
    /// `malformed` for a sale.
    #[cfg_attr(feature = "openapi", schema(value_type = crate::formats::Amount))]
    pub amount: String,
    /// ISO 4217 code.
    #[cfg_attr(feature = "openapi", schema(value_type = crate::formats::Currency))]
    pub currency: String,
    /// `sale`, `lead` or an action name.
    #[serde(default = "default_kind")]
    #[cfg_attr(feature = "openapi", schema(value_type = crate::formats::Kind))]
    pub kind: String,
    /// The session token (from the body, the query or the visitor's cookie).
    #[serde(default)]
    #[cfg_attr(feature = "openapi", schema(nullable = false))]
    pub token: Option<String>,
    /// The merchant's order signature, `<kid>.<tag>`.
    #[serde(default)]
    #[cfg_attr(feature = "openapi", schema(nullable = false))]
    pub osig: Option<String>,
}

impl BrowserConversion {
    /// A sale of `amount` in `currency` reported by a browser, with no token or
    /// signature yet.
    #[must_use]
    pub fn sale(order_id: &str, amount: &str, currency: &str) -> BrowserConversion {
        BrowserConversion {
            order_id: order_id.into(),
            amount: amount.into(),
            currency: currency.into(),
            kind: default_kind(),
            ..BrowserConversion::default()
        }
    }
}

/// A conversion entered by hand for a named campaign and partner.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
#[non_exhaustive]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema), schema(as = ManualRequest, description = "A conversion entered by hand for a named campaign and partner."))]
pub struct ManualConversion {
    /// The merchant's order id.
    #[cfg_attr(feature = "openapi", schema(value_type = crate::formats::Id))]
    pub order_id: String,
    /// Decimal amount. Empty (left out): 0 for a lead or a named action,
    /// `malformed` for a sale.
    #[cfg_attr(feature = "openapi", schema(value_type = crate::formats::Amount))]
    pub amount: String,
    /// ISO 4217 code.
    #[cfg_attr(feature = "openapi", schema(value_type = crate::formats::Currency))]
    pub currency: String,
    /// `sale`, `lead` or an action name.
    #[serde(default = "default_kind")]
    #[cfg_attr(feature = "openapi", schema(value_type = crate::formats::Kind))]
    pub kind: String,
    /// The campaign credited.
    #[cfg_attr(feature = "openapi", schema(value_type = crate::formats::CodeText))]
    pub campaign: String,
    /// The partner credited.
    #[cfg_attr(feature = "openapi", schema(value_type = crate::formats::CodeText))]
    pub partner: String,
    /// The ad, if any.
    #[serde(default)]
    #[cfg_attr(feature = "openapi", schema(value_type = Option<crate::formats::CodeText>, nullable = false))]
    pub ad: Option<String>,
    /// The sid, if any.
    #[serde(default)]
    #[cfg_attr(feature = "openapi", schema(value_type = Option<crate::formats::Sid>, nullable = false))]
    pub sid: Option<String>,
    /// The merchant's customer id.
    #[serde(default)]
    #[cfg_attr(feature = "openapi", schema(value_type = Option<crate::formats::Id>, nullable = false))]
    pub customer_id: Option<String>,
}

impl ManualConversion {
    /// A sale of `amount` `currency` credited to `partner` in `campaign`.
    #[must_use]
    pub fn sale(
        order_id: &str,
        amount: &str,
        currency: &str,
        campaign: &str,
        partner: &str,
    ) -> ManualConversion {
        ManualConversion {
            order_id: order_id.into(),
            amount: amount.into(),
            currency: currency.into(),
            kind: "sale".into(),
            campaign: campaign.into(),
            partner: partner.into(),
            ..ManualConversion::default()
        }
    }
}

/// An order's amount: `amount` in `currency`; left out (empty), 0 for a lead or a named
/// action and `malformed` for a sale. Every skin leaves the decision here.
pub fn order_amount(amount: &str, currency: &str, kind: &Kind) -> Result<Money> {
    match (amount, kind) {
        ("", Kind::Sale) => Err(Error::malformed(
            "amount",
            "required for a sale (a lead or a named action may leave it out: 0)",
        )),
        ("", _) => Money::parse("0", currency),
        (text, _) => Money::parse_bounded(text, currency, "amount"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_left_out_amount_is_zero_for_a_lead_or_an_action_and_refused_for_a_sale() {
        assert_eq!(order_amount("", "USD", &Kind::Lead).unwrap().minor(), 0);
        let signup = Kind::Action(crate::code::Code::new("signup").unwrap());
        assert_eq!(order_amount("", "USD", &signup).unwrap().minor(), 0);
        let e = order_amount("", "USD", &Kind::Sale).unwrap_err();
        assert_eq!(e.code(), "malformed");
        assert!(e.to_string().contains("required for a sale"), "{e}");
        assert_eq!(
            order_amount("49.90", "USD", &Kind::Sale).unwrap().minor(),
            4990
        );
    }

    #[test]
    fn an_amount_above_the_maximum_is_refused_at_the_door() {
        let max = order_amount("1000000000.00", "USD", &Kind::Sale).unwrap();
        assert_eq!(max.minor(), 100_000_000_000);
        for (amount, currency) in [
            ("1000000000.01", "USD"),
            ("1000000001", "JPY"),
            ("1000000000.001", "KWD"),
            ("184467440737095516", "USD"),
        ] {
            let e = order_amount(amount, currency, &Kind::Sale).unwrap_err();
            assert_eq!(e.code(), "malformed", "{amount} {currency}");
            assert!(e.to_string().contains("at most 1000000000"), "{e}");
        }
        assert_eq!(
            order_amount("1000000000", "JPY", &Kind::Lead)
                .unwrap()
                .minor(),
            1_000_000_000
        );
    }
}
