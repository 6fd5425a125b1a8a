//! Attribution: campaigns and their commission plans, partners and their parents, the
//! conversions the [`Tracker`] records, and the reports over them.
//!
//! The rules (DESIGN.md, "Attribution rules"):
//!
//! * Evidence, strongest first: a valid session token, a click id (server postback), a
//!   coupon code; manual entries name the partner directly. The strongest evidence
//!   that holds wins; when none holds, the error of the strongest one given is
//!   returned. A customer bound by an earlier sale (recurring campaigns) is credited to
//!   its partner before any new evidence is looked at.
//! * A token or click outside its window attributes nothing (`expired`); a campaign may
//!   require a minimum time from click to conversion (`not_attributable`).
//! * Exactly once per `order_id`: a replay returns the first record marked
//!   `duplicate`; another amount, currency or kind under the same order id is a
//!   `conflict` and changes nothing.
//! * Commissions: the plan's sale percent or flat amount for a sale, its lead flat
//!   amount for a lead or a named action; each ancestor of the partner is paid its
//!   override percent of the partner's commission on top. Per-click and per-mille
//!   impression commissions accrue in the day's counters.
//! * Statuses move `pending → approved → paid`, `pending | approved → rejected`,
//!   `approved | paid → reversed`. Reports count every conversion but leave the revenue
//!   and commission of rejected and reversed ones out (the commission is clawed back).

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

use crate::click_id::ClickId;
use crate::code::Code;
use crate::error::{Error, Result};
use crate::link::Link;
use crate::money::{Currency, Money, Percent};

mod decide;
mod stats;
mod tracker;

pub use decide::{
    PriorToken, UNIQUE_CLICK_SECS, attribute_token, check_min_time, decide_prior_token,
};
pub use stats::{Amounts, Dimension, StatsQuery, StatsRow, format_day, parse_day};
pub use tracker::{ClickOutcome, Tracker};

/// Default attribution window, in days (30).
pub const DEFAULT_COOKIE_DAYS: u32 = 30;

/// Longest order id or customer id, in bytes.
pub const MAX_ID_LEN: usize = 128;

/// Which click a campaign credits when a visitor clicked several links.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Attribution {
    /// The latest click replaces the earlier one (the default).
    #[default]
    Last,
    /// The earliest unexpired click of the campaign is kept.
    First,
}

/// A campaign as written in configuration: amounts and percentages as decimal
/// strings. [`Campaign::new`] validates it.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CampaignSpec {
    /// The campaign code.
    pub code: String,
    /// Where a click lands: an absolute `http` or `https` URL.
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
    pub currency: String,
    /// Commission per sale as a percentage of its amount.
    #[serde(default)]
    pub sale_percent: Option<String>,
    /// Commission per sale as a flat amount (instead of `sale_percent`).
    #[serde(default)]
    pub sale_flat: Option<String>,
    /// Commission per lead or named action.
    #[serde(default)]
    pub lead_flat: Option<String>,
    /// Commission per click.
    #[serde(default)]
    pub click_flat: Option<String>,
    /// Commission per thousand impressions.
    #[serde(default)]
    pub impression_per_mille: Option<String>,
    /// Percentages of the partner's commission paid to its parent, grandparent, ….
    #[serde(default)]
    pub override_percents: Vec<String>,
    /// Months a customer's later sales stay with the partner of its first sale (0: none).
    #[serde(default)]
    pub recurring_months: u32,
}

fn default_cookie_days() -> u32 {
    DEFAULT_COOKIE_DAYS
}

impl CampaignSpec {
    /// A spec with the defaults: 30-day window, last click, no commissions.
    #[must_use]
    pub fn new(code: &str, destination: &str, currency: &str) -> CampaignSpec {
        CampaignSpec {
            code: code.into(),
            destination: destination.into(),
            cookie_days: DEFAULT_COOKIE_DAYS,
            currency: currency.into(),
            ..CampaignSpec::default()
        }
    }
}

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
    destination: url::Url,
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
}

/// Names the spec field in a validation error.
fn field<T>(name: &'static str, r: Result<T>) -> Result<T> {
    r.map_err(|e| match e {
        Error::Malformed { reason, .. } => Error::Malformed {
            field: name,
            reason,
        },
        other => Error::Malformed {
            field: name,
            reason: other.to_string().into(),
        },
    })
}

