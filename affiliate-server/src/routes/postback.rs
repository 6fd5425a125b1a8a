//! Postbacks for hosted carts that can only call a URL: `GET /v1/postback?key=pbk_…&
//! order_id&amount&currency&kind&token|click_id` records a conversion with a postback
//! key (the same answers as `POST /v1/postback`), and the merchant's postback keys:
//! `POST/GET /v1/postback-keys`, `DELETE /v1/postback-keys/{id}`.

use axum::Json;
use axum::body::Body;
use axum::extract::{Path, RawQuery, State};
use axum::http::StatusCode;
use axum::http::header::{CACHE_CONTROL, REFERRER_POLICY};
use axum::response::{IntoResponse, Response};
use serde::Deserialize;

use crate::http::{
    ApiError, ApiResult, Authorized, Shared, blocking, created_with_secret, cut, json_body_max,
};

/// `GET /v1/postback?key=pbk_…&…`: 201 and the conversion (200 for a replay). A
/// missing, wrong or revoked key is 401 and records nothing. The key is never logged.
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
        // No postback key: 401, as for a missing API key.
        Err(affiliate_sdk::Error::Forbidden(m)) => {
            state.metrics.refused("conversion", "unauthorized");
            return Err(ApiError::new(StatusCode::UNAUTHORIZED, "unauthorized", &m));
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
    let status = if c.duplicate {
        StatusCode::OK
    } else {
        StatusCode::CREATED
    };
    Ok((
        status,
        [
            (CACHE_CONTROL, "no-store"),
            (REFERRER_POLICY, "no-referrer"),
        ],
        Json(c.to_json()),
    )
        .into_response())
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct KeyBody {
    #[serde(default)]
    label: String,
}

/// `POST /v1/postback-keys` `{label?}`: 201 and `{id, label, created, key}`; the key
/// (`pbk_…`) is shown this once.
pub async fn create(State(state): State<Shared>, _: Authorized, body: Body) -> ApiResult<Response> {
    let b: KeyBody = json_body_max(body, 1024).await?;
    let (record, key) = blocking(&state, move |t| t.create_postback_key(&b.label)).await?;
    tracing::info!(key_id = %record.id, "postback key created");
    Ok(created_with_secret(record.to_json(), key))
}

/// `GET /v1/postback-keys`: ids, labels and times, never keys.
pub async fn list(
    State(state): State<Shared>,
    _: Authorized,
) -> ApiResult<Json<serde_json::Value>> {
    let keys: Vec<_> = state
        .tracker
        .postback_keys()
        .iter()
        .map(affiliate_sdk::PostbackKey::to_json)
        .collect();
    Ok(Json(serde_json::json!({ "keys": keys })))
}

/// `DELETE /v1/postback-keys/{id}`: 204; the key records nothing from then on.
pub async fn revoke(
    State(state): State<Shared>,
    _: Authorized,
    Path(id): Path<String>,
) -> ApiResult<StatusCode> {
    blocking(&state, move |t| t.revoke_postback_key(&id)).await?;
    Ok(StatusCode::NO_CONTENT)
}
