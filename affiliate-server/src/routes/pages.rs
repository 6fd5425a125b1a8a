//! Static pages: the browser snippet and the dashboard.

use axum::extract::Path;
use axum::http::StatusCode;
use axum::http::header::{CACHE_CONTROL, CONTENT_SECURITY_POLICY, CONTENT_TYPE};
use axum::response::{IntoResponse, Response};

use crate::assets;
use crate::http::{ApiError, ApiResult};

pub async fn snippet() -> Response {
    (
        [
            (CONTENT_TYPE, "text/javascript; charset=utf-8"),
            (CACHE_CONTROL, "public, max-age=3600"),
        ],
        assets::SNIPPET,
    )
        .into_response()
}

pub(crate) const PAGE_CSP: &str = "default-src 'self'; img-src 'self' data:; style-src 'self' 'unsafe-inline'; frame-ancestors 'none'";

pub async fn dashboard() -> Response {
    (
        [
            (CONTENT_TYPE, "text/html; charset=utf-8"),
            (CONTENT_SECURITY_POLICY, PAGE_CSP),
            (CACHE_CONTROL, "no-cache"),
        ],
        assets::DASHBOARD_HTML,
    )
        .into_response()
}

pub async fn dashboard_asset(Path(file): Path<String>) -> ApiResult<Response> {
    let body = match file.as_str() {
        "dashboard.js" => assets::DASHBOARD_JS,
        "program.js" => assets::PROGRAM_JS,
        "payouts.js" => assets::PAYOUTS_JS,
        "webhooks.js" => assets::WEBHOOKS_JS,
        "chart.umd.min.js" => assets::CHART_JS,
        _ => {
            return Err(ApiError::new(
                StatusCode::NOT_FOUND,
                "not_found",
                "no such file",
            ));
        }
    };
    Ok((
        [
            (CONTENT_TYPE, "text/javascript; charset=utf-8"),
            (CACHE_CONTROL, "no-cache"),
        ],
        body,
    )
        .into_response())
}
