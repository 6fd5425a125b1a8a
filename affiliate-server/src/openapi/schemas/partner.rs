//! The partner API: a partner's profile, links, ads and conversions.

use serde::Serialize;
use utoipa::ToSchema;

use super::{Campaign, CodeText, ConversionStatus, Day, HttpUrl, Kind, PartnerStatus, Sid};

/// A partner's own profile.
#[derive(ToSchema, Serialize)]
pub struct PartnerMe {
    pub code: String,
    pub name: Option<String>,
    pub parent: Option<String>,
    pub status: PartnerStatus,
    pub email: Option<String>,
    pub payout_details: Option<String>,
    pub postback_url: Option<String>,
    /// Its direct children's codes.
    pub children: Vec<String>,
    /// The active campaigns and their commission plans.
    pub campaigns: Vec<Campaign>,
}

/// What a partner may change of its profile (a JSON merge patch).
#[derive(ToSchema, Serialize)]
pub struct PartnerMePatch {
    pub name: Option<String>,
    pub payout_details: Option<String>,
    pub postback_url: Option<String>,
}

/// A link a partner asks for: for itself (no `partner`) or a descendant.
#[derive(ToSchema, Serialize)]
#[serde(deny_unknown_fields)]
pub struct PartnerLinkRequest {
    pub campaign: CodeText,
    #[schema(nullable = false)]
    pub partner: Option<CodeText>,
    #[schema(nullable = false)]
    pub ad: Option<CodeText>,
    #[schema(nullable = false)]
    pub sid: Option<Sid>,
    #[schema(nullable = false)]
    pub to: Option<HttpUrl>,
}

/// What an ad is.
#[derive(ToSchema, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum MediaType {
    Text,
    Image,
    Video,
    Email,
    Social,
    Other,
}

/// An ad (a creative) of a partner.
#[derive(ToSchema, Serialize)]
pub struct Ad {
    pub code: CodeText,
    #[schema(nullable = false)]
    pub partner: Option<String>,
    pub name: String,
    pub description: Option<String>,
    #[schema(nullable = false)]
    pub media_type: Option<MediaType>,
    pub starts_on: Option<Day>,
}

/// A partner's ads.
#[derive(ToSchema, Serialize)]
pub struct AdList {
    pub ads: Vec<Ad>,
}

/// A conversion as a partner sees it: never the customer; `commission` is the
/// caller's own.
#[derive(ToSchema, Serialize)]
pub struct PartnerConversion {
    pub order_id: String,
    pub converted_at: u64,
    pub campaign: String,
    pub partner: String,
    pub ad: Option<String>,
    pub sid: Option<String>,
    pub kind: Kind,
    pub amount: String,
    pub currency: String,
    pub status: ConversionStatus,
    pub commission: String,
}

/// A page of the subtree's conversions, newest first.
#[derive(ToSchema, Serialize)]
pub struct PartnerConversionPage {
    pub conversions: Vec<PartnerConversion>,
    pub next_cursor: Option<String>,
}
