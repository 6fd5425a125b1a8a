//! What an operator's tools call: `GET /readyz` (a load balancer's readiness check) and
//! `GET /metrics` (Prometheus, with an API key). `GET /healthz` stays the liveness
//! check: the process answers.

use std::sync::atomic::Ordering;
use std::time::Duration;

use axum::extract::State;
use axum::http::header::{CACHE_CONTROL, CONTENT_TYPE};
use axum::http::{HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};

use crate::http::{Authorized, Shared};
#[allow(unused_imports)]
use crate::openapi::schemas::*;

/// How long the store may take to answer a readiness check.
pub const READY_TIMEOUT: Duration = Duration::from_secs(2);

/// `GET /healthz`: `ok`, the process answers (liveness).
#[utoipa::path(
    get,
    operation_id = "ops_healthz",
    path = "/healthz",
    tag = "operations",
    summary = "Liveness",
    responses(
        (status = 200, description = "`ok`: the process answers", body = String, content_type = "text/plain")
    )
)]
pub async fn healthz() -> &'static str {
    "ok"
}

/// `GET /readyz`: `200 ready` when the store answers within [`READY_TIMEOUT`] and the
/// click writer's latest write succeeded; else `503` saying which. One check of the
/// store runs at a time: while one is still waiting, the answer is `503`.
#[utoipa::path(
    get,
    operation_id = "ops_readyz",
    path = "/readyz",
    tag = "operations",
    summary = "Readiness, for a load balancer",
    description = "`200 ready` when the store answers a read within 2 s and the click writer's latest write succeeded; otherwise `503` saying which. One check of the store runs at a time.",
    responses(
        (status = 200, description = "`ready`: the store answers and the click writer's latest write succeeded", body = String, content_type = "text/plain"),
        (status = 503, description = "`not ready: …` saying why", body = String, content_type = "text/plain")
    )
)]
pub async fn readyz(State(state): State<Shared>) -> Response {
    let problem = if state.probing.swap(true, Ordering::AcqRel) {
        Some("the store has not answered the last check")
    } else {
        let probe = state.clone();
        let answer = tokio::time::timeout(
            READY_TIMEOUT,
            tokio::task::spawn_blocking(move || {
                let answer = probe.tracker.store().program_version();
                probe.probing.store(false, Ordering::Release);
                answer
            }),
        )
        .await;
        match answer {
            Ok(Ok(Ok(_))) if state.tracker.store().writer_stats().failing => {
                Some("the click writer's latest write failed")
            }
            Ok(Ok(Ok(_))) => None,
            Ok(Ok(Err(_))) | Ok(Err(_)) => Some("the store refused the check"),
            Err(_) => Some("the store did not answer in time"),
        }
    };
    state.metrics.ready.set(i64::from(problem.is_none()));
    let (status, body) = match problem {
        None => (StatusCode::OK, "ready\n".to_owned()),
        Some(why) => (
            StatusCode::SERVICE_UNAVAILABLE,
            format!("not ready: {why}\n"),
        ),
    };
    (
        status,
        [(CACHE_CONTROL, HeaderValue::from_static("no-store"))],
        body,
    )
        .into_response()
}

/// `GET /metrics` (API key): the OpenMetrics text exposition, from memory: it never
/// waits for the store (whose health is a gauge, `affiliate_store_up`).
#[utoipa::path(
    get,
    operation_id = "ops_metrics",
    path = "/metrics",
    tag = "operations",
    summary = "Metrics in the OpenMetrics text format",
    description = "Every name prefixed `affiliate_`: clicks, impressions, refusals by kind and code, conversions by channel and result, deliveries, the click buffer's depth, the outbox's depth, dropped clicks, the click writer's writes, failures and write latency (a histogram), and `affiliate_store_up` (1 when the store answered the latest check, made every 2 s, within 2 s). Answered from memory: it never waits for the store.",
    security(("api_key" = [])),
    responses(
        (status = 200, description = "The metrics", body = String, content_type = "application/openmetrics-text"),
        (status = "4XX", description = "Refused; the code says why", body = ErrorBody)
    )
)]
pub async fn metrics(State(state): State<Shared>, _: Authorized) -> Response {
    let text = state.metrics.render(state.tracker.store().as_ref());
    (
        [
            (
                CONTENT_TYPE,
                HeaderValue::from_static(
                    "application/openmetrics-text; version=1.0.0; charset=utf-8",
                ),
            ),
            (CACHE_CONTROL, HeaderValue::from_static("no-store")),
        ],
        text,
    )
        .into_response()
}
