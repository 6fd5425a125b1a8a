//! The partner API: a partner's profile, links, ads and conversions.

use serde::Serialize;
use utoipa::ToSchema;

use super::{CodeText, Day, HttpUrl, Sid};

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
