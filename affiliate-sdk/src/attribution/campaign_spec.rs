//! A campaign as the merchant writes it ([`CampaignSpec`]) with its choices:
//! attribution model, browser conversions, status, per-click commissions, cookie consent
//! and the hosts deep links may land on. `Campaign::new` checks it.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};

/// Default attribution window, in days (30).
pub const DEFAULT_COOKIE_DAYS: u32 = 30;

/// Which click a campaign credits when a visitor clicked several links.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub enum Attribution {
    /// The latest click replaces the earlier one (the default).
    #[default]
    Last,
    /// The earliest unexpired click of the campaign is kept.
    First,
}

impl Attribution {
    /// `last` or `first`.
    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            Attribution::Last => "last",
            Attribution::First => "first",
        }
    }
}

impl FromStr for Attribution {
    type Err = Error;
    fn from_str(s: &str) -> Result<Attribution> {
        match s {
            "last" => Ok(Attribution::Last),
            "first" => Ok(Attribution::First),
            _ => Err(Error::malformed(
                "attribution",
                "expected \"last\" or \"first\"",
            )),
        }
    }
}

impl fmt::Display for Attribution {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// What a campaign accepts from the browser (the public pixel and beacon).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub enum BrowserConversions {
    /// Only orders signed by the merchant's backend (`osig`); the default.
    #[default]
    Signed,
    /// Unsigned orders too, within limits: the campaign's currency, kinds `sale` and
    /// `lead`, at most `max_browser_amount`, at most `browser_conversions_per_click`
    /// per click. A signed order is never limited.
    Open,
    /// None: server postbacks and manual entries only.
    Off,
}

impl BrowserConversions {
    /// `signed`, `open` or `off`.
    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            BrowserConversions::Signed => "signed",
            BrowserConversions::Open => "open",
            BrowserConversions::Off => "off",
        }
    }
}

impl FromStr for BrowserConversions {
    type Err = Error;
    fn from_str(s: &str) -> Result<BrowserConversions> {
        match s {
            "signed" => Ok(BrowserConversions::Signed),
            "open" => Ok(BrowserConversions::Open),
            "off" => Ok(BrowserConversions::Off),
            _ => Err(Error::malformed(
                "browser_conversions",
                "expected \"signed\", \"open\" or \"off\"",
            )),
        }
    }
}