impl Campaign {
    /// Validates a spec. Errors name the field (`sale_percent`, `destination`, …).
    pub fn new(spec: &CampaignSpec) -> Result<Campaign> {
        let code = field("code", Code::new(&spec.code))?;
        let destination = field("destination", parse_destination(&spec.destination))?;
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
        Ok(Campaign {
            code,
            destination,
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
        self.destination.as_str()
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
/// them could turn into script or another scheme.
fn parse_destination(s: &str) -> Result<url::Url> {
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
    let u = url::Url::parse(s).map_err(|e| Error::malformed("destination", e.to_string()))?;
    if !matches!(u.scheme(), "http" | "https") || u.host_str().is_none_or(str::is_empty) {
        return Err(Error::malformed(
            "destination",
            "must be an absolute http or https URL",
        ));
    }
    if !u.username().is_empty() || u.password().is_some() {
        return Err(Error::malformed(
            "destination",
            "must not contain credentials",
        ));
    }
    Ok(u)
}

/// A partner as written in configuration.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PartnerSpec {
    /// The partner code.
    pub code: String,
    /// The parent partner, which must exist already.
    #[serde(default)]
    pub parent: Option<String>,
    /// Personal coupon codes (`[A-Za-z0-9_-]`, matched without regard to case),
    /// unique across partners.
    #[serde(default)]
    pub coupons: Vec<String>,
}

impl PartnerSpec {
    /// A partner without parent or coupons.
    #[must_use]
    pub fn new(code: &str) -> PartnerSpec {
        PartnerSpec {
            code: code.into(),
            ..PartnerSpec::default()
        }
    }
}

/// A validated partner.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Partner {
    /// The code.
    pub code: Code,
    /// The parent, if any.
    pub parent: Option<Code>,
    /// Coupon codes, upper-cased.
    pub coupons: Vec<Code>,
}

/// Normalises a coupon code: the code alphabet, compared in upper case.
pub(crate) fn coupon_code(s: &str) -> Result<Code> {
    field("coupon", Code::new(&s.to_ascii_uppercase()))
}

/// What was converted.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Kind {
    /// A sale: paid by the campaign's sale plan.
    Sale,
    /// A lead: paid the campaign's lead flat amount.
    Lead,
    /// A named action (`signup`, `trial`): reported and paid as a lead.
    Action(Code),
}

impl Kind {
    /// `sale`, `lead` or the action's name.
    #[must_use]
    pub fn as_str(&self) -> &str {
        match self {
            Kind::Sale => "sale",
            Kind::Lead => "lead",
            Kind::Action(c) => c.as_str(),
        }
    }
}

impl FromStr for Kind {
    type Err = Error;
    fn from_str(s: &str) -> Result<Kind> {
        Ok(match s {
            "sale" => Kind::Sale,
            "lead" => Kind::Lead,
            other => Kind::Action(field("kind", Code::new(other))?),
        })
    }
}

impl fmt::Display for Kind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl Serialize for Kind {
    fn serialize<S: serde::Serializer>(&self, s: S) -> std::result::Result<S::Ok, S::Error> {
        s.serialize_str(self.as_str())
    }
}

impl<'de> Deserialize<'de> for Kind {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> std::result::Result<Kind, D::Error> {
        let s = <std::borrow::Cow<'de, str>>::deserialize(d)?;
        s.parse().map_err(serde::de::Error::custom)
    }
}

/// Where a conversion is in its lifecycle.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Status {
    /// Recorded, not yet reviewed (every new conversion).
    Pending,
    /// Accepted by the merchant.
    Approved,
    /// Commission paid out.
    Paid,
    /// Refused (fraud, test order): no revenue, no commission.
    Rejected,
    /// Refunded after approval: the commission is clawed back.
    Reversed,
}

impl Status {
    /// The lowercase name.
    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            Status::Pending => "pending",
            Status::Approved => "approved",
            Status::Paid => "paid",
            Status::Rejected => "rejected",
            Status::Reversed => "reversed",
        }
    }

    /// Whether the lifecycle allows moving from `self` to `to`.
    #[must_use]
    pub fn can_become(self, to: Status) -> bool {
        use Status::{Approved, Paid, Pending, Rejected, Reversed};
        matches!(
            (self, to),
            (Pending, Approved)
                | (Approved, Paid)
                | (Pending | Approved, Rejected)
                | (Approved | Paid, Reversed)
        )
    }

    /// Whether the conversion's revenue and commission count in reports.
    #[must_use]
    pub fn counts_money(self) -> bool {
        !matches!(self, Status::Rejected | Status::Reversed)
    }
}

