//! The program: campaigns, partners, coupons, links, and the keys the merchant hands out.

use serde::Serialize;
use utoipa::ToSchema;

use super::{Amount, CodeText, Currency, HttpUrl, PartnerStatus, Sid};

/// Which click a conversion credits.
#[derive(ToSchema, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Attribution {
    Last,
    First,
}

/// Which browser conversions a campaign counts.
#[derive(ToSchema, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum BrowserConversions {
    Signed,
    Open,
    Off,
}

/// Whether a campaign runs.
#[derive(ToSchema, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum CampaignStatus {
    Active,
    Paused,
}

/// Which clicks pay a per-click commission.
#[derive(ToSchema, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ClickCommission {
    Unique,
    Every,
}

/// Whether the click's cookie waits for the visitor's consent.
#[derive(ToSchema, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum CookieConsent {
    NotRequired,
    Required,
}

/// A campaign: the fields of a `[[campaign]]` entry (amounts as decimal strings) and,
/// in answers, `managed_by_config`. Members a request leaves out take their defaults.
#[derive(ToSchema, Serialize)]
pub struct Campaign {
    pub code: CodeText,
    pub destination: HttpUrl,
    pub currency: Currency,
    #[schema(nullable = false)]
    pub cookie_days: Option<u32>,
    #[schema(nullable = false)]
    pub attribution: Option<Attribution>,
    #[schema(nullable = false)]
    pub min_seconds_to_convert: Option<u64>,
    #[schema(pattern = "^[0-9]{1,2}(\\.[0-9]{1,2})?$", example = "12")]
    pub sale_percent: Option<String>,
    pub sale_flat: Option<Amount>,
    pub lead_flat: Option<Amount>,
    pub click_flat: Option<Amount>,
    pub impression_per_mille: Option<Amount>,
    #[schema(nullable = false)]
    pub override_percents: Option<Vec<String>>,
    #[schema(nullable = false)]
    pub recurring_months: Option<u32>,
    #[schema(nullable = false)]
    pub browser_conversions: Option<BrowserConversions>,
    pub max_browser_amount: Option<Amount>,
    #[schema(nullable = false)]
    pub browser_conversions_per_click: Option<u32>,
    #[schema(nullable = false)]
    pub status: Option<CampaignStatus>,
    #[schema(nullable = false)]
    pub approve_after_days: Option<u32>,
    #[schema(nullable = false)]
    pub deep_link_hosts: Option<Vec<String>>,
    #[schema(nullable = false)]
    pub click_commission: Option<ClickCommission>,
    #[schema(nullable = false)]
    pub daily_paid_click_cap: Option<u32>,
    #[schema(nullable = false)]
    pub daily_paid_impression_cap: Option<u32>,
    #[schema(nullable = false)]
    pub cookie_consent: Option<CookieConsent>,
    /// In answers: an entry of the configuration file, not changeable here.
    #[schema(read_only, nullable = false)]
    pub managed_by_config: Option<bool>,
}

/// Campaigns by code.
#[derive(ToSchema, Serialize)]
pub struct CampaignList {
    pub campaigns: Vec<Campaign>,
}

/// A new partner: the fields of a `[[partner]]` entry.
#[derive(ToSchema, Serialize)]
#[serde(deny_unknown_fields)]
pub struct PartnerRequest {
    pub code: CodeText,
    pub parent: Option<CodeText>,
    #[schema(nullable = false)]
    pub coupons: Option<Vec<CodeText>>,
    #[schema(nullable = false)]
    pub status: Option<PartnerStatus>,
    pub name: Option<String>,
    pub email: Option<String>,
    pub payout_details: Option<String>,
    pub postback_url: Option<String>,
}

/// A coupon to give a partner.
#[derive(ToSchema, Serialize)]
#[serde(deny_unknown_fields)]
pub struct CouponRequest {
    pub code: CodeText,
    /// The one campaign it credits; without one, the campaign the order names.
    #[schema(nullable = false)]
    pub campaign: Option<CodeText>,
}

/// A link to sign. `to` makes a deep link to a page on one of the campaign's
/// `deep_link_hosts`.
#[derive(ToSchema, Serialize)]
#[serde(deny_unknown_fields)]
pub struct LinkRequest {
    pub campaign: CodeText,
    pub partner: CodeText,
    #[schema(nullable = false)]
    pub ad: Option<CodeText>,
    #[schema(nullable = false)]
    pub sid: Option<Sid>,
    #[schema(nullable = false)]
    pub to: Option<HttpUrl>,
}

/// How long a portal sign-in link works.
#[derive(ToSchema, Serialize)]
#[serde(deny_unknown_fields)]
pub struct PortalLinkRequest {
    /// Seconds, default 900, at most 7 days.
    #[schema(nullable = false, minimum = 1, maximum = 604800, example = 900)]
    pub ttl_secs: Option<u64>,
}

/// A label for a new postback key.
#[derive(ToSchema, Serialize)]
#[serde(deny_unknown_fields)]
pub struct PostbackKeyRequest {
    /// At most 100 characters.
    #[schema(nullable = false, max_length = 100, example = "Hosted cart")]
    pub label: Option<String>,
}