impl fmt::Display for BrowserConversions {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Whether a campaign takes new clicks.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub enum CampaignStatus {
    /// Clicks are credited (the default).
    #[default]
    Active,
    /// New clicks and impressions land on the destination uncredited; tokens issued
    /// before still attribute their conversions.
    Paused,
}

/// Default [`CampaignSpec::browser_conversions_per_click`]: 3.
pub const DEFAULT_BROWSER_CONVERSIONS_PER_CLICK: u32 = 3;

/// A campaign as written in configuration: amounts and percentages as decimal
/// strings. [`Campaign::new`](super::Campaign::new) validates it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
#[non_exhaustive]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema), schema(as = CampaignRequest, description = "A campaign as sent: the fields of a `[[campaign]]` entry, amounts as decimal strings; a member left out takes its default, an unknown one is refused."))]
pub struct CampaignSpec {
    /// The campaign code.
    #[cfg_attr(feature = "openapi", schema(value_type = crate::formats::CodeText))]
    pub code: String,
    /// Where a click lands: an absolute `http` or `https` URL.
    #[cfg_attr(feature = "openapi", schema(value_type = crate::formats::HttpUrl))]
    pub destination: String,
    /// The attribution window in days (default 30, at most 3650).
    #[serde(default = "default_cookie_days")]
    pub cookie_days: u32,
    /// First or last click (default last).
    #[serde(default)]
    pub attribution: Attribution,
    /// Conversions sooner than this after the click attribute nothing (anti-bot).
    #[serde(default)]
    pub min_seconds_to_convert: u64,
    /// The currency of the flat amounts (`"USD"`).
    #[cfg_attr(feature = "openapi", schema(value_type = crate::formats::Currency))]
    pub currency: String,
    /// Commission per sale as a percentage of its amount.
    #[serde(default)]
    #[cfg_attr(
        feature = "openapi",
        schema(pattern = "^[0-9]{1,2}(\\.[0-9]{1,2})?$", example = "12")
    )]
    pub sale_percent: Option<String>,
    /// Commission per sale as a flat amount (instead of `sale_percent`).
    #[serde(default)]
    #[cfg_attr(feature = "openapi", schema(value_type = Option<crate::formats::Amount>))]
    pub sale_flat: Option<String>,
    /// Commission per lead or named action.
    #[serde(default)]
    #[cfg_attr(feature = "openapi", schema(value_type = Option<crate::formats::Amount>))]
    pub lead_flat: Option<String>,
    /// Commission per click.
    #[serde(default)]
    #[cfg_attr(feature = "openapi", schema(value_type = Option<crate::formats::Amount>))]
    pub click_flat: Option<String>,
    /// Commission per thousand impressions.
    #[serde(default)]
    #[cfg_attr(feature = "openapi", schema(value_type = Option<crate::formats::Amount>))]
    pub impression_per_mille: Option<String>,
    /// Percentages of the partner's commission paid to its parent, grandparent, ….
    #[serde(default)]
    pub override_percents: Vec<String>,
    /// Months a customer's later sales stay with the partner of its first sale (0: none).
    #[serde(default)]
    pub recurring_months: u32,
    /// What the public pixel and beacon may report (default `signed`).
    #[serde(default)]
    pub browser_conversions: BrowserConversions,
    /// The largest amount an unsigned browser conversion may carry, in the campaign's
    /// currency. Required when `browser_conversions` is `open`.
    #[serde(default)]
    #[cfg_attr(feature = "openapi", schema(value_type = Option<crate::formats::Amount>))]
    pub max_browser_amount: Option<String>,
    /// Unsigned browser conversions one click may make (default 3, 1 to 1000).
    #[serde(default = "default_per_click")]
    pub browser_conversions_per_click: u32,
    /// Active (the default) or paused.
    #[serde(default)]
    pub status: CampaignStatus,
    /// Pending conversions older than this many days are approved by the tracker
    /// (0, the default: approve by hand; at most 3650).
    #[serde(default)]
    pub approve_after_days: u32,
    /// Whether `approve_after_days` also approves unsigned browser conversions (channel
    /// `browser`, which the merchant did not vouch for). Default `false`: they wait for
    /// a person.
    #[serde(default)]
    pub auto_approve_unsigned: bool,
    /// Hosts a link's `to=` may land on (`"shop.example"`, `"*.shop.example"`).
    #[serde(default)]
    pub deep_link_hosts: Vec<String>,
    /// Which clicks earn `click_flat` (default `unique`).
    #[serde(default)]
    pub click_commission: ClickCommission,
    /// Paid clicks per partner per UTC day (0, the default: no cap).
    #[serde(default)]
    pub daily_paid_click_cap: u32,
    /// Paid impressions per partner per UTC day (0, the default: no cap).
    #[serde(default)]
    pub daily_paid_impression_cap: u32,
    /// Whether the cookie waits for consent (default `not_required`).
    #[serde(default)]
    pub cookie_consent: CookieConsent,
}

fn default_per_click() -> u32 {
    DEFAULT_BROWSER_CONVERSIONS_PER_CLICK
}

fn default_cookie_days() -> u32 {
    DEFAULT_COOKIE_DAYS
}

impl CampaignSpec {
    /// A spec with the defaults: 30-day window, last click, no commissions, signed
    /// browser conversions only.
    #[must_use]
    pub fn new(code: &str, destination: &str, currency: &str) -> CampaignSpec {
        CampaignSpec {
            code: code.into(),
            destination: destination.into(),
            currency: currency.into(),
            ..CampaignSpec::default()
        }
    }
}

impl Default for CampaignSpec {
    /// Empty code, destination and currency (to be filled in) and every default.
    fn default() -> CampaignSpec {
        CampaignSpec {
            code: String::new(),
            destination: String::new(),
            cookie_days: DEFAULT_COOKIE_DAYS,
            attribution: Attribution::default(),
            min_seconds_to_convert: 0,
            currency: String::new(),
            sale_percent: None,
            sale_flat: None,
            lead_flat: None,
            click_flat: None,
            impression_per_mille: None,
            override_percents: Vec::new(),
            recurring_months: 0,
            browser_conversions: BrowserConversions::default(),
            max_browser_amount: None,
            browser_conversions_per_click: DEFAULT_BROWSER_CONVERSIONS_PER_CLICK,
            status: CampaignStatus::Active,
            approve_after_days: 0,
            auto_approve_unsigned: false,
            deep_link_hosts: Vec::new(),
            click_commission: ClickCommission::Unique,
            daily_paid_click_cap: 0,
            daily_paid_impression_cap: 0,
            cookie_consent: CookieConsent::NotRequired,
        }
    }
}

