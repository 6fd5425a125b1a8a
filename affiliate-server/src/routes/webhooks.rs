//! Merchant webhook endpoints and their delivery log through the merchant API:
//! `POST/GET /v1/webhooks`, `DELETE /v1/webhooks/{id}`,
//! `GET /v1/webhooks/{id}/deliveries?cursor&limit` and
//! `POST /v1/webhooks/{id}/deliveries/{delivery}/retry`.

use affiliate_sdk::WebhookRequest;
use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;

use super::params::{Page, PageSize};
use crate::http::{ApiResult, Authorized, JsonBody, Shared, StrictQuery, blocking};
#[allow(unused_imports)]
use crate::openapi::schemas::*;

/// A webhook's body is small.
const WEBHOOK_BODY_BYTES: usize = 8 * 1024;

/// `POST /v1/webhooks` `{id?, url, events?, description?}`: 201 and the endpoint with
/// its `secret` (`whsec_…`), shown this once.
#[utoipa::path(
    post,
    operation_id = "webhooks_create",
    path = "/v1/webhooks",
    tag = "webhooks",
    summary = "A new webhook endpoint and its secret, shown this once",
    description = "`secret` (`whsec_…`) is in this answer only; deliveries are signed per Standard Webhooks. `403` for a destination that is or resolves to a private address (unless the config allows private destinations), `409` when the id exists or 100 endpoints exist.",
    request_body(content = NewWebhook, content_type = "application/json"),
    security(("api_key" = [])),
    responses(
        (status = 201, description = "The endpoint", body = WebhookCreated),
        Refusals
    )
)]
pub async fn create(
    State(state): State<Shared>,
    _: Authorized,
    JsonBody(req): JsonBody<WebhookRequest, WEBHOOK_BODY_BYTES>,
) -> ApiResult<(StatusCode, Json<WebhookCreated>)> {
    let hook = blocking(&state, move |t| t.create_webhook(&req)).await?;
    tracing::info!(webhook = %hook.id, "webhook created");
    Ok((StatusCode::CREATED, Json(hook.created_answer())))
}

/// `GET /v1/webhooks`: the endpoints (never their secrets), with `managed_by_config`.
#[utoipa::path(
    get,
    operation_id = "webhooks_list",
    path = "/v1/webhooks",
    tag = "webhooks",
    summary = "The webhook endpoints (never a secret)",
    security(("api_key" = [])),
    responses(
        (status = 200, description = "The endpoints", body = WebhookList),
        Refusals
    )
)]
pub async fn list(State(state): State<Shared>, _: Authorized) -> ApiResult<Json<WebhookList>> {
    let t = &state.tracker;
    Ok(Json(WebhookList {
        webhooks: t.webhooks().iter().map(|w| t.webhook_answer(w)).collect(),
    }))
}

/// `DELETE /v1/webhooks/{id}`: 204.
#[utoipa::path(
    delete,
    operation_id = "webhooks_delete",
    path = "/v1/webhooks/{id}",
    tag = "webhooks",
    summary = "Removes a webhook endpoint",
    params(
        ("id" = String, Path, description = "The endpoint's id")
    ),
    security(("api_key" = [])),
    responses(
        (status = 204, description = "Removed"),
        Refusals
    )
)]
pub async fn delete(
    State(state): State<Shared>,
    _: Authorized,
    Path(id): Path<String>,
) -> ApiResult<StatusCode> {
    blocking(&state, move |t| t.delete_webhook(&id)).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// `GET /v1/webhooks/{id}/deliveries?cursor&limit`: newest first, with each
/// delivery's last attempts, and `next_cursor`.
#[utoipa::path(
    get,
    operation_id = "webhooks_deliveries",
    path = "/v1/webhooks/{id}/deliveries",
    tag = "webhooks",
    summary = "An endpoint's deliveries, newest first",
    params(
        ("id" = String, Path, description = "The endpoint's id"),
        Page
    ),
    security(("api_key" = [])),
    responses(
        (status = 200, description = "A page", body = DeliveryPage),
        Refusals
    )
)]
pub async fn deliveries(
    State(state): State<Shared>,
    _: Authorized,
    Path(id): Path<String>,
    StrictQuery(page): StrictQuery<Page>,
) -> ApiResult<Json<DeliveryPage>> {
    let limit = page.limit()?;
    let cursor = page.cursor();
    let (page, next_cursor) = blocking(&state, move |t| {
        t.webhook_deliveries(&id, cursor.as_deref(), limit)
    })
    .await?;
    Ok(Json(DeliveryPage {
        deliveries: page.iter().map(DeliveryAnswer::from).collect(),
        next_cursor,
    }))
}

/// `POST /v1/webhooks/{id}/deliveries/{delivery}/retry`: the delivery, due now.
#[utoipa::path(
    post,
    operation_id = "webhooks_retry",
    path = "/v1/webhooks/{id}/deliveries/{delivery}/retry",
    tag = "webhooks",
    summary = "Sends a delivery again now",
    description = "Sends the delivery again now with another 3 days of retries (a delivered one is sent once more). `409 conflict` while a server is sending it.",
    params(
        ("id" = String, Path, description = "The endpoint's id"),
        ("delivery" = String, Path, description = "The delivery's id")
    ),
    security(("api_key" = [])),
    responses(
        (status = 200, description = "The delivery", body = DeliveryAnswer),
        Refusals
    )
)]
pub async fn retry(
    State(state): State<Shared>,
    _: Authorized,
    Path((id, delivery)): Path<(String, String)>,
) -> ApiResult<Json<DeliveryAnswer>> {
    let d = blocking(&state, move |t| t.retry_delivery(&id, &delivery)).await?;
    tracing::info!(delivery = %d.id, "delivery retried by hand");
    Ok(Json(d.answer()))
}
