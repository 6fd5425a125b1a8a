//! Reports: clicks, unique clicks, impressions, leads, sales, revenue and commission,
//! grouped by any of campaign, partner, ad, sid and UTC day.

use std::collections::BTreeMap;
use std::fmt;
use std::str::FromStr;

use serde::ser::SerializeMap;
use serde::{Serialize, Serializer};

use super::{Conversion, Kind};
use crate::code::Code;
use crate::error::{Error, Result};
use crate::link::Link;
use crate::money::{Currency, format_minor};
use crate::store::{CounterKey, Counters, day_of};

/// The Julian day number of 1970-01-01.
const UNIX_EPOCH_JULIAN_DAY: i32 = 2_440_588;

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

    fn value(self, link: &Link, day: u32) -> Option<String> {
        match self {
            Dimension::Campaign => Some(link.campaign.to_string()),
            Dimension::Partner => Some(link.partner.to_string()),
            Dimension::Ad => link.ad.map(|a| a.to_string()),
            Dimension::Sid => link.sid.map(|s| s.to_string()),
            Dimension::Day => Some(format_day(day)),
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

/// Formats a day number (days since 1970-01-01) as `YYYY-MM-DD`.
#[must_use]
pub fn format_day(day: u32) -> String {
    let julian = i32::try_from(day)
        .ok()
        .and_then(|d| d.checked_add(UNIX_EPOCH_JULIAN_DAY));
    match julian.and_then(|j| time::Date::from_julian_day(j).ok()) {
        Some(d) => format!("{:04}-{:02}-{:02}", d.year(), u8::from(d.month()), d.day()),
        None => "9999-12-31".into(),
    }
}

/// Parses `YYYY-MM-DD` (from 1970-01-01) into a day number.
pub fn parse_day(s: &str) -> Result<u32> {
    let bad = || Error::malformed("date", "expected YYYY-MM-DD from 1970-01-01");
    let b = s.as_bytes();
    if b.len() != 10 || b[4] != b'-' || b[7] != b'-' {
        return Err(bad());
    }
    let num = |r: std::ops::Range<usize>| -> Result<u32> {
        let part = &s[r];
        if !part.bytes().all(|c| c.is_ascii_digit()) {
            return Err(bad());
        }
        part.parse().map_err(|_| bad())
    };
    let (y, m, d) = (num(0..4)?, num(5..7)?, num(8..10)?);
    let month = time::Month::try_from(u8::try_from(m).map_err(|_| bad())?).map_err(|_| bad())?;
    let date = time::Date::from_calendar_date(
        i32::try_from(y).map_err(|_| bad())?,
        month,
        u8::try_from(d).map_err(|_| bad())?,
    )
    .map_err(|_| bad())?;
    u32::try_from(date.to_julian_day() - UNIX_EPOCH_JULIAN_DAY).map_err(|_| bad())
}

/// Adds calendar months to a Unix time: the same day of the month (clamped to the
/// month's last day) and time of day, `months` later.
pub(crate) fn add_months(unix_secs: u64, months: u32) -> u64 {
    let day = day_of(unix_secs);
    let secs_in_day = unix_secs % 86_400;
    let Some(date) = i32::try_from(day)
        .ok()
        .and_then(|d| time::Date::from_julian_day(d + UNIX_EPOCH_JULIAN_DAY).ok())
    else {
        return u64::MAX;
    };
    let total =
        i64::from(date.year()) * 12 + i64::from(u8::from(date.month())) - 1 + i64::from(months);
    let (year, month0) = (total.div_euclid(12), total.rem_euclid(12));
    let Some(later) = i32::try_from(year).ok().and_then(|y| {
        let m = time::Month::try_from(u8::try_from(month0 + 1).ok()?).ok()?;
        time::Date::from_calendar_date(y, m, date.day().min(m.length(y))).ok()
    }) else {
        return u64::MAX;
    };
    let days = u64::try_from(later.to_julian_day() - UNIX_EPOCH_JULIAN_DAY).unwrap_or(u64::MAX);
    days.saturating_mul(86_400).saturating_add(secs_in_day)
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
        m.serialize_entry("impressions", &self.impressions)?;
        m.serialize_entry("leads", &self.leads)?;
        m.serialize_entry("sales", &self.sales)?;
        m.serialize_entry("revenue", &self.revenue)?;
        m.serialize_entry("commission", &self.commission)?;
        m.end()
    }
}

type RowKey = Vec<Option<String>>;

#[derive(Default)]
struct Acc {
    row: StatsRow,
    impression_milli: BTreeMap<Currency, u128>,
}

/// Builds the report rows from the day's counters and the conversions, sorted by the
/// dimension values.
pub(crate) fn aggregate(
    query: &StatsQuery,
    counters: &BTreeMap<CounterKey, Counters>,
    conversions: &[Conversion],
) -> Vec<StatsRow> {
    let from = query.from_day.unwrap_or(0);
    let to = query.to_day.unwrap_or(u32::MAX);
    let wanted = |link: &Link, day: u32| {
        (from..=to).contains(&day)
            && query.campaign.is_none_or(|c| c == link.campaign)
            && query.partner.is_none_or(|p| p == link.partner)
    };
    let key = |link: &Link, day: u32| -> RowKey {
        query.group_by.iter().map(|d| d.value(link, day)).collect()
    };
    let mut rows: BTreeMap<RowKey, Acc> = BTreeMap::new();
    for (k, c) in counters {
        if !wanted(&k.link, k.day) {
            continue;
        }
        let acc = rows.entry(key(&k.link, k.day)).or_default();
        let r = &mut acc.row;
        r.clicks = r.clicks.saturating_add(c.clicks);
        r.unique_clicks = r.unique_clicks.saturating_add(c.unique_clicks);
        r.impressions = r.impressions.saturating_add(c.impressions);
        r.commission
            .add(k.currency, u128::from(c.click_commission_minor));
        let m = acc.impression_milli.entry(k.currency).or_insert(0);
        *m = m.saturating_add(u128::from(c.impression_commission_milli));
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
            r.revenue
                .add(conv.amount.currency(), u128::from(conv.amount.minor()));
            for c in &conv.commissions {
                r.commission
                    .add(c.amount.currency(), u128::from(c.amount.minor()));
            }
        }
    }
    rows.into_iter()
        .map(|(k, mut acc)| {
            for (currency, milli) in &acc.impression_milli {
                // Half away from zero, as every commission.
                acc.row.commission.add(*currency, (milli + 500) / 1000);
            }
            acc.row.group = query.group_by.iter().copied().zip(k).collect();
            acc.row
        })
        .collect()
}
