//! Conversions: the public pixel and beacon (a session token is their only evidence,
//! and the merchant's order signature what makes them count; the core decides), the
//! authenticated postback and manual entry, status changes and the conversion record
//! with the records it replaced.

use affiliate_sdk::{BrowserConversion, ManualConversion, Postback, RefundRequest, Status};
use axum::Json;
use axum::extract::{Path, Query, State};
use axum::http::HeaderMap;
use axum::response::{IntoResponse, Response};
use serde::Deserialize;

use crate::http::{
    ApiResult, Authorized, JsonBody, Refused, Shared, blocking, cookie_token, created_or_ok, cut,
};
#[allow(unused_imports)]
use crate::openapi::schemas::*;
use affiliate_sdk::axum::pixel as gif;

/// The token from the request (body or query) or else the visitor's cookie.
fn with_cookie(
    mut req: BrowserConversion,
    headers: &HeaderMap,
    state: &Shared,
) -> BrowserConversion {
    if req.token.as_deref().is_none_or(str::is_empty) {
        req.token = cookie_token(&state.tracker, headers).map(str::to_owned);
    }
    req
}

/// Logs a conversion's outcome and counts it for `/metrics`.
pub(crate) fn logged(state: &Shared, conv: &ApiResult<affiliate_sdk::Conversion>) {
    match conv {
        Ok(c) => {
            counted(state, c);
            tracing::info!(
                order_id = %c.order_id, partner = %c.link.partner, channel = %c.channel,
                duplicate = c.duplicate, replaced = c.replaced, "conversion"
            );
        }
        Err(e) => {
            state.metrics.refused("conversion", e.code);
            tracing::info!(
                code = e.code,
                message = cut(&e.message),
                "conversion refused"
            );
        }
    }
}

/// `affiliate_conversions_total{channel,result}` of a recorded conversion.
pub(crate) fn counted(state: &Shared, c: &affiliate_sdk::Conversion) {
    let result = if c.duplicate {
        "duplicate"
    } else if c.replaced {
        "replaced"
    } else {
        "created"
    };
    let labels = crate::metrics::ConversionLabels {
        channel: c.channel.as_str(),
        result,
    };
    state.metrics.conversions.get_or_create(&labels).inc();
}

/// A conversion from the browser: the core checks the token and the order signature
/// before it looks at the order id, so without them every answer is the same.
async fn convert_browser(
    state: &Shared,
    req: BrowserConversion,
) -> ApiResult<affiliate_sdk::Conversion> {
    let conv = blocking(state, move |t| t.convert_browser(&req)).await;
    // Public input: a refusal is counted and logged at debug only.
    match &conv {
        // Answered as recorded, and not: an order id another click recorded.
        Ok(c) if c.withheld => {
            Refused::count(&state.refused.conversions);
            state.metrics.refused("conversion", "withheld");
            tracing::debug!(
                order_id = %cut(&c.order_id),
                "unsigned browser report of an order id recorded otherwise: answered as new, not recorded"
            );
        }
        Ok(_) => logged(state, &conv),
        Err(e) => {
            Refused::count(&state.refused.conversions);
            state.metrics.refused("conversion", e.code);
            tracing::debug!(
                code = e.code,
                message = cut(&e.message),
                "browser conversion refused"
            );
        }
    }
    conv
}

#[utoipa::path(
    get,
    operation_id = "conversions_pixel",
    path = "/px.gif",
    tag = "conversions",
    summary = "The conversion pixel of a confirmation page",
    description = "For a confirmation page. The token comes from `token` or the `aff_token` cookie; `osig` is the merchant's order signature, required by campaigns in `signed` mode (the default). Always `200` and the GIF, so the page never breaks; `X-Affiliate-Result` says `created`, `duplicate`, `replaced` or the error code.",
    params(
        OrderQuery,
        OrderSignature
    ),
    responses(
        (status = 200, description = "Always: a 1×1 GIF; `X-Affiliate-Result` is `created`, `duplicate`, `replaced` or the error code", body = String, content_type = "image/gif", headers(("X-Affiliate-Result" = String, description = "`ok` or the error code")))
    )
)]
pub async fn pixel(
    State(state): State<Shared>,
    headers: HeaderMap,
    query: Result<Query<BrowserConversion>, axum::extract::rejection::QueryRejection>,
) -> Response {
    let Ok(Query(req)) = query else {
        Refused::count(&state.refused.conversions);
        tracing::debug!("pixel without order_id, amount or currency");
        return gif("malformed");
    };
    let req = with_cookie(req, &headers, &state);
    match convert_browser(&state, req).await {
        Ok(c) if c.duplicate => gif("duplicate"),
        Ok(c) if c.replaced => gif("replaced"),
        Ok(_) => gif("created"),
        Err(e) => gif(e.code),
    }
}

