//! Lists the merchant pages through: conversions newest first and partners by code,
//! each a page at a time with an opaque cursor.

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;

use super::partner::{Partner, PartnerStatus};
use crate::code::Code;
use crate::error::{Error, Result};
use crate::records::{Conversion, Status};
use crate::store::day_of;

/// Most conversions or partners one page holds.
pub const MAX_LIST_LIMIT: usize = 1000;

/// Which conversions a listing holds; every filter set must match.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct ConversionQuery {
    /// Only this status.
    pub status: Option<Status>,
    /// Only conversions credited to this partner (level 0).
    pub partner: Option<Code>,
    /// Only this campaign.
    pub campaign: Option<Code>,
    /// From this UTC day (days since 1970-01-01), inclusive.
    pub from_day: Option<u32>,
    /// To this UTC day, inclusive.
    pub to_day: Option<u32>,
}

impl ConversionQuery {
    /// Whether `c` passes the filters (the days are the store's to apply).
    #[must_use]
    pub fn matches(&self, c: &Conversion) -> bool {
        self.status.is_none_or(|s| c.status == s)
            && self.partner.is_none_or(|p| c.link.partner == p)
            && self.campaign.is_none_or(|k| c.link.campaign == k)
            && self.from_day.is_none_or(|d| day_of(c.converted_at) >= d)
            && self.to_day.is_none_or(|d| day_of(c.converted_at) <= d)
    }
}

/// One page of conversions, newest first.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConversionsPage {
    /// The conversions.
    pub conversions: Vec<Conversion>,
    /// Pass it back for the conversions after these; `None` on the last page.
    pub next_cursor: Option<String>,
}

fn bad_cursor() -> Error {
    Error::malformed("cursor", "not a cursor this listing gave")
}

fn check_limit(limit: usize) -> Result<()> {
    if (1..=MAX_LIST_LIMIT).contains(&limit) {
        Ok(())
    } else {
        Err(Error::malformed("limit", "must be 1 to 1000"))
    }
}

/// The page of `all` (any order) after `cursor`: newest first, ties by order id.
pub(crate) fn conversions_page(
    mut all: Vec<Conversion>,
    query: &ConversionQuery,
    limit: usize,
    cursor: Option<&str>,
) -> Result<ConversionsPage> {
    check_limit(limit)?;
    let after: Option<(u64, String)> = cursor
        .map(|c| {
            let bytes = (c.len() <= 1024)
                .then(|| URL_SAFE_NO_PAD.decode(c).ok())
                .flatten()
                .ok_or_else(bad_cursor)?;
            serde_json::from_slice(&bytes).map_err(|_| bad_cursor())
        })
        .transpose()?;
    all.retain(|c| query.matches(c));
    newest_first(&mut all);
    let start = after.map_or(0, |(at, id)| {
        use std::cmp::Reverse;
        let a = (Reverse(at), Reverse(id.as_str()));
        all.partition_point(|c| (Reverse(c.converted_at), Reverse(c.order_id.as_str())) <= a)
    });
    let rest = all.len().saturating_sub(start);
    let conversions: Vec<Conversion> = all.drain(start..).take(limit).collect();
    let next_cursor = (rest > limit)
        .then(|| conversions.last())
        .flatten()
        .and_then(|c| serde_json::to_vec(&(c.converted_at, &c.order_id)).ok())
        .map(|b| URL_SAFE_NO_PAD.encode(b));
    Ok(ConversionsPage {
        conversions,
        next_cursor,
    })
}

/// Sorts conversions newest first, ties by order id (descending): the order of every
/// listing and CSV file.
pub(crate) fn newest_first(all: &mut [Conversion]) {
    all.sort_by(|a, b| (b.converted_at, &b.order_id).cmp(&(a.converted_at, &a.order_id)));
}

/// Which partners a listing holds.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct PartnerQuery {
    /// Only this status.
    pub status: Option<PartnerStatus>,
    /// Only the children of this partner.
    pub parent: Option<Code>,
}

/// One page of partners, by code.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PartnersPage {
    /// The partners.
    pub partners: Vec<Partner>,
    /// Pass it back for the partners after these; `None` on the last page.
    pub next_cursor: Option<String>,
}

/// The page of `sorted` (by code) after `cursor` (a partner code).
pub(crate) fn partners_page(
    sorted: &[&Partner],
    query: &PartnerQuery,
    limit: usize,
    cursor: Option<&str>,
) -> Result<PartnersPage> {
    check_limit(limit)?;
    let after = cursor
        .map(|c| Code::new(c).map_err(|_| bad_cursor()))
        .transpose()?;
    let start = after.map_or(0, |a| sorted.partition_point(|p| p.code <= a));
    let mut matching = sorted[start..].iter().filter(|p| {
        query.status.is_none_or(|s| p.status == s)
            && query.parent.is_none_or(|q| p.parent == Some(q))
    });
    let partners: Vec<Partner> = matching
        .by_ref()
        .take(limit)
        .map(|p| (*p).clone())
        .collect();
    let next_cursor = (partners.len() == limit && matching.next().is_some())
        .then(|| partners.last().map(|p| p.code.to_string()))
        .flatten();
    Ok(PartnersPage {
        partners,
        next_cursor,
    })
}
