//! Reports: clicks, unique clicks, impressions, leads, sales, revenue and commission,
//! grouped by any of campaign, partner, ad, sid and UTC day.

use std::collections::BTreeMap;
use std::fmt;
use std::str::FromStr;

use serde::ser::SerializeMap;
use serde::{Serialize, Serializer};

use super::days::{format_day, parse_day};
use super::{Conversion, Kind};
use crate::code::Code;
use crate::error::{Error, Result};
use crate::ledger::traffic_minor;
use crate::link::Link;
use crate::money::{Currency, Percent, format_minor};
use crate::store::{CounterKey, Counters, day_of};

/// A dimension to group reports by.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Dimension {
    /// The campaign code.
    Campaign,
    /// The partner code.
    Partner,
    /// The ad code (absent for links without one).
    Ad,
    /// The partner's sid (absent when none was given).
    Sid,
    /// The UTC day, `YYYY-MM-DD`.
    Day,
}

impl Dimension {
    /// Every dimension.
    pub const ALL: [Dimension; 5] = [
        Dimension::Campaign,
        Dimension::Partner,
        Dimension::Ad,
        Dimension::Sid,
        Dimension::Day,
    ];

    /// The lowercase name, as in `group_by=`.
    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            Dimension::Campaign => "campaign",
            Dimension::Partner => "partner",
            Dimension::Ad => "ad",
            Dimension::Sid => "sid",
            Dimension::Day => "day",
        }
    }

    /// The value of this dimension for a link and day, as a key that sorts as its
    /// text does (codes compare as strings; days as numbers, as `YYYY-MM-DD` does).
    fn value(self, link: &Link, day: u32) -> Option<Value<'_>> {
        match self {
            Dimension::Campaign => Some(Value::Code(&link.campaign)),
            Dimension::Partner => Some(Value::Code(&link.partner)),
            Dimension::Ad => link.ad.as_ref().map(Value::Code),
            Dimension::Sid => link.sid.as_ref().map(Value::Sid),
            Dimension::Day => Some(Value::Day(day)),
        }
    }
}

/// A dimension's value while rows are summed: borrowed from the counters and
/// conversions (small keys, no allocation), text only at the end.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Value<'a> {
    Code(&'a Code),
    Sid(&'a crate::code::Sid),
    Day(u32),
}

impl Value<'_> {
    /// The text of the value; days formatted once each (`days` keeps them).
    fn text(self, days: &mut BTreeMap<u32, String>) -> String {
        match self {
            Value::Code(c) => c.as_str().to_owned(),
            Value::Sid(s) => s.as_str().to_owned(),
            Value::Day(d) => days.entry(d).or_insert_with(|| format_day(d)).clone(),
        }
    }
}

impl FromStr for Dimension {
    type Err = Error;
    fn from_str(s: &str) -> Result<Dimension> {
        Dimension::ALL
            .into_iter()
            .find(|d| d.as_str() == s)
            .ok_or_else(|| {
                Error::malformed("group_by", "expected campaign, partner, ad, sid or day")
            })
    }
}

impl fmt::Display for Dimension {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// What to report.
///
/// ```
/// use affiliate_sdk::{Dimension, StatsQuery};
/// let q = StatsQuery::new(&[Dimension::Partner, Dimension::Day])
///     .between("2026-11-01", "2026-11-30")?;
/// assert_eq!(q.group_by, [Dimension::Partner, Dimension::Day]);
/// # Ok::<(), affiliate_sdk::Error>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Default)]
#[non_exhaustive]
pub struct StatsQuery {
    /// Dimensions of a row, in order; empty gives one row of totals.
    pub group_by: Vec<Dimension>,
    /// First UTC day included (days since 1970-01-01); `None` from the beginning.
    pub from_day: Option<u32>,
    /// Last UTC day included; `None` up to now.
    pub to_day: Option<u32>,
    /// Only this campaign.
    pub campaign: Option<Code>,
    /// Only this partner (the referring partner of conversions).
    pub partner: Option<Code>,
}

impl StatsQuery {
    /// Group by `dims`, every day, every campaign and partner.
    #[must_use]
    pub fn new(dims: &[Dimension]) -> StatsQuery {
        let mut group_by = Vec::new();
        for d in dims {
            if !group_by.contains(d) {
                group_by.push(*d);
            }
        }
        StatsQuery {
            group_by,
            ..StatsQuery::default()
        }
    }