impl FromStr for CampaignStatus {
    type Err = Error;
    fn from_str(s: &str) -> Result<Self> {
        match s {
            "active" => Ok(Self::Active),
            "paused" => Ok(Self::Paused),
            _ => Err(Error::malformed(
                "status",
                "expected \"active\" or \"paused\"",
            )),
        }
    }
}

/// Which clicks earn a campaign's per-click commission.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub enum ClickCommission {
    /// Unique clicks only (the default): a visitor's repeated clicks pay once.
    #[default]
    Unique,
    /// Every click.
    Every,
}

impl ClickCommission {
    /// `unique` or `every`.
    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            ClickCommission::Unique => "unique",
            ClickCommission::Every => "every",
        }
    }
}

impl FromStr for ClickCommission {
    type Err = Error;
    fn from_str(s: &str) -> Result<ClickCommission> {
        match s {
            "unique" => Ok(ClickCommission::Unique),
            "every" => Ok(ClickCommission::Every),
            _ => Err(Error::malformed(
                "click_commission",
                "expected \"unique\" or \"every\"",
            )),
        }
    }
}

impl fmt::Display for ClickCommission {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Whether a campaign's cookie waits for the visitor's consent.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub enum CookieConsent {
    /// The click sets the cookie (the default).
    #[default]
    NotRequired,
    /// The click sets no cookie; the token rides in the landing URL and the snippet
    /// stores it once the visitor consents.
    Required,
}

impl CookieConsent {
    /// `not_required` or `required`.
    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            CookieConsent::NotRequired => "not_required",
            CookieConsent::Required => "required",
        }
    }
}

impl FromStr for CookieConsent {
    type Err = Error;
    fn from_str(s: &str) -> Result<CookieConsent> {
        match s {
            "not_required" => Ok(CookieConsent::NotRequired),
            "required" => Ok(CookieConsent::Required),
            _ => Err(Error::malformed(
                "cookie_consent",
                "expected \"not_required\" or \"required\"",
            )),
        }
    }
}

impl fmt::Display for CookieConsent {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// At most this many deep-link hosts per campaign.
pub const MAX_DEEP_LINK_HOSTS: usize = 100;

/// Checks a campaign's `deep_link_hosts`: each a lower-case DNS name (IDNs in their
/// `xn--` form) of at most 253 bytes, optionally `*.`-prefixed for every subdomain; no
/// scheme, port, path or trailing dot. Returns them in order without repeats.
pub(crate) fn check_deep_link_hosts(hosts: &[String]) -> Result<Vec<String>> {
    if hosts.len() > MAX_DEEP_LINK_HOSTS {
        return Err(Error::malformed(
            "deep_link_hosts",
            format!("at most {MAX_DEEP_LINK_HOSTS} hosts"),
        ));
    }
    let mut out: Vec<String> = Vec::with_capacity(hosts.len());
    for h in hosts {
        let name = h.strip_prefix("*.").unwrap_or(h);
        let label_ok = |l: &str| {
            !l.is_empty()
                && l.len() <= 63
                && !l.starts_with('-')
                && !l.ends_with('-')
                && l.bytes()
                    .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
        };
        if h.len() > 253 || !name.contains('.') || !name.split('.').all(label_ok) {
            return Err(Error::malformed(
                "deep_link_hosts",
                format!(
                    "{:?} is not a lower-case host name such as \"shop.example\" or \"*.shop.example\"",
                    cut(h)
                ),
            ));
        }
        if !out.contains(h) {
            out.push(h.clone());
        }
    }
    Ok(out)
}

/// `s` cut to 64 bytes for an error message.
fn cut(s: &str) -> &str {
    crate::error::cut(s, 64)
}
