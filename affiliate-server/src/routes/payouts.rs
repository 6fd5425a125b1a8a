//! Payouts through the merchant API: runs made under an `Idempotency-Key`
//! (`POST /v1/payouts`), the list and its CSV, one payout with its items, and its
//! status (`paid` or `failed`).

use affiliate_sdk::Tracker;
use affiliate_sdk::ledger::PayoutRunSpec;
use affiliate_sdk::store::PayoutsMade;
use axum::Json;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use serde::Deserialize;

use super::params::PayoutFilters;
use super::reports::csv_response;
use crate::http::{
    ApiResult, Authorized, JsonBody, Shared, StrictQuery, blocking, idempotency_key,
};
#[allow(unused_imports)]
use crate::openapi::schemas::*;

/// A payout run's or a status change's body is small.
const PAYOUT_BODY_BYTES: usize = 4 * 1024;

/// `POST /v1/payouts` `{currency, up_to?, min_amount?, partner?}` with an
/// `Idempotency-Key` header: 201 and the payouts made, or 200 and the payouts the key
/// made before (header `Idempotent-Replayed: true`).
#[utoipa::path(
    post,
    operation_id = "payouts_create",
    path = "/v1/payouts",
    tag = "payouts",
    summary = "A payout run: a payout per partner owed enough",
    description = "Pays each partner what it is owed in one currency: per partner one payout holding its payable commissions and netting its clawbacks. The `Idempotency-Key` makes the call safe to retry: the same key with the same body answers `200` with the payouts made the first time and makes nothing new; with another body, `409`.",
    params(
        ("Idempotency-Key" = String, Header, description = "1 to 255 visible ASCII characters; makes the call safe to retry")
    ),
    request_body(content = PayoutRequest, content_type = "application/json", example = json!({"currency": "USD", "up_to": "2026-11-30", "min_amount": "50.00"})),
    security(("api_key" = [])),
    responses(
        (status = 201, description = "The payouts made (none when nobody is owed enough), and the partners with payable money passed over, with the reason", body = PayoutRunAnswer),
        (status = 200, description = "A replay of the same Idempotency-Key and body: the payouts made then (and who is passed over now)", body = PayoutRunAnswer, headers(("Idempotent-Replayed" = String, description = "`true`"))),
        Refusals
    )
)]
pub async fn create(
    State(state): State<Shared>,
    _: Authorized,
    headers: HeaderMap,
    JsonBody(spec): JsonBody<PayoutRunSpec, PAYOUT_BODY_BYTES>,
) -> ApiResult<Response> {
    let key = idempotency_key(&headers, "payouts")?;
    let (made, skipped) = blocking(&state, move |t| {
        let made = t.create_payouts(&key, &spec)?;
        Ok((made, t.payout_skips(&spec)?))
    })
    .await?;
    let body = Json(PayoutRunAnswer::new(made.payouts(), &skipped));
    Ok(match made {
        PayoutsMade::Created(p) => {
            let total: u64 = p.iter().map(|p| p.amount_minor).sum();
            tracing::info!(payouts = p.len(), total_minor = total, "payout run");
            (StatusCode::CREATED, body).into_response()
        }
        PayoutsMade::Replayed(_) => ([("idempotent-replayed", "true")], body).into_response(),
    })
}

/// `GET /v1/payouts?partner&currency&status`: newest first.
#[utoipa::path(
    get,
    operation_id = "payouts_list",
    path = "/v1/payouts",
    tag = "payouts",
    summary = "Payouts, newest first",
    params(PayoutFilters),
    security(("api_key" = [])),
    responses(
        (status = 200, description = "The payouts", body = PayoutList),
        Refusals
    )
)]
pub async fn list(
    State(state): State<Shared>,
    _: Authorized,
    StrictQuery(f): StrictQuery<PayoutFilters>,
) -> ApiResult<Json<PayoutList>> {
    let PayoutFilters {
        partner,
        currency,
        status,
    } = f;
    let payouts = blocking(&state, move |t| {
        t.payouts(partner.as_deref(), currency.as_deref(), status.as_deref())
    })
    .await?;
    Ok(Json(PayoutList::new(&payouts)))
}

