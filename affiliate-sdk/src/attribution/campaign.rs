//! Campaigns: the validated form ([`Campaign`]) of what a campaign is written as
//! ([`CampaignSpec`]), and its commission plan.

use super::campaign_spec::check_deep_link_hosts;
use super::campaign_spec::{Attribution, BrowserConversions, CampaignSpec, CampaignStatus};
use super::deep_link::{DeepTarget, host_allowed};
use crate::code::Code;
use crate::error::{Error, Result, field};
use crate::money::{Currency, Money, Percent};
use crate::records::Kind;

/// How a sale is paid.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SaleCommission {
    /// Nothing.
    None,
    /// A percentage of the sale amount, in the sale's currency.
    Percent(Percent),
    /// A flat amount per sale, in the campaign's currency.
    Flat(Money),
}

/// A validated campaign.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Campaign {
    code: Code,
    /// The destination as a WHATWG URL parser serialises it.
    destination: String,
    cookie_days: u32,
    attribution: Attribution,
    min_seconds_to_convert: u64,
    currency: Currency,
    sale: SaleCommission,
    lead_flat: Money,
    click_flat: Money,
    impression_per_mille: Money,
    override_percents: Vec<Percent>,
    recurring_months: u32,
    browser_conversions: BrowserConversions,
    max_browser_amount: Option<Money>,
    browser_conversions_per_click: u32,
    status: CampaignStatus,
    /// The spec as validated (destination serialised, hosts without repeats): what
    /// the store keeps and the API shows.
    spec: Box<CampaignSpec>,
}

impl Campaign {
    /// Validates a spec. Errors name the field (`sale_percent`, `destination`, …).
    pub fn new(spec: &CampaignSpec) -> Result<Campaign> {
        Campaign::build(spec, parse_destination(&spec.destination)?)
    }

    /// [`Campaign::new`] for hosts that parse URLs themselves: the JS package passes the
    /// destination as its engine's WHATWG `URL` serialises it (`href`), which is then
    /// checked as text (an absolute `http(s)` URL with a host and no credentials), so
    /// the module carries no URL parser of its own.
    pub fn with_normalized_destination(spec: &CampaignSpec) -> Result<Campaign> {
        Campaign::build(spec, check_normalized_destination(&spec.destination)?)
    }