#[utoipa::path(
    post,
    operation_id = "conversions_beacon",
    path = "/v1/conversions",
    tag = "conversions",
    summary = "The snippet's conversion beacon (public, CORS)",
    description = "The snippet's beacon; public, so it shows only the order's status. The token comes from the body or the `aff_token` cookie. Without a valid token and (in `signed` mode) a valid order signature the answer depends on neither the order id nor what is recorded.",
    request_body(content = BeaconRequest, description = "Any content type: `text/plain` beacons work", content_type = "application/json"),
    responses(
        (status = 201, description = "Recorded", body = BeaconAnswer),
        (status = 200, description = "A replay of the same order", body = BeaconAnswer),
        Refusals
    )
)]
pub async fn beacon(
    State(state): State<Shared>,
    headers: HeaderMap,
    JsonBody(req): JsonBody<BrowserConversion>,
) -> ApiResult<Response> {
    let req = with_cookie(req, &headers, &state);
    let c = convert_browser(&state, req).await?;
    // The browser learns only that it was recorded, not the commission.
    let answer = BeaconAnswer::from(&c);
    Ok((created_or_ok(c.duplicate), Json(answer)).into_response())
}

fn conversion_response(c: &affiliate_sdk::Conversion) -> Response {
    (created_or_ok(c.duplicate), Json(c.answer())).into_response()
}

#[utoipa::path(
    post,
    operation_id = "conversions_postback",
    path = "/v1/postback",
    tag = "conversions",
    summary = "A conversion (or a refund) from the merchant's server",
    description = "Server to server: exactly once per order id. `201` with the conversion when recorded now (durable), `200` with `duplicate: true` for a replay of the same order, `409 conflict` when the order id was recorded with another amount, currency or kind, `422` when the evidence credits nobody, `503` when nothing was recorded (retry). Unknown members are `400 malformed`. A body with `refund_id` reports a refund instead (`order_id`, `refund_id`, `refund_amount`), answered as `POST /v1/conversions/{order_id}/refunds`.",
    request_body(content = Postback, content_type = "application/json", example = json!({"order_id": "A-1001", "amount": "49.90", "currency": "USD", "coupon": "ABC10", "campaign": "haircare"})),
    security(("api_key" = [])),
    responses(
        (status = 201, description = "Recorded now (durable)", body = ConversionAnswer),
        (status = 200, description = "A replay of the same order (`duplicate: true`)", body = ConversionAnswer),
        Refusals
    )
)]
pub async fn postback(
    State(state): State<Shared>,
    _: Authorized,
    JsonBody(req): JsonBody<Postback>,
) -> ApiResult<Response> {
    let conv = blocking(&state, move |t| t.postback(&req)).await;
    logged(&state, &conv);
    Ok(conversion_response(&conv?))
}

#[utoipa::path(
    post,
    operation_id = "conversions_manual",
    path = "/v1/conversions/manual",
    tag = "conversions",
    summary = "A conversion entered by hand",
    request_body(content = ManualRequest, content_type = "application/json", example = json!({"order_id": "M-1001", "amount": "49.90", "currency": "USD", "campaign": "haircare", "partner": "abc123", "sid": "kw1"})),
    security(("api_key" = [])),
    responses(
        (status = 201, description = "Recorded", body = ConversionAnswer),
        (status = 200, description = "A replay of the same order", body = ConversionAnswer),
        Refusals
    )
)]
pub async fn manual(
    State(state): State<Shared>,
    _: Authorized,
    JsonBody(req): JsonBody<ManualConversion>,
) -> ApiResult<Response> {
    let conv = blocking(&state, move |t| t.manual(&req)).await;
    logged(&state, &conv);
    Ok(conversion_response(&conv?))
}

