//! The program as every API shows it: partners, coupons, keys, a partner's own view.

use serde::Serialize;

use crate::attribution::{AdSpec, CampaignSpec, Coupon, Partner, PartnerStatus};
use crate::code::{Code, Sid};
use crate::money::format_minor;
use crate::portal::PartnerKey;
use crate::records::{Conversion, Status};

/// A coupon as a partner's record shows it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct PartnerCoupon {
    #[cfg_attr(feature = "openapi", schema(value_type = String))]
    pub code: Code,
    #[cfg_attr(feature = "openapi", schema(value_type = Option<String>))]
    pub campaign: Option<Code>,
}

/// A partner.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema), schema(as = Partner))]
pub struct PartnerAnswer {
    #[cfg_attr(feature = "openapi", schema(value_type = String, example = "abc123"))]
    pub code: Code,
    #[cfg_attr(feature = "openapi", schema(value_type = Option<String>))]
    pub parent: Option<Code>,
    pub status: PartnerStatus,
    pub name: Option<String>,
    pub email: Option<String>,
    pub payout_details: Option<String>,
    pub postback_url: Option<String>,
    pub coupons: Vec<PartnerCoupon>,
    pub managed_by_config: bool,
}

impl PartnerAnswer {
    /// `partner` with its `coupons` and whether the configuration file manages it.
    #[must_use]
    pub fn new(partner: &Partner, coupons: &[Coupon], managed_by_config: bool) -> PartnerAnswer {
        PartnerAnswer {
            code: partner.code,
            parent: partner.parent,
            status: partner.status,
            name: partner.name.clone(),
            email: partner.email.clone(),
            payout_details: partner.payout_details.clone(),
            postback_url: partner.postback_url.clone(),
            coupons: coupons
                .iter()
                .map(|c| PartnerCoupon {
                    code: c.code,
                    campaign: c.campaign,
                })
                .collect(),
            managed_by_config,
        }
    }
}

/// A page of partners by code.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct PartnerPage {
    pub partners: Vec<PartnerAnswer>,
    pub next_cursor: Option<String>,
}

/// A partner's coupon.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema), schema(as = Coupon))]
pub struct CouponAnswer {
    #[cfg_attr(feature = "openapi", schema(value_type = String))]
    pub code: Code,
    #[cfg_attr(feature = "openapi", schema(value_type = String))]
    pub partner: Code,
    #[cfg_attr(feature = "openapi", schema(value_type = Option<String>))]
    pub campaign: Option<Code>,
}

impl Coupon {
    /// The coupon as the API shows it: `{code, partner, campaign}`.
    #[must_use]
    pub fn answer(&self) -> CouponAnswer {
        CouponAnswer {
            code: self.code,
            partner: self.partner,
            campaign: self.campaign,
        }
    }

    /// [`Coupon::answer`] as JSON.
    #[must_use]
    pub fn to_json(&self) -> serde_json::Value {
        super::to_value(&self.answer())
    }
}

/// A key's record (a partner key's or a postback key's): never the key, nor its
/// digest.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct KeyRecord {
    #[cfg_attr(feature = "openapi", schema(example = "pkid_…"))]
    pub id: String,
    /// A partner key's partner.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "openapi", schema(value_type = Option<String>))]
    pub partner: Option<Code>,
    /// A postback key's label.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub label: Option<String>,
    pub created: u64,
}

impl PartnerKey {
    /// The key as the API lists it: `{id, partner, created}` (the digest stays inside).
    #[must_use]
    pub fn answer(&self) -> KeyRecord {
        KeyRecord {
            id: self.id.clone(),
            partner: Some(self.partner),
            label: None,
            created: self.created,
        }
    }

    /// [`PartnerKey::answer`] as JSON.
    #[must_use]
    pub fn to_json(&self) -> serde_json::Value {
        super::to_value(&self.answer())
    }
}

/// Key records.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct KeyList {
    pub keys: Vec<KeyRecord>,
}

/// A partner's own profile.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct PartnerMe {
    #[cfg_attr(feature = "openapi", schema(value_type = String))]
    pub code: Code,
    pub name: Option<String>,
    #[cfg_attr(feature = "openapi", schema(value_type = Option<String>))]
    pub parent: Option<Code>,
    pub status: PartnerStatus,
    pub email: Option<String>,
    pub payout_details: Option<String>,
    pub postback_url: Option<String>,
    /// Its direct children's codes.
    #[cfg_attr(feature = "openapi", schema(value_type = Vec<String>))]
    pub children: Vec<Code>,
    /// The active campaigns and their commission plans (a campaign's fields without
    /// the merchant's own: `status`, `browser_conversions`, `max_browser_amount`).
    #[cfg_attr(feature = "openapi", schema(schema_with = campaigns_schema))]
    pub campaigns: Vec<serde_json::Value>,
}

