//! Reports: `GET /v1/stats` and `GET /v1/stats.csv`, and the strict query parsing
//! every listing shares.

use affiliate_sdk::{Code, Dimension, MAX_LIST_LIMIT, MAX_STATS_LIMIT, StatsQuery};
use axum::Json;
use axum::extract::{RawQuery, State};
use axum::http::header::{CACHE_CONTROL, CONTENT_DISPOSITION, CONTENT_TYPE};
use axum::response::{IntoResponse, Response};

use crate::http::{ApiError, ApiResult, Authorized, Shared, blocking};
#[allow(unused_imports)]
use crate::openapi::schemas::*;

#[utoipa::path(
    get,
    operation_id = "reports_stats",
    path = "/v1/stats",
    tag = "reports",
    summary = "Statistics grouped by dimensions",
    description = "Counts and money grouped by `group_by` (none: one total row), rows in the order of their dimension values, at most `limit` per answer. `revenue` and `commission` are per currency; `commission` is the total commission cost, every level included. `bot_clicks` are not in `clicks`.",
    params(
        StatsFilters,
        StatsPaging
    ),
    security(("api_key" = [])),
    responses(
        (status = 200, description = "A page of rows", body = StatsPage),
        Refusals
    )
)]
pub async fn stats(
    State(state): State<Shared>,
    _: Authorized,
    RawQuery(query): RawQuery,
) -> ApiResult<Json<serde_json::Value>> {
    let (q, limit, cursor) = stats_query(query.as_deref().unwrap_or(""))?;
    let page = blocking(&state, move |t| t.stats_page(&q, limit, cursor.as_deref())).await?;
    Ok(Json(
        serde_json::json!({ "rows": page.rows, "next_cursor": page.next_cursor }),
    ))
}

/// The query's `name=value` pairs, each name at most once (a repeated filter is an
/// error, not a silent choice).
pub(crate) fn strict_pairs(query: &str) -> ApiResult<Vec<(String, String)>> {
    let mut pairs: Vec<(String, String)> = Vec::new();
    for (name, value) in url::form_urlencoded::parse(query.as_bytes()) {
        if pairs.iter().any(|(n, _)| *n == name) {
            return Err(ApiError::malformed(format!(
                "parameter {} appears more than once",
                crate::http::cut(&name)
            )));
        }
        pairs.push((name.into_owned(), value.into_owned()));
    }
    Ok(pairs)
}

/// A listing's `limit`: 1 to [`MAX_LIST_LIMIT`].
pub(crate) fn list_limit(value: &str) -> ApiResult<usize> {
    value
        .parse()
        .ok()
        .filter(|n| (1..=MAX_LIST_LIMIT).contains(n))
        .ok_or_else(|| ApiError::malformed("limit: must be 1 to 1000"))
}

/// Parses `group_by=…&from=…&to=…&campaign=…&partner=…&limit=…&cursor=…`; anything
/// else is an error, so a misspelt filter does not silently report everything.
pub(crate) fn stats_query(query: &str) -> ApiResult<(StatsQuery, usize, Option<String>)> {
    let mut q = StatsQuery::default();
    let mut limit = MAX_STATS_LIMIT;
    let mut cursor = None;
    for (name, value) in strict_pairs(query)? {
        match name.as_str() {
            "group_by" => {
                let dims: Vec<Dimension> = StatsQuery::parse_group_by(&value)?;
                q.group_by = StatsQuery::new(&dims).group_by;
            }
            "from" => q.from_day = Some(affiliate_sdk::parse_day(&value)?),
            "to" => q.to_day = Some(affiliate_sdk::parse_day(&value)?),
            "campaign" => q.campaign = Some(Code::new(&value)?),
            "partner" => q.partner = Some(Code::new(&value)?),
            "limit" => {
                limit = value
                    .parse()
                    .ok()
                    .filter(|n| (1..=MAX_STATS_LIMIT).contains(n))
                    .ok_or_else(|| ApiError::malformed("limit: must be 1 to 10000"))?;
            }
            "cursor" => cursor = Some(value),
            other => {
                return Err(ApiError::malformed(format!(
                    "unknown parameter {:?}; expected group_by, from, to, campaign, partner, limit, cursor",
                    crate::http::cut(other)
                )));
            }
        }
    }
    Ok((q, limit, cursor))
}

