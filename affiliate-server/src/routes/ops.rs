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

/// How long the store may take to answer a readiness check.
pub const READY_TIMEOUT: Duration = Duration::from_secs(2);

/// `GET /readyz`: `200 ready` when the store answers within [`READY_TIMEOUT`] and the
/// click writer's latest write succeeded; else `503` saying which. One check of the
/// store runs at a time: while one is still waiting, the answer is `503`.
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

/// `GET /metrics` (API key): the OpenMetrics text exposition (it reads the store: off
/// the async workers).
pub async fn metrics(State(state): State<Shared>, _: Authorized) -> Response {
    let scrape = state.clone();
    let Ok(text) =
        tokio::task::spawn_blocking(move || scrape.metrics.render(scrape.tracker.store().as_ref()))
            .await
    else {
        return StatusCode::INTERNAL_SERVER_ERROR.into_response();
    };
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
