//! Adjustments through the merchant API: a bonus or a correction of a partner's balance
//! under an `Idempotency-Key` (`POST /v1/adjustments`), the list and its CSV.

use affiliate_sdk::Adjusted;
use affiliate_sdk::answers::{AdjustmentAnswer, AdjustmentList};
use affiliate_sdk::ledger::AdjustmentRequest;
use axum::Json;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};

use super::params::AdjustmentFilters;
use super::reports::csv_response;
use crate::http::{
    ApiError, ApiResult, Authorized, JsonBody, Shared, StrictQuery, blocking, idempotency_key,
};
#[allow(unused_imports)]
use crate::openapi::schemas::*;

/// An adjustment's body is small.
const ADJUSTMENT_BODY_BYTES: usize = 4 * 1024;

/// `POST /v1/adjustments` with an `Idempotency-Key` header: 201 and the adjustment, or
/// 200 and the adjustment the key made before (header `Idempotent-Replayed: true`).
#[utoipa::path(
    post,
    operation_id = "adjustments_create",
    path = "/v1/adjustments",
    tag = "payouts",
    summary = "A bonus or a correction of a partner's balance",
    description = "One ledger entry, payable at once and netted by the partner's next payout, shown to the partner with its memo. A bonus is positive; a correction either way (`-20.00` takes 20.00 back). A negative one that would leave the partner owed less than nothing is `409 conflict` unless `allow_negative`. The `Idempotency-Key` makes it safe to retry: the same key and body answer `200` with the adjustment made then; another body `409`.",
    params(
        ("Idempotency-Key" = String, Header, description = "1 to 255 visible ASCII characters; makes the call safe to retry")
    ),
    request_body(content = AdjustmentRequest, content_type = "application/json", example = json!({"partner": "abc123", "currency": "USD", "amount": "50.00", "memo": "March contest, 2nd place", "kind": "bonus"})),
    security(("api_key" = [])),
    responses(
        (status = 201, description = "Recorded now (durable)", body = AdjustmentAnswer),
        (status = 200, description = "A replay of the same Idempotency-Key and body", body = AdjustmentAnswer, headers(("Idempotent-Replayed" = String, description = "`true`"))),
        Refusals
    )
)]
pub async fn create(
    State(state): State<Shared>,
    _: Authorized,
    headers: HeaderMap,
    JsonBody(req): JsonBody<AdjustmentRequest, ADJUSTMENT_BODY_BYTES>,
) -> ApiResult<Response> {
    let key = idempotency_key(&headers, "adjustment")?;
    let made = blocking(&state, move |t| t.adjust(&key, &req)).await?;
    let answer = AdjustmentAnswer::of(made.entry())
        .ok_or_else(|| ApiError::from(affiliate_sdk::Error::Store("not an adjustment".into())))?;
    Ok(match made {
        Adjusted::Created(_) => {
            tracing::info!(id = %answer.id, partner = %answer.partner, amount = %answer.amount, "adjustment");
            (StatusCode::CREATED, Json(answer)).into_response()
        }
        Adjusted::Replayed(_) => ([("idempotent-replayed", "true")], Json(answer)).into_response(),
    })
}

/// `GET /v1/adjustments?partner&currency`: newest first.
#[utoipa::path(
    get,
    operation_id = "adjustments_list",
    path = "/v1/adjustments",
    tag = "payouts",
    summary = "Adjustments, newest first",
    params(AdjustmentFilters),
    security(("api_key" = [])),
    responses(
        (status = 200, description = "The adjustments", body = AdjustmentList),
        Refusals
    )
)]
pub async fn list(
    State(state): State<Shared>,
    _: Authorized,
    StrictQuery(f): StrictQuery<AdjustmentFilters>,
) -> ApiResult<Json<AdjustmentList>> {
    let AdjustmentFilters { partner, currency } = f;
    let adjustments = blocking(&state, move |t| {
        t.adjustments(partner.as_deref(), currency.as_deref())
    })
    .await?;
    Ok(Json(AdjustmentList { adjustments }))
}

/// `GET /v1/adjustments.csv?partner&currency`.
#[utoipa::path(
    get,
    operation_id = "adjustments_csv",
    path = "/v1/adjustments.csv",
    tag = "payouts",
    summary = "Adjustments as CSV",
    params(AdjustmentFilters),
    security(("api_key" = [])),
    responses(
        (status = 200, description = "RFC 4180, UTF-8, a header row: id, partner, currency, amount (signed), kind, memo, state, payout, created", body = String, content_type = "text/csv"),
        Refusals
    )
)]
pub async fn csv(
    State(state): State<Shared>,
    _: Authorized,
    StrictQuery(f): StrictQuery<AdjustmentFilters>,
) -> ApiResult<Response> {
    let AdjustmentFilters { partner, currency } = f;
    let body = blocking(&state, move |t| {
        t.adjustments_csv(partner.as_deref(), currency.as_deref())
    })
    .await?;
    Ok(csv_response("adjustments.csv", body))
}
