//! Reports: `GET /v1/stats`, `GET /v1/stats.csv` and `GET /v1/balances`, and the CSV
//! answer every file shares.

use axum::Json;
use axum::extract::State;
use axum::http::header::{CACHE_CONTROL, CONTENT_DISPOSITION, CONTENT_TYPE};
use axum::response::{IntoResponse, Response};

use super::params::{Filters, LedgerFilters, StatsFilters, StatsParams};
use crate::http::{ApiResult, Authorized, Shared, StrictQuery, blocking};
#[allow(unused_imports)]
use crate::openapi::schemas::*;

#[utoipa::path(
    get,
    operation_id = "reports_stats",
    path = "/v1/stats",
    tag = "reports",
    summary = "Statistics grouped by dimensions",
    description = "Counts and money grouped by `group_by` (none: one total row), rows in the order of their dimension values, at most `limit` per answer. `revenue` and `commission` are per currency; `commission` is the total commission cost, every level included. `bot_clicks` are not in `clicks`.",
    params(StatsParams),
    security(("api_key" = [])),
    responses(
        (status = 200, description = "A page of rows", body = StatsPage),
        Refusals
    )
)]
pub async fn stats(
    State(state): State<Shared>,
    _: Authorized,
    StrictQuery(params): StrictQuery<StatsParams>,
) -> ApiResult<Json<StatsPage>> {
    let (q, limit, cursor) = params.query()?;
    let page = blocking(&state, move |t| t.stats_page(&q, limit, cursor.as_deref())).await?;
    Ok(Json(page))
}

/// `GET /v1/balances?partner&currency`: what each beneficiary earns at every level.
#[utoipa::path(
    get,
    operation_id = "reports_balances",
    path = "/v1/balances",
    tag = "reports",
    summary = "What each partner earns as a beneficiary",
    description = "What each partner earns as a beneficiary, at every level, per currency: `pending`, `payable`, `in_payout`, `paid` and `clawback`. What the next payout pays a partner is `payable - clawback`.",
    params(LedgerFilters),
    security(("api_key" = [])),
    responses(
        (status = 200, description = "Rows by partner and currency", body = Balances),
        Refusals
    )
)]
pub async fn balances(
    State(state): State<Shared>,
    _: Authorized,
    StrictQuery(LedgerFilters { partner, currency }): StrictQuery<LedgerFilters>,
) -> ApiResult<Json<Balances>> {
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
    params(StatsFilters),
    security(("api_key" = [])),
    responses(
        (status = 200, description = "RFC 4180, UTF-8, a header row", body = String, content_type = "text/csv"),
        Refusals
    )
)]
pub async fn stats_csv(
    State(state): State<Shared>,
    _: Authorized,
    StrictQuery(params): StrictQuery<StatsFilters>,
) -> ApiResult<Response> {
    let q = params.query()?;
    let csv = blocking(&state, move |t| {
        affiliate_sdk::stats_csv(&q.group_by, &t.stats(&q)?)
    })
    .await?;
    Ok(csv_response("stats.csv", csv))
}

#[cfg(test)]
mod tests {
    use super::*;
    use affiliate_sdk::{Dimension, MAX_STATS_LIMIT, StatsQuery};

    fn stats_query(query: &str) -> ApiResult<(StatsQuery, usize, Option<String>)> {
        // As a request carries it: a space as `+`.
        let uri = format!("/v1/stats?{}", query.replace(' ', "+"))
            .parse()
            .unwrap();
        StrictQuery::<StatsParams>::parse(&uri)?.0.query()
    }

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
