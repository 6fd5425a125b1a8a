//! Conversions as every endpoint and binding shows them, and the answers about them.

use serde::Serialize;

use crate::click_id::ClickId;
use crate::code::{Code, Sid};
use crate::error::Error;
use crate::money::Money;
use crate::records::{Channel, Conversion, Evidence, Status};

/// One level's commission on a conversion.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema), schema(as = Commission))]
pub struct CommissionAnswer {
    #[cfg_attr(feature = "openapi", schema(value_type = String))]
    pub partner: Code,
    /// 0 for the partner credited, 1 for its parent's override, …
    pub level: u32,
    #[cfg_attr(feature = "openapi", schema(example = "4.99"))]
    pub amount: String,
}

/// A conversion as every endpoint shows it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema), schema(as = Conversion))]
pub struct ConversionAnswer {
    pub order_id: String,
    #[cfg_attr(feature = "openapi", schema(value_type = crate::formats::Kind))]
    pub kind: String,
    #[cfg_attr(feature = "openapi", schema(example = "49.90"))]
    pub amount: String,
    #[cfg_attr(feature = "openapi", schema(example = "USD"))]
    pub currency: String,
    #[cfg_attr(feature = "openapi", schema(value_type = String))]
    pub campaign: Code,
    #[cfg_attr(feature = "openapi", schema(value_type = String))]
    pub partner: Code,
    #[cfg_attr(feature = "openapi", schema(value_type = Option<String>))]
    pub ad: Option<Code>,
    #[cfg_attr(feature = "openapi", schema(value_type = Option<String>))]
    pub sid: Option<Sid>,
    #[cfg_attr(feature = "openapi", schema(value_type = Option<String>))]
    pub click_id: Option<ClickId>,
    pub status: Status,
    /// A replay of an order id recorded before.
    pub duplicate: bool,
    /// This record replaced an earlier one of the order id.
    pub replaced: bool,
    pub commissions: Vec<CommissionAnswer>,
    pub channel: Channel,
    pub evidence: Evidence,
    pub customer_id: Option<String>,
    pub converted_at: u64,
    /// What the refunds total (`"0.00"` when none).
    #[cfg_attr(feature = "openapi", schema(example = "30.00"))]
    pub refunded: String,
    /// The refunds, oldest first.
    pub refunds: Vec<RefundAnswer>,
}

/// A refund of part or all of an order.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct RefundAnswer {
    /// The merchant's refund id.
    pub refund_id: String,
    #[cfg_attr(feature = "openapi", schema(example = "30.00"))]
    pub amount: String,
    /// When it was recorded, Unix seconds.
    pub at: u64,
}

impl From<&Conversion> for ConversionAnswer {
    fn from(c: &Conversion) -> ConversionAnswer {
        ConversionAnswer {
            order_id: c.order_id.clone(),
            kind: c.kind.as_str().to_owned(),
            amount: c.amount.to_string(),
            currency: c.amount.currency().code().to_owned(),
            campaign: c.link.campaign,
            partner: c.link.partner,
            ad: c.link.ad,
            sid: c.link.sid,
            click_id: c.click_id,
            status: c.status,
            duplicate: c.duplicate,
            replaced: c.replaced,
            commissions: c
                .commissions
                .iter()
                .map(|m| CommissionAnswer {
                    partner: m.partner,
                    level: m.level.into(),
                    amount: m.amount.to_string(),
                })
                .collect(),
            channel: c.channel,
            evidence: c.evidence,
            customer_id: c.customer_id.clone(),
            converted_at: c.converted_at,
            refunded: Money::from_minor(c.refunded_minor(), c.amount.currency()).to_string(),
            refunds: c
                .refunds
                .iter()
                .map(|r| RefundAnswer {
                    refund_id: r.id.clone(),
                    amount: r.amount.to_string(),
                    at: r.at,
                })
                .collect(),
        }
    }
}

impl Conversion {
    /// The conversion as every API shows it ([`ConversionAnswer`]): `order_id, kind,
    /// amount, currency, campaign, partner, ad, sid, click_id, status, duplicate,
    /// replaced, commissions: [{partner, level, amount}], channel, evidence,
    /// customer_id, converted_at` (Unix seconds). Amounts are decimal strings.
    #[must_use]
    pub fn answer(&self) -> ConversionAnswer {
        ConversionAnswer::from(self)
    }

    /// [`Conversion::answer`] as JSON.
    ///
    /// ```
    /// # use affiliate_sdk::*;
    /// # use std::sync::Arc;
    /// # let tracker = Tracker::new(LinkSigner::new(Keyring::generate()?, "https://t.example/go")?,
    /// #     Arc::new(MemoryStore::new()));
    /// # let mut c = CampaignSpec::new("haircare", "https://shop.example/", "USD");
    /// # c.sale_percent = Some("10".into());
    /// # tracker.add_campaign(&c)?;
    /// # tracker.add_partner(&PartnerSpec::new("abc123"))?;
    /// let mut m = ManualConversion::default();
    /// (m.order_id, m.amount, m.currency, m.kind) = ("A-1".into(), "49.90".into(), "USD".into(), "sale".into());
    /// (m.campaign, m.partner) = ("haircare".into(), "abc123".into());
    /// let json = tracker.manual(&m)?.to_json();
    /// assert_eq!(json["amount"], "49.90");
    /// assert_eq!(json["commissions"][0]["amount"], "4.99");
    /// assert_eq!(json["ad"], serde_json::Value::Null);
    /// # Ok::<(), affiliate_sdk::Error>(())
    /// ```
    #[must_use]
    pub fn to_json(&self) -> serde_json::Value {
        super::to_value(&self.answer())
    }
}

/// A conversion with the records it replaced, oldest first.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ConversionWithHistory {
    #[serde(flatten)]
    pub conversion: ConversionAnswer,
    pub replaced_records: Vec<ConversionAnswer>,
}

/// A page of conversions, newest first.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ConversionPage {
    pub conversions: Vec<ConversionAnswer>,
    /// Pass as `cursor` for the next page; `null` on the last.
    pub next_cursor: Option<String>,
}

/// The beacon's short answer (the public endpoint shows nothing more).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct BeaconAnswer {
    pub order_id: String,
    pub status: Status,
    pub duplicate: bool,
    pub replaced: bool,
}

impl From<&Conversion> for BeaconAnswer {
    fn from(c: &Conversion) -> BeaconAnswer {
        BeaconAnswer {
            order_id: c.order_id.clone(),
            status: c.status,
            duplicate: c.duplicate,
            replaced: c.replaced,
        }
    }
}

/// What went wrong: a stable code and a message for people.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ErrorDetail {
    /// `malformed`, `unauthorized`, `forbidden`, `not_found`, `conflict`,
    /// `invalid_transition`, `managed_by_config`, `invalid_signature`, `expired`,
    /// `unknown_campaign`, `unknown_partner`, `not_attributable`, `store_unavailable`, …
    #[cfg_attr(feature = "openapi", schema(example = "malformed"))]
    pub code: String,
    pub message: String,
}

impl From<&Error> for ErrorDetail {
    fn from(e: &Error) -> ErrorDetail {
        ErrorDetail {
            code: e.code().to_owned(),
            message: e.to_string(),
        }
    }
}

/// One order's outcome: its new status, or why not.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct BulkStatusResult {
    pub order_id: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub status: Option<Status>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<ErrorDetail>,
}

/// The outcomes, in the order given.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct BulkStatusAnswer {
    pub results: Vec<BulkStatusResult>,
}
