//! The requests that report a conversion: a server postback ([`ConversionRequest`]), a
//! browser's report ([`BrowserConversion`]) and a conversion entered by hand
//! ([`ManualConversion`]).

use serde::{Deserialize, Serialize};

/// The evidence is one or more of `token`, `click_id` and `coupon`. As JSON (the
/// postback body) an unknown field is an error, so a misspelt evidence field is not
/// silently ignored.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
#[non_exhaustive]
pub struct ConversionRequest {
    /// The merchant's order id: 1–128 printable ASCII characters, no spaces, quotes or
    /// backslashes.
    pub order_id: String,
    /// Decimal amount (`"49.90"`); `"0"` for a lead without value.
    pub amount: String,
    /// ISO 4217 code.
    pub currency: String,
    /// `sale`, `lead` or an action name.
    #[serde(default = "default_kind")]
    pub kind: String,
    /// A session token.
    #[serde(default)]
    pub token: Option<String>,
    /// A click id.
    #[serde(default)]
    pub click_id: Option<String>,
    /// A coupon code.
    #[serde(default)]
    pub coupon: Option<String>,
    /// The merchant's customer id, for recurring commissions.
    #[serde(default)]
    pub customer_id: Option<String>,
    /// The campaign, needed with coupon evidence when several campaigns exist.
    #[serde(default)]
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
pub struct BrowserConversion {
    /// The merchant's order id.
    pub order_id: String,
    /// Decimal amount.
    pub amount: String,
    /// ISO 4217 code.
    pub currency: String,
    /// `sale`, `lead` or an action name.
    #[serde(default = "default_kind")]
    pub kind: String,
    /// The session token (from the body, the query or the visitor's cookie).
    #[serde(default)]
    pub token: Option<String>,
    /// The merchant's order signature, `<kid>.<tag>`.
    #[serde(default)]
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
pub struct ManualConversion {
    /// The merchant's order id.
    pub order_id: String,
    /// Decimal amount.
    pub amount: String,
    /// ISO 4217 code.
    pub currency: String,
    /// `sale`, `lead` or an action name.
    #[serde(default = "default_kind")]
    pub kind: String,
    /// The campaign credited.
    pub campaign: String,
    /// The partner credited.
    pub partner: String,
    /// The ad, if any.
    #[serde(default)]
    pub ad: Option<String>,
    /// The sid, if any.
    #[serde(default)]
    pub sid: Option<String>,
    /// The merchant's customer id.
    #[serde(default)]
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
