//! Traffic earnings through the merchant API: each partner's paid clicks and
//! impressions of a UTC day, in the ledger once the day is over (`GET /v1/traffic`),
//! written now (`POST /v1/traffic/close`), or rejected
//! (`POST /v1/traffic/{day}/{campaign}/{partner}/reject`).

use affiliate_sdk::answers::TrafficList;
use affiliate_sdk::{Tracker, TrafficClosed};
use axum::Json;
use axum::extract::{Path, State};

use super::params::TrafficFilters;
use crate::http::{ApiResult, Authorized, Shared, StrictQuery, blocking};
#[allow(unused_imports)]
use crate::openapi::schemas::*;

/// `GET /v1/traffic?partner&from&to`: by day, campaign, partner and level.
#[utoipa::path(
    get,
    operation_id = "traffic_list",
    path = "/v1/traffic",
    tag = "payouts",
    summary = "Click and impression earnings in the ledger, per day, campaign, partner and level",
    description = "Each partner's paid clicks and impressions of a UTC day become ledger entries (kind `traffic`) once the day is over and an hour of grace has passed: the partner's at level 0, its ancestors' overrides above. `partner` keeps the entries whose beneficiary it is.",
    params(TrafficFilters),
    security(("api_key" = [])),
    responses(
        (status = 200, description = "The entries", body = TrafficList),
        Refusals
    )
)]
pub async fn list(
    State(state): State<Shared>,
    _: Authorized,
    StrictQuery(f): StrictQuery<TrafficFilters>,
) -> ApiResult<Json<TrafficList>> {
    let TrafficFilters { partner, from, to } = f;
    let traffic = blocking(&state, move |t| {
        t.traffic(partner.as_deref(), from.as_deref(), to.as_deref())
    })
    .await?;
    Ok(Json(TrafficList { traffic }))
}

/// `POST /v1/traffic/close`: writes now the traffic of the days that are over (the
/// server also does it every minute).
#[utoipa::path(
    post,
    operation_id = "traffic_close",
    path = "/v1/traffic/close",
    tag = "payouts",
    summary = "Writes the click and impression earnings of the days that are over",
    description = "The server does this every minute by itself; this call does it now. A day is written once, whoever closes it; entries are payable once the campaign's `approve_after_days` have passed since the end of the day (at once when it is 0), and this call also makes payable those whose time has come.",
    security(("api_key" = [])),
    responses(
        (status = 200, description = "What this call wrote and approved", body = TrafficClosed),
        Refusals
    )
)]
pub async fn close(State(state): State<Shared>, _: Authorized) -> ApiResult<Json<TrafficClosed>> {
    let done = blocking(&state, Tracker::close_traffic).await?;
    if done.written > 0 || done.approved > 0 {
        tracing::info!(
            days = done.days,
            written = done.written,
            approved = done.approved,
            "traffic earnings written"
        );
    }
    Ok(Json(done))
}

/// `POST /v1/traffic/{day}/{campaign}/{partner}/reject`.
#[utoipa::path(
    post,
    operation_id = "traffic_reject",
    path = "/v1/traffic/{day}/{campaign}/{partner}/reject",
    tag = "payouts",
    summary = "Rejects a partner's click and impression earnings of one day in one campaign",
    description = "Every level: entries no payout has taken become `void`; an entry a payout took is owed back by a `clawback` that the beneficiary's next payout nets. Rejecting again changes nothing. `404 not_found` when the day has no traffic earnings in the ledger (not over yet, or nothing earned).",
    params(
        ("day" = Day, Path, description = "The UTC day, YYYY-MM-DD"),
        ("campaign" = CodeText, Path, description = "The campaign"),
        ("partner" = CodeText, Path, description = "The partner whose traffic it was")
    ),
    security(("api_key" = [])),
    responses(
        (status = 200, description = "The day's entries as they are now", body = TrafficList),
        Refusals
    )
)]
pub async fn reject(
    State(state): State<Shared>,
    _: Authorized,
    Path((day, campaign, partner)): Path<(String, String, String)>,
) -> ApiResult<Json<TrafficList>> {
    let traffic = blocking(&state, move |t| t.reject_traffic(&day, &campaign, &partner)).await?;
    if let Some(first) = traffic.first() {
        tracing::info!(day = %first.day, campaign = %first.campaign, partner = %first.partner, "traffic earnings rejected");
    }
    Ok(Json(TrafficList { traffic }))
}
