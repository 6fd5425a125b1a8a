//! Day arithmetic: UTC day numbers (days since 1970-01-01) as reports show them, and
//! calendar months for recurring commissions.

use crate::error::{Error, Result};
use crate::store::day_of;

/// The Julian day number of 1970-01-01.
const UNIX_EPOCH_JULIAN_DAY: i32 = 2_440_588;

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

/// The reference of a day's traffic entries: `YYYY-MM-DD/campaign/partner`.
#[must_use]
pub fn traffic_reference(
    day: u32,
    campaign: &crate::code::Code,
    partner: &crate::code::Code,
) -> String {
    format!("{}/{campaign}/{partner}", format_day(day))
}

/// The day, campaign and referring partner of a traffic reference.
pub fn parse_traffic_reference(
    reference: &str,
) -> Option<(u32, crate::code::Code, crate::code::Code)> {
    let mut parts = reference.split('/');
    let day = parse_day(parts.next()?).ok()?;
    let campaign = crate::code::Code::new(parts.next()?).ok()?;
    let partner = crate::code::Code::new(parts.next()?).ok()?;
    parts.next().is_none().then_some((day, campaign, partner))
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