    /// Limits the report to the days `from..=to` (`YYYY-MM-DD`).
    pub fn between(mut self, from: &str, to: &str) -> Result<StatsQuery> {
        self.from_day = Some(parse_day(from)?);
        self.to_day = Some(parse_day(to)?);
        Ok(self)
    }

    /// Parses `group_by=campaign,partner,…` as the HTTP API writes it.
    pub fn parse_group_by(s: &str) -> Result<Vec<Dimension>> {
        if s.is_empty() {
            return Ok(Vec::new());
        }
        let mut out = Vec::new();
        for part in s.split(',') {
            let d: Dimension = part.trim().parse()?;
            if !out.contains(&d) {
                out.push(d);
            }
        }
        Ok(out)
    }
}

/// Amounts per currency, in minor units; written as `{"USD": "49.90"}`.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Amounts(pub BTreeMap<Currency, u128>);

impl Amounts {
    fn add(&mut self, currency: Currency, minor: u128) {
        if minor > 0 {
            let e = self.0.entry(currency).or_insert(0);
            *e = e.saturating_add(minor);
        }
    }

    /// The amount in `currency` as a decimal string (`"0.00"` when none).
    #[must_use]
    pub fn decimal(&self, currency: Currency) -> String {
        format_minor(
            self.0.get(&currency).copied().unwrap_or(0),
            currency.exponent(),
        )
    }

    /// Minor units in `currency` (0 when none).
    #[must_use]
    pub fn minor(&self, currency: Currency) -> u128 {
        self.0.get(&currency).copied().unwrap_or(0)
    }
}

impl Serialize for Amounts {
    fn serialize<S: Serializer>(&self, s: S) -> std::result::Result<S::Ok, S::Error> {
        let mut m = s.serialize_map(Some(self.0.len()))?;
        for (c, minor) in &self.0 {
            m.serialize_entry(c.code(), &format_minor(*minor, c.exponent()))?;
        }
        m.end()
    }
}

/// One row of a report.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct StatsRow {
    /// The row's dimension values, in the query's order; `None` for an absent ad or sid.
    pub group: Vec<(Dimension, Option<String>)>,
    /// Every click.
    pub clicks: u64,
    /// Unique clicks.
    pub unique_clicks: u64,
    /// Clicks by bots, crawlers and link-preview agents (not in `clicks`; they earn
    /// nothing).
    pub bot_clicks: u64,
    /// Impressions.
    pub impressions: u64,
    /// Leads and named actions, whatever their status.
    pub leads: u64,
    /// Sales, whatever their status.
    pub sales: u64,
    /// Conversion amounts, rejected and reversed ones left out.
    pub revenue: Amounts,
    /// Commissions (every level, plus per-click and per-mille), rejected and reversed
    /// conversions left out.
    pub commission: Amounts,
}

impl StatsRow {
    /// The value of dimension `d` in this row (`None` if absent or not grouped).
    #[must_use]
    pub fn get(&self, d: Dimension) -> Option<&str> {
        self.group
            .iter()
            .find(|(k, _)| *k == d)
            .and_then(|(_, v)| v.as_deref())
    }
}

impl Serialize for StatsRow {
    fn serialize<S: Serializer>(&self, s: S) -> std::result::Result<S::Ok, S::Error> {
        let mut m = s.serialize_map(None)?;
        for (d, v) in &self.group {
            m.serialize_entry(d.as_str(), v)?;
        }
        m.serialize_entry("clicks", &self.clicks)?;
        m.serialize_entry("unique_clicks", &self.unique_clicks)?;
        m.serialize_entry("bot_clicks", &self.bot_clicks)?;
        m.serialize_entry("impressions", &self.impressions)?;
        m.serialize_entry("leads", &self.leads)?;
        m.serialize_entry("sales", &self.sales)?;
        m.serialize_entry("revenue", &self.revenue)?;
        m.serialize_entry("commission", &self.commission)?;
        m.end()
    }
}