/// `PartnerMe::campaigns`: an array of campaign specs (the `CampaignRequest` schema:
/// [`CampaignSpec`]'s members, a few left out).
#[cfg(feature = "openapi")]
fn campaigns_schema() -> utoipa::openapi::Array {
    utoipa::openapi::ArrayBuilder::new()
        .items(utoipa::openapi::Ref::from_schema_name("CampaignRequest"))
        .description(Some(
            "The active campaigns and their commission plans (a campaign's fields without \
             the merchant's own: `status`, `browser_conversions`, `max_browser_amount`).",
        ))
        .build()
}

/// A conversion as a partner sees it: never the customer; `commission` is the
/// caller's own.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct PartnerConversion {
    pub order_id: String,
    pub converted_at: u64,
    #[cfg_attr(feature = "openapi", schema(value_type = String))]
    pub campaign: Code,
    #[cfg_attr(feature = "openapi", schema(value_type = String))]
    pub partner: Code,
    #[cfg_attr(feature = "openapi", schema(value_type = Option<String>))]
    pub ad: Option<Code>,
    #[cfg_attr(feature = "openapi", schema(value_type = Option<String>))]
    pub sid: Option<Sid>,
    #[cfg_attr(feature = "openapi", schema(value_type = crate::formats::Kind))]
    pub kind: String,
    pub amount: String,
    pub currency: String,
    pub status: Status,
    pub commission: String,
}

impl PartnerConversion {
    /// `c` as partner `caller` sees it.
    #[must_use]
    pub fn new(c: &Conversion, caller: Code) -> PartnerConversion {
        let currency = c.amount.currency();
        let mine: u128 = c
            .commissions
            .iter()
            .filter(|k| k.partner == caller)
            .map(|k| u128::from(k.amount.minor()))
            .sum();
        PartnerConversion {
            order_id: c.order_id.clone(),
            converted_at: c.converted_at,
            campaign: c.link.campaign,
            partner: c.link.partner,
            ad: c.link.ad,
            sid: c.link.sid,
            kind: c.kind.as_str().to_owned(),
            amount: c.amount.to_string(),
            currency: currency.code().to_owned(),
            status: c.status,
            commission: format_minor(mine, currency.exponent()),
        }
    }
}

/// A page of the subtree's conversions, newest first.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct PartnerConversionPage {
    pub conversions: Vec<PartnerConversion>,
    pub next_cursor: Option<String>,
}

/// A new key (`pk_…` or `pbk_…`): shown in this answer only.
#[derive(Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct KeyCreated {
    #[serde(flatten)]
    pub record: KeyRecord,
    #[cfg_attr(feature = "openapi", schema(example = "pk_…"))]
    pub key: String,
}

impl std::fmt::Debug for KeyCreated {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("KeyCreated")
            .field("record", &self.record)
            .field("key", &"…")
            .finish()
    }
}

/// A campaign as the API shows it: its spec (amounts as decimal strings) and whether
/// the configuration file manages it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct CampaignAnswer {
    #[serde(flatten)]
    pub spec: CampaignSpec,
    /// An entry of the configuration file, not changeable through the API.
    pub managed_by_config: bool,
}

/// The spec's members (without its refusal of others: an answer has one more) and
/// `managed_by_config`, as [`CampaignAnswer`] writes them.
#[cfg(feature = "openapi")]
impl utoipa::PartialSchema for CampaignAnswer {
    fn schema() -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
        use utoipa::openapi::RefOr;
        use utoipa::openapi::schema::{ObjectBuilder, Schema, Type};
        let mut schema = <CampaignSpec as utoipa::PartialSchema>::schema();
        if let RefOr::T(Schema::Object(o)) = &mut schema {
            o.additional_properties = None;
            o.description = Some(
                "A campaign as the API shows it: the members of a `[[campaign]]` entry (amounts as decimal strings) and `managed_by_config`."
                    .into(),
            );
            let managed = ObjectBuilder::new()
                .schema_type(Type::Boolean)
                .read_only(true)
                .description(Some(
                    "An entry of the configuration file, not changeable through the API.",
                ));
            o.properties
                .insert("managed_by_config".into(), managed.into());
            o.required.push("managed_by_config".into());
        }
        schema
    }
}

#[cfg(feature = "openapi")]
impl utoipa::ToSchema for CampaignAnswer {
    fn name() -> std::borrow::Cow<'static, str> {
        "Campaign".into()
    }

    fn schemas(
        schemas: &mut Vec<(
            String,
            utoipa::openapi::RefOr<utoipa::openapi::schema::Schema>,
        )>,
    ) {
        <CampaignSpec as utoipa::ToSchema>::schemas(schemas);
    }
}

/// Campaigns by code.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct CampaignList {
    pub campaigns: Vec<CampaignAnswer>,
}

/// A partner's ads.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct AdList {
    #[cfg_attr(feature = "openapi", schema(value_type = Vec<crate::attribution::AdSpec>))]
    pub ads: Vec<AdSpec>,
}

/// A signed link, or a portal sign-in link.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema), schema(as = Url))]
pub struct UrlAnswer {
    #[cfg_attr(
        feature = "openapi",
        schema(example = "https://t.shop.example/go/spring/abc123?sig=k1.…")
    )]
    pub url: String,
}