    fn build(spec: &CampaignSpec, destination: String) -> Result<Campaign> {
        let code = field("code", Code::new(&spec.code))?;
        if !(1..=3650).contains(&spec.cookie_days) {
            return Err(Error::malformed("cookie_days", "must be 1 to 3650"));
        }
        if spec.recurring_months > 1200 {
            return Err(Error::malformed("recurring_months", "must be at most 1200"));
        }
        let currency = field("currency", Currency::new(&spec.currency))?;
        let flat = |name: &'static str, v: &Option<String>| -> Result<Money> {
            match v {
                None => Ok(Money::zero(currency)),
                Some(s) => field(name, Money::parse(s, currency.code())),
            }
        };
        let sale = match (&spec.sale_percent, &spec.sale_flat) {
            (Some(_), Some(_)) => {
                return Err(Error::malformed(
                    "sale_percent",
                    "set sale_percent or sale_flat, not both",
                ));
            }
            (Some(p), None) => SaleCommission::Percent(field("sale_percent", Percent::parse(p))?),
            (None, Some(_)) => SaleCommission::Flat(flat("sale_flat", &spec.sale_flat)?),
            (None, None) => SaleCommission::None,
        };
        if spec.override_percents.len() > 16 {
            return Err(Error::malformed("override_percents", "at most 16 levels"));
        }
        let override_percents = spec
            .override_percents
            .iter()
            .map(|p| field("override_percents", Percent::parse(p)))
            .collect::<Result<Vec<_>>>()?;
        if !(1..=1000).contains(&spec.browser_conversions_per_click) {
            return Err(Error::malformed(
                "browser_conversions_per_click",
                "must be 1 to 1000",
            ));
        }
        if spec.approve_after_days > 3650 {
            return Err(Error::malformed("approve_after_days", "must be 0 to 3650"));
        }
        let deep_link_hosts = check_deep_link_hosts(&spec.deep_link_hosts)?;
        let max_browser_amount = match &spec.max_browser_amount {
            None if spec.browser_conversions == BrowserConversions::Open => {
                return Err(Error::malformed(
                    "max_browser_amount",
                    "required when browser_conversions is \"open\"",
                ));
            }
            None => None,
            Some(_) => Some(flat("max_browser_amount", &spec.max_browser_amount)?),
        };
        Ok(Campaign {
            code,
            destination: destination.clone(),
            cookie_days: spec.cookie_days,
            attribution: spec.attribution,
            min_seconds_to_convert: spec.min_seconds_to_convert,
            currency,
            sale,
            lead_flat: flat("lead_flat", &spec.lead_flat)?,
            click_flat: flat("click_flat", &spec.click_flat)?,
            impression_per_mille: flat("impression_per_mille", &spec.impression_per_mille)?,
            override_percents,
            recurring_months: spec.recurring_months,
            browser_conversions: spec.browser_conversions,
            max_browser_amount,
            browser_conversions_per_click: spec.browser_conversions_per_click,
            status: spec.status,
            spec: Box::new(CampaignSpec {
                destination,
                deep_link_hosts,
                ..spec.clone()
            }),
        })
    }

    /// The code.
    #[must_use]
    pub fn code(&self) -> Code {
        self.code
    }
    /// Where clicks land.
    #[must_use]
    pub fn destination(&self) -> &str {
        &self.destination
    }
    /// Whether a click may land on `target`, a link's `to=`: its host must be one of
    /// the campaign's `deep_link_hosts` (on any port), and a campaign whose destination
    /// is `https` lands only on `https` (the token in the landing URL never travels in
    /// clear). `malformed` (field `to`) when not.
    pub fn check_deep_link(&self, target: &DeepTarget) -> Result<()> {
        if self.destination.starts_with("https://") && !target.href().starts_with("https://") {
            return Err(Error::malformed(
                "to",
                format!(
                    "campaign {} lands on https only: the token would travel in clear",
                    self.code
                ),
            ));
        }
        if host_allowed(&self.spec.deep_link_hosts, target.host()) {
            return Ok(());
        }
        let host: String = target.host().chars().take(100).collect();
        Err(Error::malformed(
            "to",
            format!(
                "host {host} is not one of campaign {}'s deep_link_hosts",
                self.code
            ),
        ))
    }
    /// The attribution window in days.
    #[must_use]
    pub fn cookie_days(&self) -> u32 {
        self.cookie_days
    }
    /// The attribution window in seconds.
    #[must_use]
    pub fn window_secs(&self) -> u64 {
        u64::from(self.cookie_days) * 86_400
    }
    /// First or last click.
    #[must_use]
    pub fn attribution(&self) -> Attribution {
        self.attribution
    }
    /// The minimum seconds from click to conversion.
    #[must_use]
    pub fn min_seconds_to_convert(&self) -> u64 {
        self.min_seconds_to_convert
    }
    /// The currency of the flat amounts.
    #[must_use]
    pub fn currency(&self) -> Currency {
        self.currency
    }
    /// How sales are paid.
    #[must_use]
    pub fn sale(&self) -> SaleCommission {
        self.sale
    }
    /// Per lead or named action.
    #[must_use]
    pub fn lead_flat(&self) -> Money {
        self.lead_flat
    }
    /// Per click.
    #[must_use]
    pub fn click_flat(&self) -> Money {
        self.click_flat
    }
    /// Per thousand impressions.
    #[must_use]
    pub fn impression_per_mille(&self) -> Money {
        self.impression_per_mille
    }
    /// Override percentages for the parent, grandparent, ….
    #[must_use]
    pub fn override_percents(&self) -> &[Percent] {
        &self.override_percents
    }
    /// Months of recurring attribution (0: none).
    #[must_use]
    pub fn recurring_months(&self) -> u32 {
        self.recurring_months
    }

    /// Active or paused.
    #[must_use]
    pub fn status(&self) -> CampaignStatus {
        self.status
    }
    /// The spec it was made from, as validated: its fields not listed here
    /// (`approve_after_days`, `deep_link_hosts`, `click_commission`, the daily caps,
    /// `cookie_consent`) are read from it.
    #[must_use]
    pub fn spec(&self) -> &CampaignSpec {
        &self.spec
    }
    /// What the public pixel and beacon may report.
    #[must_use]
    pub fn browser_conversions(&self) -> BrowserConversions {
        self.browser_conversions
    }
    /// The largest unsigned browser conversion, if set.
    #[must_use]
    pub fn max_browser_amount(&self) -> Option<Money> {
        self.max_browser_amount
    }
    /// Unsigned browser conversions one click may make.
    #[must_use]
    pub fn browser_conversions_per_click(&self) -> u32 {
        self.browser_conversions_per_click
    }

    /// The partner's own commission for a conversion of `kind` and `amount`.
    #[must_use]
    pub fn base_commission(&self, kind: &Kind, amount: Money) -> Money {
        match kind {
            Kind::Sale => match self.sale {
                SaleCommission::None => Money::zero(amount.currency()),
                SaleCommission::Percent(p) => p.of(amount),
                SaleCommission::Flat(m) => m,
            },
            Kind::Lead | Kind::Action(_) => self.lead_flat,
        }
    }
}

/// Destinations are absolute `http(s)` URLs without credentials: nothing a redirect to
/// them could turn into script or another scheme. Returns the URL as serialised.
fn parse_destination(s: &str) -> Result<String> {
    check_text(s)?;
    let u = url::Url::parse(s).map_err(|e| Error::malformed("destination", e.to_string()))?;
    if !matches!(u.scheme(), "http" | "https") || u.host_str().is_none_or(str::is_empty) {
        return Err(not_absolute());
    }
    if !u.username().is_empty() || u.password().is_some() {
        return Err(Error::malformed(
            "destination",
            "must not contain credentials",
        ));
    }
    Ok(u.into())
}

/// The checks of [`parse_destination`] on a URL a WHATWG parser has serialised.
fn check_normalized_destination(s: &str) -> Result<String> {
    check_text(s)?;
    let rest = s
        .strip_prefix("https://")
        .or_else(|| s.strip_prefix("http://"))
        .ok_or_else(not_absolute)?;
    let authority = rest.split(['/', '?', '#']).next().unwrap_or_default();
    if authority.is_empty() || authority.starts_with(':') {
        return Err(not_absolute());
    }
    if authority.contains('@') {
        return Err(Error::malformed(
            "destination",
            "must not contain credentials",
        ));
    }
    Ok(s.to_owned())
}

fn check_text(s: &str) -> Result<()> {
    if s.len() > 2048 {
        return Err(Error::malformed("destination", "longer than 2048 bytes"));
    }
    if s.bytes()
        .any(|b| b.is_ascii_control() || b == b' ' || b == b'\\')
    {
        return Err(Error::malformed(
            "destination",
            "contains spaces, control characters or backslashes",
        ));
    }
    Ok(())
}

fn not_absolute() -> Error {
    Error::malformed("destination", "must be an absolute http or https URL")
}