/// `GET /v1/payouts.csv?partner&currency&status`: the list with each partner's name
/// and payout details, for a bank or payment provider upload.
#[utoipa::path(
    get,
    operation_id = "payouts_csv",
    path = "/v1/payouts.csv",
    tag = "payouts",
    summary = "Payouts as CSV with each partner's name and payout details",
    params(PayoutFilters),
    security(("api_key" = [])),
    responses(
        (status = 200, description = "RFC 4180, UTF-8, a header row", body = String, content_type = "text/csv"),
        Refusals
    )
)]
pub async fn csv(
    State(state): State<Shared>,
    _: Authorized,
    StrictQuery(f): StrictQuery<PayoutFilters>,
) -> ApiResult<Response> {
    let PayoutFilters {
        partner,
        currency,
        status,
    } = f;
    let body = blocking(&state, move |t| {
        t.payouts_csv(partner.as_deref(), currency.as_deref(), status.as_deref())
    })
    .await?;
    Ok(csv_response("payouts.csv", body))
}

/// `GET /v1/payouts/{id}`: the payout and its items.
#[utoipa::path(
    get,
    operation_id = "payouts_one",
    path = "/v1/payouts/{id}",
    tag = "payouts",
    summary = "A payout and the entries it settles",
    params(
        ("id" = String, Path, description = "The payout's id")
    ),
    security(("api_key" = [])),
    responses(
        (status = 200, description = "The payout", body = PayoutWithItems),
        Refusals
    )
)]
pub async fn one(
    State(state): State<Shared>,
    _: Authorized,
    Path(id): Path<String>,
) -> ApiResult<Json<PayoutWithItems>> {
    let payout = blocking(&state, move |t| t.payout_with_items(&t.payout(&id)?)).await?;
    Ok(Json(payout))
}

/// A payout's new state: `paid` once the money went out, `failed` when it did not.
#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PayoutStatusRequest {
    #[schema(value_type = PayoutStatus)]
    pub status: String,
}

/// `POST /v1/payouts/{id}/status` `{status: "paid" | "failed"}`.
#[utoipa::path(
    post,
    operation_id = "payouts_status",
    path = "/v1/payouts/{id}/status",
    tag = "payouts",
    summary = "Marks a pending payout paid or failed",
    description = "`paid` once the money went out (its entries are paid); `failed` when it did not (its entries are payable again). Only a pending payout moves (`409 invalid_transition` otherwise).",
    params(
        ("id" = String, Path, description = "The payout's id")
    ),
    request_body(content = PayoutStatusRequest, content_type = "application/json"),
    security(("api_key" = [])),
    responses(
        (status = 200, description = "The payout", body = PayoutAnswer),
        Refusals
    )
)]
pub async fn status(
    State(state): State<Shared>,
    _: Authorized,
    Path(id): Path<String>,
    JsonBody(PayoutStatusRequest { status }): JsonBody<PayoutStatusRequest, PAYOUT_BODY_BYTES>,
) -> ApiResult<Json<PayoutAnswer>> {
    let payout = blocking(&state, move |t| t.set_payout_status(&id, &status)).await?;
    tracing::info!(payout = %payout.id, status = payout.status.as_str(), "payout status");
    Ok(Json(payout.answer()))
}

/// `POST /v1/conversions/approve-due`: approves now the pending conversions past their
/// campaign's `approve_after_days` (the server also does it every minute); answers how
/// many this call approved. With several servers each conversion is approved once.
#[utoipa::path(
    post,
    operation_id = "payouts_approve_due",
    path = "/v1/conversions/approve-due",
    tag = "review",
    summary = "Approves the pending conversions past their campaign's approval delay",
    security(("api_key" = [])),
    responses(
        (status = 200, description = "How many this call approved", body = Approved),
        Refusals
    )
)]
pub async fn approve_due(State(state): State<Shared>, _: Authorized) -> ApiResult<Json<Approved>> {
    let approved = blocking(&state, Tracker::approve_due).await?;
    if approved > 0 {
        tracing::info!(approved, "approved conversions past approve_after_days");
    }
    Ok(Json(Approved {
        approved: approved as u64,
    }))
}
