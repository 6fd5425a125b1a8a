//! The program: campaigns, partners, coupons, links, and the keys the merchant hands out.

use serde::Serialize;
use utoipa::ToSchema;

use super::{Amount, CodeText, Currency, HttpUrl, Sid};

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
