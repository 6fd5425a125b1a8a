//! Conversions: the public pixel and beacon (a session token is their only
//! evidence), the authenticated postback and manual entry, status changes and the
//! conversion record.

use affiliate_sdk::{ConversionRequest, ManualConversion, Status};
use axum::Json;
use axum::body::Body;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use serde::Deserialize;

use super::clicks::gif;
use crate::http::{ApiResult, Authorized, Shared, blocking, cookie_token, json_body};

/// What the public endpoints (pixel, beacon) accept: the session token is the only
/// evidence; click ids, coupons and customer ids need the authenticated postback.
#[derive(Deserialize)]
pub struct PublicConversion {
    order_id: String,
    amount: String,
    currency: String,
    #[serde(default = "sale")]
    kind: String,
    #[serde(default)]
    token: Option<String>,
}

fn sale() -> String {
    "sale".into()
}

impl PublicConversion {
    fn into_request(self, cookie: Option<&str>) -> ConversionRequest {
        ConversionRequest {
            token: self
                .token
                .filter(|t| !t.is_empty())
                .or_else(|| cookie.map(str::to_owned)),
            kind: self.kind,
            ..ConversionRequest::sale(&self.order_id, &self.amount, &self.currency)
        }
    }
}

async fn convert(state: &Shared, req: ConversionRequest) -> ApiResult<affiliate_sdk::Conversion> {
    let conv = blocking(state, move |t| t.convert(&req)).await;
    match &conv {
        Ok(c) => tracing::info!(
            order_id = %c.order_id, partner = %c.link.partner, duplicate = c.duplicate,
            "conversion"
        ),
        Err(e) => tracing::info!(code = e.code, message = %e.message, "conversion refused"),
    }
    conv
}

pub async fn pixel(
    State(state): State<Shared>,
    headers: HeaderMap,
    query: Result<Query<PublicConversion>, axum::extract::rejection::QueryRejection>,
) -> Response {
    let Ok(Query(body)) = query else {
        tracing::info!("pixel without order_id, amount or currency");
        return gif("malformed");
    };
    let req = body.into_request(cookie_token(&state.tracker, &headers));
    match convert(&state, req).await {
        Ok(c) if c.duplicate => gif("duplicate"),
        Ok(_) => gif("created"),
        Err(e) => gif(e.code),
    }
}

pub async fn beacon(
    State(state): State<Shared>,
    headers: HeaderMap,
    body: Body,
) -> ApiResult<Response> {
    let body: PublicConversion = json_body(body).await?;
    let req = body.into_request(cookie_token(&state.tracker, &headers));
    let c = convert(&state, req).await?;
    // The browser learns only that it was recorded, not the commission.
    let answer =
        serde_json::json!({"order_id": c.order_id, "status": c.status, "duplicate": c.duplicate});
    Ok((created_or_ok(c.duplicate), Json(answer)).into_response())
}

fn created_or_ok(duplicate: bool) -> StatusCode {
    if duplicate {
        StatusCode::OK
    } else {
        StatusCode::CREATED
    }
}

fn conversion_response(c: &affiliate_sdk::Conversion) -> Response {
    (created_or_ok(c.duplicate), Json(c.to_json())).into_response()
}

pub async fn postback(
    State(state): State<Shared>,
    _: Authorized,
    body: Body,
) -> ApiResult<Response> {
    let req: ConversionRequest = json_body(body).await?;
    Ok(conversion_response(&convert(&state, req).await?))
}

pub async fn manual(State(state): State<Shared>, _: Authorized, body: Body) -> ApiResult<Response> {
    let req: ManualConversion = json_body(body).await?;
    let c = blocking(&state, move |t| t.manual(&req)).await?;
    tracing::info!(order_id = %c.order_id, partner = %c.link.partner, duplicate = c.duplicate, "manual conversion");
    Ok(conversion_response(&c))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct StatusBody {
    status: String,
}

pub async fn set_status(
    State(state): State<Shared>,
    _: Authorized,
    Path(order_id): Path<String>,
    body: Body,
) -> ApiResult<Json<serde_json::Value>> {
    let StatusBody { status } = json_body(body).await?;
    let status: Status = status.parse()?;
    let c = blocking(&state, move |t| t.set_status(&order_id, status)).await?;
    tracing::info!(order_id = %c.order_id, status = %c.status.as_str(), "status");
    Ok(Json(c.to_json()))
}

pub async fn conversion(
    State(state): State<Shared>,
    _: Authorized,
    Path(order_id): Path<String>,
) -> ApiResult<Json<serde_json::Value>> {
    let c = blocking(&state, move |t| t.conversion(&order_id)).await?;
    Ok(Json(c.to_json()))
}
