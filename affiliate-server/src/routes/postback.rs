//! Postbacks for hosted carts that can only call a URL: `GET /v1/postback?key=pbk_…&
//! order_id&amount&currency&kind&token|click_id` records a conversion with a postback
//! key (the same answers as `POST /v1/postback`; `order_id&refund_id&refund_amount` a
//! refund), and the merchant's postback keys:
//! `POST/GET /v1/postback-keys`, `DELETE /v1/postback-keys/{id}`.

use axum::Json;
use axum::extract::{Path, RawQuery, State};
use axum::http::StatusCode;
use axum::http::header::{CACHE_CONTROL, REFERRER_POLICY};
use axum::response::{IntoResponse, Response};
use serde::Deserialize;

use crate::http::{ApiResult, Authorized, JsonBody, Shared, blocking, created_with_secret, cut};
#[allow(unused_imports)]
use crate::openapi::schemas::*;

/// `GET /v1/postback?key=pbk_…&…`: 201 and the conversion (200 for a replay). A
/// missing, wrong or revoked key is 401 and records nothing. The key is never logged.
#[utoipa::path(
    get,
    operation_id = "postback_get",
    path = "/v1/postback",
    tag = "conversions",
    summary = "A postback as a URL, for hosted carts",
    description = "For hosted carts and checkout tools that can only call a URL on a sale. `key` is a postback key, never the merchant's API key; the other parameters are the members of `POST /v1/postback`, and any other parameter (or one given twice) is `400`. `order_id`, `refund_id` and `refund_amount` (and nothing else) report a refund instead. The key is checked first: without a valid one the answer is `401` whatever the query.",
    params(
        OrderQuery,
        PostbackEvidence
    ),
    security(("postback_key" = [])),
    responses(
        (status = 201, description = "Recorded now", body = ConversionAnswer),
        (status = 200, description = "A replay of the same order", body = ConversionAnswer),
        Refusals
    )
)]
pub async fn get(State(state): State<Shared>, RawQuery(query): RawQuery) -> ApiResult<Response> {
    let query = query.unwrap_or_default();
    let conv = blocking(&state, move |t| Ok(t.convert_postback_query(&query))).await?;
    let c = match conv {
        Ok(c) => {
            crate::routes::conversions::counted(&state, &c);
            tracing::info!(
                order_id = %c.order_id, partner = %c.link.partner, duplicate = c.duplicate,
                "conversion by GET postback"
            );
            c
        }
        Err(e) => {
            state.metrics.refused("conversion", e.code());
            tracing::info!(
                code = e.code(),
                message = cut(&e.to_string()),
                "GET postback refused"
            );
            return Err(e.into());
        }
    };
    let status = crate::http::created_or_ok(c.duplicate);
    Ok((
        status,
        [
            (CACHE_CONTROL, "no-store"),
            (REFERRER_POLICY, "no-referrer"),
        ],
        Json(c.answer()),
    )
        .into_response())
}

/// A label for a new postback key.
#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PostbackKeyRequest {
    /// At most 100 characters.
    #[serde(default)]
    #[schema(max_length = 100, example = "Hosted cart")]
    pub label: String,
}

/// `POST /v1/postback-keys` `{label?}`: 201 and `{id, label, created, key}`; the key
/// (`pbk_…`) is shown this once.
#[utoipa::path(
    post,
    operation_id = "postback_create",
    path = "/v1/postback-keys",
    tag = "conversions",
    summary = "A new postback key, shown this once",
    request_body(content = PostbackKeyRequest, content_type = "application/json"),
    security(("api_key" = [])),
    responses(
        (status = 201, description = "The key and its record", body = KeyCreated),
        Refusals
    )
)]
pub async fn create(
    State(state): State<Shared>,
    _: Authorized,
    JsonBody(b): JsonBody<PostbackKeyRequest, 1024>,
) -> ApiResult<Response> {
    let (record, key) = blocking(&state, move |t| t.create_postback_key(&b.label)).await?;
    tracing::info!(key_id = %record.id, "postback key created");
    Ok(created_with_secret(record.answer(), key))
}

/// `GET /v1/postback-keys`: ids, labels and times, never keys.
#[utoipa::path(
    get,
    operation_id = "postback_list",
    path = "/v1/postback-keys",
    tag = "conversions",
    summary = "The postback keys (never a key)",
    security(("api_key" = [])),
    responses(
        (status = 200, description = "The records", body = KeyList),
        Refusals
    )
)]
pub async fn list(State(state): State<Shared>, _: Authorized) -> ApiResult<Json<KeyList>> {
    let keys = state.tracker.postback_keys();
    Ok(Json(KeyList {
        keys: keys
            .iter()
            .map(affiliate_sdk::PostbackKey::answer)
            .collect(),
    }))
}

/// `DELETE /v1/postback-keys/{id}`: 204; the key records nothing from then on.
#[utoipa::path(
    delete,
    operation_id = "postback_revoke",
    path = "/v1/postback-keys/{id}",
    tag = "conversions",
    summary = "Revokes a postback key",
    params(
        ("id" = String, Path, description = "The key's id")
    ),
    security(("api_key" = [])),
    responses(
        (status = 204, description = "Revoked"),
        Refusals
    )
)]
pub async fn revoke(
    State(state): State<Shared>,
    _: Authorized,
    Path(id): Path<String>,
) -> ApiResult<StatusCode> {
    blocking(&state, move |t| t.revoke_postback_key(&id)).await?;
    Ok(StatusCode::NO_CONTENT)
}