/// `GET /v1/balances?partner&currency`: what each beneficiary earns at every level.
#[utoipa::path(
    get,
    operation_id = "reports_balances",
    path = "/v1/balances",
    tag = "reports",
    summary = "What each partner earns as a beneficiary",
    description = "What each partner earns as a beneficiary, at every level, per currency: `pending`, `payable`, `in_payout`, `paid` and `clawback`. What the next payout pays a partner is `payable - clawback`.",
    params(
        LedgerFilters
    ),
    security(("api_key" = [])),
    responses(
        (status = 200, description = "Rows by partner and currency", body = Balances),
        Refusals
    )
)]
pub async fn balances(
    State(state): State<Shared>,
    _: Authorized,
    RawQuery(query): RawQuery,
) -> ApiResult<Json<Balances>> {
    let (mut partner, mut currency) = (None, None);
    for (name, value) in strict_pairs(query.as_deref().unwrap_or(""))? {
        match name.as_str() {
            "partner" => partner = Some(value),
            "currency" => currency = Some(value),
            other => {
                return Err(ApiError::malformed(format!(
                    "unknown parameter {:?}; expected partner, currency",
                    crate::http::cut(other)
                )));
            }
        }
    }
    let rows = blocking(&state, move |t| {
        t.balances(partner.as_deref(), currency.as_deref())
    })
    .await?;
    Ok(Json(Balances::new(&rows)))
}

/// A CSV answer, downloaded as `name`.
pub(crate) fn csv_response(name: &str, body: String) -> Response {
    (
        [
            (CONTENT_TYPE, "text/csv; charset=utf-8".to_owned()),
            (
                CONTENT_DISPOSITION,
                format!("attachment; filename=\"{name}\""),
            ),
            (CACHE_CONTROL, "no-store".to_owned()),
        ],
        body,
    )
        .into_response()
}

/// `GET /v1/stats.csv`: the report of `/v1/stats` (every row) as CSV.
#[utoipa::path(
    get,
    operation_id = "reports_stats_csv",
    path = "/v1/stats.csv",
    tag = "reports",
    summary = "Every statistics row as CSV, a line per currency",
    params(
        StatsFilters
    ),
    security(("api_key" = [])),
    responses(
        (status = 200, description = "RFC 4180, UTF-8, a header row", body = String, content_type = "text/csv"),
        Refusals
    )
)]
pub async fn stats_csv(
    State(state): State<Shared>,
    _: Authorized,
    RawQuery(query): RawQuery,
) -> ApiResult<Response> {
    let (q, _, cursor) = stats_query(query.as_deref().unwrap_or(""))?;
    if cursor.is_some() {
        return Err(ApiError::malformed("a CSV file holds every row: no cursor"));
    }
    let csv = blocking(&state, move |t| {
        affiliate_sdk::stats_csv(&q.group_by, &t.stats(&q)?)
    })
    .await?;
    Ok(csv_response("stats.csv", csv))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stats_query_is_strict() {
        let (q, limit, cursor) =
            stats_query("group_by=partner,day,partner&from=2026-11-01&campaign=haircare").unwrap();
        assert_eq!((limit, cursor), (MAX_STATS_LIMIT, None));
        assert_eq!(q.group_by, [Dimension::Partner, Dimension::Day]);
        assert!(q.from_day.is_some() && q.to_day.is_none());
        for bad in [
            "group_by=country",
            "from=2026-13-01",
            "campaign=a b",
            "partnr=x",
            "from=2026-11-01&from=2026-11-02",
            "limit=0",
            "limit=10001",
            "limit=ten",
        ] {
            assert_eq!(stats_query(bad).unwrap_err().code, "malformed", "{bad}");
        }
    }
}