/// The JSON of a row as its serializer above writes it: the grouped dimensions (each
/// a string, `null` for an absent ad or sid), the counts, and the money per currency.
#[cfg(feature = "openapi")]
impl utoipa::PartialSchema for StatsRow {
    fn schema() -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
        use utoipa::openapi::schema::{ObjectBuilder, SchemaType, Type};
        let text =
            || ObjectBuilder::new().schema_type(SchemaType::Array(vec![Type::String, Type::Null]));
        let count = || {
            ObjectBuilder::new()
                .schema_type(Type::Integer)
                .format(Some(utoipa::openapi::SchemaFormat::KnownFormat(
                    utoipa::openapi::KnownFormat::Int64,
                )))
                .minimum(Some(0))
        };
        let money = |description: &str| {
            ObjectBuilder::new()
                .description(Some(description))
                .additional_properties(Some(ObjectBuilder::new().schema_type(Type::String)))
        };
        let mut row = ObjectBuilder::new().description(Some(
            "One row of the statistics: the `group_by` dimensions it has, its counts and its money per currency.",
        ));
        for d in Dimension::ALL {
            let value = if d == Dimension::Day {
                text().examples(["2026-11-30"])
            } else {
                text()
            };
            row = row.property(d.as_str(), value);
        }
        for name in [
            "clicks",
            "unique_clicks",
            "bot_clicks",
            "impressions",
            "leads",
            "sales",
        ] {
            row = row.property(name, count()).required(name);
        }
        row.property("revenue", money("Currency code → decimal string."))
            .required("revenue")
            .property(
                "commission",
                money("Currency code → decimal string: the commission cost, every level."),
            )
            .required("commission")
            .into()
    }
}

#[cfg(feature = "openapi")]
impl utoipa::ToSchema for StatsRow {}

/// A row's dimension values; a query groups by each dimension at most once.
type RowKey<'a> = arrayvec::ArrayVec<Option<Value<'a>>, 5>;

/// A day's traffic of a partner in a campaign and currency (one ledger entry a level).
type TrafficUnit<'a> = (u32, &'a Code, &'a Code, Currency);

#[derive(Default)]
struct Acc<'a> {
    row: StatsRow,
    /// Click commission (minor units) and impression commission (thousandths) per day,
    /// campaign, partner and currency: each rounded and its overrides added as the
    /// ledger does, at the end.
    traffic: BTreeMap<TrafficUnit<'a>, (u64, u64)>,
}

/// The overrides a partner's traffic in a campaign pays, as percentages of its own
/// earnings: those of the ancestors a report shows.
pub(crate) type TrafficOverrides<'c> = dyn Fn(&Code, &Code) -> Vec<Percent> + 'c;

/// Builds the report rows from the day's counters and the conversions, sorted by the
/// dimension values. Click and impression commission counts as the ledger will: per
/// day, campaign and partner, impressions rounded to minor units, with the overrides
/// `overrides` gives.
pub(crate) fn aggregate<'a>(
    query: &StatsQuery,
    counters: &'a BTreeMap<CounterKey, Counters>,
    conversions: &'a [Conversion],
    overrides: &TrafficOverrides<'_>,
) -> Vec<StatsRow> {
    let from = query.from_day.unwrap_or(0);
    let to = query.to_day.unwrap_or(u32::MAX);
    let wanted = |link: &Link, day: u32| {
        (from..=to).contains(&day)
            && query.campaign.is_none_or(|c| c == link.campaign)
            && query.partner.is_none_or(|p| p == link.partner)
    };
    // Each dimension once (`StatsQuery::new` makes it so; a query built by hand may
    // repeat one).
    let mut dims = arrayvec::ArrayVec::<Dimension, 5>::new();
    for d in &query.group_by {
        if !dims.contains(d) {
            dims.push(*d);
        }
    }
    let key = |link: &'a Link, day: u32| -> RowKey<'a> {
        dims.iter().map(|d| d.value(link, day)).collect()
    };
    let mut rows: BTreeMap<RowKey<'a>, Acc> = BTreeMap::new();
    for (k, c) in counters {
        if !wanted(&k.link, k.day) {
            continue;
        }
        let acc = rows.entry(key(&k.link, k.day)).or_default();
        let r = &mut acc.row;
        r.clicks = r.clicks.saturating_add(c.clicks);
        r.unique_clicks = r.unique_clicks.saturating_add(c.unique_clicks);
        r.bot_clicks = r.bot_clicks.saturating_add(c.bot_clicks);
        r.impressions = r.impressions.saturating_add(c.impressions);
        if c.click_commission_minor > 0 || c.impression_commission_milli > 0 {
            let t = acc
                .traffic
                .entry((k.day, &k.link.campaign, &k.link.partner, k.currency))
                .or_default();
            t.0 = t.0.saturating_add(c.click_commission_minor);
            t.1 = t.1.saturating_add(c.impression_commission_milli);
        }
    }
    for conv in conversions {
        let day = day_of(conv.converted_at);
        if !wanted(&conv.link, day) {
            continue;
        }
        let r = &mut rows.entry(key(&conv.link, day)).or_default().row;
        match conv.kind {
            Kind::Sale => r.sales += 1,
            Kind::Lead | Kind::Action(_) => r.leads += 1,
        }
        if conv.status.counts_money() {
            // Net of refunds: what the order kept, and what each level kept of it.
            let net = conv.net_amount();
            r.revenue.add(net.currency(), u128::from(net.minor()));
            for c in &conv.commissions {
                r.commission.add(
                    c.amount.currency(),
                    u128::from(conv.net_commission_minor(c.amount.minor())),
                );
            }
        }
    }
    let mut days = BTreeMap::new();
    // Each campaign and partner's overrides, once.
    let mut chains: std::collections::HashMap<(&Code, &Code), Vec<Percent>> =
        std::collections::HashMap::new();
    rows.into_iter()
        .map(|(k, mut acc)| {
            for ((_, campaign, partner, currency), (clicks, milli)) in &acc.traffic {
                let base = traffic_minor(*clicks, *milli);
                let chain = chains
                    .entry((campaign, partner))
                    .or_insert_with(|| overrides(campaign, partner));
                let cost = chain.iter().fold(u128::from(base), |sum, pct| {
                    sum + u128::from(pct.of_minor(base))
                });
                acc.row.commission.add(*currency, cost);
            }
            acc.row.group = dims
                .iter()
                .copied()
                .zip(k.into_iter().map(|v| v.map(|v| v.text(&mut days))))
                .collect();
            acc.row
        })
        .collect()
}

