//! The query parameters of the API's listings and reports: each type is what one
//! handler's [`StrictQuery`](crate::http::StrictQuery) reads and what the OpenAPI
//! document shows, a listing's filters and its page ([`Paged`]) apart so a CSV file
//! takes the same filters without a page. The values arrive as strings; `query()`
//! turns them into the core's query with the core's own parsers (their errors name the
//! parameter).

use affiliate_sdk::{Code, ConversionQuery, Dimension, MAX_LIST_LIMIT, MAX_STATS_LIMIT};
use affiliate_sdk::{PartnerQuery, StatsQuery};
use serde::Deserialize;
use utoipa::IntoParams;
use utoipa::openapi::path::{Parameter, ParameterIn};

use crate::http::{ApiError, ApiResult};
use crate::openapi::schemas::{
    CodeText, ConversionStatus, Currency, Day, PartnerStatus, PayoutStatus,
};

/// A listing's `limit`: 1 to `max`.
fn limit(value: Option<&str>, default: usize, max: usize) -> ApiResult<usize> {
    let Some(value) = value else {
        return Ok(default);
    };
    value
        .parse()
        .ok()
        .filter(|n| (1..=max).contains(n))
        .ok_or_else(|| ApiError::malformed(format!("limit: must be 1 to {max}")))
}

fn code(value: Option<&str>) -> ApiResult<Option<Code>> {
    Ok(value.map(Code::new).transpose()?)
}

fn day(value: Option<&str>) -> ApiResult<Option<u32>> {
    Ok(value.map(affiliate_sdk::parse_day).transpose()?)
}

/// A listing's filters `F` and its page `P` (flattened into one query).
#[derive(Deserialize)]
pub struct Paged<F, P> {
    #[serde(flatten)]
    filters: F,
    #[serde(flatten)]
    page: P,
}

impl<F: IntoParams, P: IntoParams> IntoParams for Paged<F, P> {
    fn into_params(parameter_in: impl Fn() -> Option<ParameterIn>) -> Vec<Parameter> {
        let mut params = F::into_params(&parameter_in);
        params.extend(P::into_params(parameter_in));
        params
    }
}

/// A page's size and where it starts.
pub trait PageSize {
    /// The page size asked for, or the default.
    fn limit(&self) -> ApiResult<usize>;
    /// `next_cursor` of the page before.
    fn cursor(self) -> Option<String>;
}

/// A page of a listing or a delivery log.
#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct Page {
    /// 1 to 1,000 (default 100).
    #[param(value_type = Option<u32>, nullable = false, minimum = 1, maximum = 1000)]
    limit: Option<String>,
    /// `next_cursor` of the page before.
    #[param(nullable = false)]
    cursor: Option<String>,
}

impl PageSize for Page {
    fn limit(&self) -> ApiResult<usize> {
        limit(self.limit.as_deref(), 100, MAX_LIST_LIMIT)
    }

    fn cursor(self) -> Option<String> {
        self.cursor
    }
}

/// A page of statistics rows.
#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct StatsPaging {
    /// 1 to 10,000 (the default).
    #[param(value_type = Option<u32>, nullable = false, minimum = 1, maximum = 10000)]
    limit: Option<String>,
    /// `next_cursor` of the page before.
    #[param(nullable = false)]
    cursor: Option<String>,
}

impl PageSize for StatsPaging {
    fn limit(&self) -> ApiResult<usize> {
        limit(self.limit.as_deref(), MAX_STATS_LIMIT, MAX_STATS_LIMIT)
    }

    fn cursor(self) -> Option<String> {
        self.cursor
    }
}

/// Filters that make a core query.
pub trait Filters {
    /// The core's query.
    type Query;
    /// The core's query, each value checked by the core's parser.
    fn query(self) -> ApiResult<Self::Query>;
}

impl<F: Filters, P: PageSize> Paged<F, P> {
    /// The core's query, the page size and the cursor.
    pub fn query(self) -> ApiResult<(F::Query, usize, Option<String>)> {
        let limit = self.page.limit()?;
        Ok((self.filters.query()?, limit, self.page.cursor()))
    }
}

/// What the statistics count and how they are grouped.
#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct StatsFilters {
    /// Comma-separated `campaign`, `partner`, `ad`, `sid`, `day`; none: one total row.
    #[param(
        nullable = false,
        pattern = "^(campaign|partner|ad|sid|day)(,(campaign|partner|ad|sid|day))*$"
    )]
    group_by: Option<String>,
    /// The first UTC day.
    #[param(value_type = Option<Day>, nullable = false)]
    from: Option<String>,
    /// The last UTC day.
    #[param(value_type = Option<Day>, nullable = false)]
    to: Option<String>,
    #[param(value_type = Option<CodeText>, nullable = false)]
    campaign: Option<String>,
    #[param(value_type = Option<CodeText>, nullable = false)]
    partner: Option<String>,
}