impl FromStr for Status {
    type Err = Error;
    fn from_str(s: &str) -> Result<Status> {
        Ok(match s {
            "pending" => Status::Pending,
            "approved" => Status::Approved,
            "paid" => Status::Paid,
            "rejected" => Status::Rejected,
            "reversed" => Status::Reversed,
            _ => {
                return Err(Error::malformed(
                    "status",
                    "expected pending, approved, paid, rejected or reversed",
                ));
            }
        })
    }
}

impl fmt::Display for Status {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// What credited the partner.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Evidence {
    /// A session token.
    Token,
    /// A click id from a server postback.
    ClickId,
    /// A partner's coupon code.
    Coupon,
    /// A customer bound by an earlier sale (recurring commission).
    Customer,
    /// Entered by hand.
    Manual,
}

/// One partner's share of a conversion.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Commission {
    /// Who earns it.
    pub partner: Code,
    /// 0 for the referring partner, 1 for its parent, 2 for the grandparent, ….
    pub level: u8,
    /// How much.
    pub amount: Money,
}

/// A recorded conversion.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Conversion {
    /// The merchant's order id, unique per tracker.
    pub order_id: String,
    /// Sale, lead or a named action.
    pub kind: Kind,
    /// The order amount (zero for most leads).
    pub amount: Money,
    /// Campaign, partner, ad and sid credited.
    pub link: Link,
    /// The click credited, when the evidence named one.
    pub click_id: Option<ClickId>,
    /// What credited the partner.
    pub evidence: Evidence,
    /// The merchant's customer id, when given.
    pub customer_id: Option<String>,
    /// Lifecycle status.
    pub status: Status,
    /// When it was recorded, Unix seconds.
    pub converted_at: u64,
    /// The partner's commission (level 0) and its ancestors' overrides.
    pub commissions: Vec<Commission>,
    /// True when this answer is a replay of an order id recorded before.
    #[serde(skip)]
    pub duplicate: bool,
}

impl Conversion {
    /// The conversion as every API shows it (the HTTP server's JSON, the bindings):
    /// `order_id, kind, amount, currency, campaign, partner, ad, sid, click_id, status,
    /// duplicate, commissions: [{partner, level, amount}]`, plus `evidence`,
    /// `customer_id` and `converted_at` (Unix seconds). Amounts are decimal strings.
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
        serde_json::json!({
            "order_id": self.order_id,
            "kind": self.kind.as_str(),
            "amount": self.amount.to_string(),
            "currency": self.amount.currency(),
            "campaign": self.link.campaign,
            "partner": self.link.partner,
            "ad": self.link.ad,
            "sid": self.link.sid,
            "click_id": self.click_id,
            "status": self.status,
            "duplicate": self.duplicate,
            "commissions": self.commissions.iter().map(|c| serde_json::json!({
                "partner": c.partner,
                "level": c.level,
                "amount": c.amount.to_string(),
            })).collect::<Vec<_>>(),
            "evidence": self.evidence,
            "customer_id": self.customer_id,
            "converted_at": self.converted_at,
        })
    }

    /// The partner's own commission (level 0).
    #[must_use]
    pub fn commission(&self) -> Money {
        self.commissions
            .iter()
            .find(|c| c.level == 0)
            .map_or(Money::zero(self.amount.currency()), |c| c.amount)
    }
}

/// A conversion as reported by a pixel, beacon or postback: strings as they arrived.
/// The evidence is one or more of `token`, `click_id` and `coupon`. As JSON (the
/// postback body) an unknown field is an error, so a misspelt evidence field is not
/// silently ignored.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
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

/// A conversion entered by hand for a named campaign and partner.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
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

/// Checks an order or customer id: 1–128 bytes of printable ASCII other than space,
/// `"` and `\`.
pub(crate) fn check_id(name: &'static str, s: &str) -> Result<()> {
    if s.is_empty() || s.len() > MAX_ID_LEN {
        return Err(Error::malformed(name, "must be 1 to 128 characters"));
    }
    if !s
        .bytes()
        .all(|b| b.is_ascii_graphic() && b != b'"' && b != b'\\')
    {
        return Err(Error::malformed(
            name,
            "only printable ASCII without spaces, quotes or backslashes",
        ));
    }
    Ok(())
}