/// A conversion's new status.
#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct StatusRequest {
    #[schema(value_type = ConversionStatus)]
    pub status: String,
}

#[utoipa::path(
    post,
    operation_id = "conversions_set_status",
    path = "/v1/conversions/{order_id}/status",
    tag = "review",
    summary = "Moves a conversion in its lifecycle",
    params(
        ("order_id" = Id, Path, description = "The order id")
    ),
    request_body(content = StatusRequest, content_type = "application/json"),
    security(("api_key" = [])),
    responses(
        (status = 200, description = "The conversion", body = ConversionAnswer),
        Refusals
    )
)]
pub async fn set_status(
    State(state): State<Shared>,
    _: Authorized,
    Path(order_id): Path<String>,
    JsonBody(StatusRequest { status }): JsonBody<StatusRequest>,
) -> ApiResult<Json<ConversionAnswer>> {
    let status: Status = status.parse()?;
    let c = blocking(&state, move |t| t.set_status(&order_id, status)).await?;
    tracing::info!(order_id = %c.order_id, status = %c.status.as_str(), "status");
    Ok(Json(c.answer()))
}

#[utoipa::path(
    get,
    operation_id = "conversions_conversion",
    path = "/v1/conversions/{order_id}",
    tag = "review",
    summary = "One conversion and the records it replaced",
    params(
        ("order_id" = Id, Path, description = "The order id")
    ),
    security(("api_key" = [])),
    responses(
        (status = 200, description = "The conversion", body = ConversionWithHistory),
        Refusals
    )
)]
pub async fn conversion(
    State(state): State<Shared>,
    _: Authorized,
    Path(order_id): Path<String>,
) -> ApiResult<Json<ConversionWithHistory>> {
    let (c, replaced) = blocking(&state, move |t| {
        Ok((t.conversion(&order_id)?, t.replaced_conversions(&order_id)?))
    })
    .await?;
    // The records an authenticated channel replaced, oldest first, kept for audit.
    Ok(Json(ConversionWithHistory {
        conversion: c.answer(),
        replaced_records: replaced.iter().map(ConversionAnswer::from).collect(),
    }))
}

#[utoipa::path(
    post,
    operation_id = "conversions_refund",
    path = "/v1/conversions/{order_id}/refunds",
    tag = "review",
    summary = "A refund of part or all of an order",
    description = "Each beneficiary gives back its share per level, `floor(commission × refunded / amount)` cumulatively; a refund reaching the whole amount returns exactly what remains and makes the conversion `reversed`. Idempotent by `refund_id`: `201` when recorded now, `200` with `duplicate: true` for the same id and amount, `409 conflict` for the same id with another amount. More than what remains is `400 malformed`; a rejected or reversed conversion `409 invalid_transition`.",
    params(
        ("order_id" = Id, Path, description = "The order id")
    ),
    request_body(content = RefundRequest, content_type = "application/json", example = json!({"refund_id": "re_3Nx", "amount": "30.00"})),
    security(("api_key" = [])),
    responses(
        (status = 201, description = "Recorded now (durable)", body = ConversionAnswer),
        (status = 200, description = "A replay of the same refund (`duplicate: true`)", body = ConversionAnswer),
        Refusals
    )
)]
pub async fn refund(
    State(state): State<Shared>,
    _: Authorized,
    Path(order_id): Path<String>,
    JsonBody(req): JsonBody<RefundRequest>,
) -> ApiResult<Response> {
    let c = blocking(&state, move |t| t.refund(&order_id, &req)).await?;
    tracing::info!(order_id = %c.order_id, refunded = %c.refunded_minor(), duplicate = c.duplicate, status = %c.status.as_str(), "refund");
    Ok(conversion_response(&c))
}