impl Filters for StatsFilters {
    type Query = StatsQuery;
    fn query(self) -> ApiResult<StatsQuery> {
        let mut q = StatsQuery::default();
        if let Some(g) = &self.group_by {
            let dims: Vec<Dimension> = StatsQuery::parse_group_by(g)?;
            q.group_by = StatsQuery::new(&dims).group_by;
        }
        q.from_day = day(self.from.as_deref())?;
        q.to_day = day(self.to.as_deref())?;
        q.campaign = code(self.campaign.as_deref())?;
        q.partner = code(self.partner.as_deref())?;
        Ok(q)
    }
}

/// A page of statistics.
pub type StatsParams = Paged<StatsFilters, StatsPaging>;

/// The filters of a conversion listing.
#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ConversionFilters {
    #[param(value_type = Option<ConversionStatus>, nullable = false)]
    status: Option<String>,
    /// The partner credited.
    #[param(value_type = Option<CodeText>, nullable = false)]
    partner: Option<String>,
    #[param(value_type = Option<CodeText>, nullable = false)]
    campaign: Option<String>,
    /// The first UTC day.
    #[param(value_type = Option<Day>, nullable = false)]
    from: Option<String>,
    /// The last UTC day.
    #[param(value_type = Option<Day>, nullable = false)]
    to: Option<String>,
}

impl Filters for ConversionFilters {
    type Query = ConversionQuery;
    fn query(self) -> ApiResult<ConversionQuery> {
        let mut q = ConversionQuery::default();
        q.status = self.status.as_deref().map(str::parse).transpose()?;
        q.partner = code(self.partner.as_deref())?;
        q.campaign = code(self.campaign.as_deref())?;
        q.from_day = day(self.from.as_deref())?;
        q.to_day = day(self.to.as_deref())?;
        Ok(q)
    }
}

/// A page of conversions.
pub type ConversionParams = Paged<ConversionFilters, Page>;

/// The filters of the partner listing.
#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct PartnerFilters {
    /// `active` or `suspended`.
    #[param(value_type = Option<PartnerStatus>, nullable = false)]
    status: Option<String>,
    /// Only the children of this partner.
    #[param(value_type = Option<CodeText>, nullable = false)]
    parent: Option<String>,
}

impl Filters for PartnerFilters {
    type Query = PartnerQuery;
    fn query(self) -> ApiResult<PartnerQuery> {
        let mut q = PartnerQuery::default();
        q.status = self.status.as_deref().map(str::parse).transpose()?;
        q.parent = code(self.parent.as_deref())?;
        Ok(q)
    }
}

/// A page of partners.
pub type PartnerParams = Paged<PartnerFilters, Page>;

/// Whose balances, in which currency.
#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct LedgerFilters {
    #[param(value_type = Option<CodeText>, nullable = false)]
    pub(crate) partner: Option<String>,
    #[param(value_type = Option<Currency>, nullable = false)]
    pub(crate) currency: Option<String>,
}

/// Whose payouts, in which currency and status.
#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct PayoutFilters {
    #[param(value_type = Option<CodeText>, nullable = false)]
    pub(crate) partner: Option<String>,
    #[param(value_type = Option<Currency>, nullable = false)]
    pub(crate) currency: Option<String>,
    #[param(value_type = Option<PayoutStatus>, nullable = false)]
    pub(crate) status: Option<String>,
}

/// Whose traffic earnings, of which days.
#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct TrafficFilters {
    /// The beneficiary.
    #[param(value_type = Option<CodeText>, nullable = false)]
    pub partner: Option<String>,
    /// The first UTC day.
    #[param(value_type = Option<Day>, nullable = false)]
    pub from: Option<String>,
    /// The last UTC day.
    #[param(value_type = Option<Day>, nullable = false)]
    pub to: Option<String>,
}

/// Which days of the caller's traffic earnings.
#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct DayRange {
    /// The first UTC day.
    #[param(value_type = Option<Day>, nullable = false)]
    pub(crate) from: Option<String>,
    /// The last UTC day.
    #[param(value_type = Option<Day>, nullable = false)]
    pub(crate) to: Option<String>,
}

/// Whose adjustments, in which currency.
#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct AdjustmentFilters {
    #[param(value_type = Option<CodeText>, nullable = false)]
    pub(crate) partner: Option<String>,
    #[param(value_type = Option<Currency>, nullable = false)]
    pub(crate) currency: Option<String>,
}

/// Whose ads: the caller's, or a descendant's.
#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct AdsParams {
    /// A descendant.
    #[param(value_type = Option<CodeText>, nullable = false)]
    pub(crate) partner: Option<String>,
}