/// Most rows one page of a report holds, and the default.
pub const MAX_STATS_LIMIT: usize = 10_000;

/// One page of a report: at most the limit's rows, in the order of their dimension
/// values, and the cursor of the next page (`None` on the last).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(
    feature = "openapi",
    derive(utoipa::ToSchema),
    schema(
        description = "A page of statistics rows and the cursor of the next page (null on the last)."
    )
)]
pub struct StatsPage {
    /// The rows.
    pub rows: Vec<StatsRow>,
    /// Pass it back to get the rows after these.
    pub next_cursor: Option<String>,
}

impl StatsRow {
    fn values(&self) -> Vec<Option<&str>> {
        self.group.iter().map(|(_, v)| v.as_deref()).collect()
    }
}

/// The page of sorted `rows` after `cursor`, at most `limit` long.
pub(crate) fn page(rows: Vec<StatsRow>, limit: usize, cursor: Option<&str>) -> Result<StatsPage> {
    use base64::Engine as _;
    use base64::engine::general_purpose::URL_SAFE_NO_PAD;
    if !(1..=MAX_STATS_LIMIT).contains(&limit) {
        return Err(Error::malformed("limit", "must be 1 to 10000"));
    }
    let after: Option<Vec<Option<String>>> = match cursor {
        None => None,
        Some(c) => {
            let bad = || Error::malformed("cursor", "not a cursor this report gave");
            if c.len() > 8192 {
                return Err(bad());
            }
            let json = URL_SAFE_NO_PAD.decode(c).map_err(|_| bad())?;
            let values: Vec<Option<String>> = serde_json::from_slice(&json).map_err(|_| bad())?;
            if rows.first().is_some_and(|r| r.group.len() != values.len()) {
                return Err(bad());
            }
            Some(values)
        }
    };
    let start = match &after {
        None => 0,
        Some(a) => {
            let a: Vec<Option<&str>> = a.iter().map(Option::as_deref).collect();
            rows.partition_point(|r| r.values() <= a)
        }
    };
    let mut rows = rows;
    let rest = rows.len().saturating_sub(start);
    let page: Vec<StatsRow> = rows.drain(start..).take(limit).collect();
    let next_cursor = (rest > limit)
        .then(|| page.last())
        .flatten()
        .map(|last| URL_SAFE_NO_PAD.encode(serde_json::to_vec(&last.values()).unwrap_or_default()));
    Ok(StatsPage {
        rows: page,
        next_cursor,
    })
}
