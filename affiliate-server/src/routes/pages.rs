//! Static pages: the browser snippet and the dashboard.

use axum::extract::Path;
use axum::http::StatusCode;
use axum::http::header::{CACHE_CONTROL, CONTENT_SECURITY_POLICY, CONTENT_TYPE};
use axum::response::{IntoResponse, Response};

use crate::assets;
use crate::http::{ApiError, ApiResult};
#[allow(unused_imports)]
use crate::openapi::schemas::*;

#[utoipa::path(
    get,
    operation_id = "pages_snippet",
    path = "/snippet.js",
    tag = "pages",
    summary = "The browser snippet",
    responses(
        (status = 200, description = "The script", body = String, content_type = "text/javascript")
    )
)]
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

#[utoipa::path(
    get,
    operation_id = "pages_dashboard",
    path = "/dashboard",
    tag = "pages",
    summary = "The merchant dashboard",
    responses(
        (status = 200, description = "The page", body = String, content_type = "text/html")
    )
)]
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

#[utoipa::path(
    get,
    operation_id = "pages_dashboard_asset",
    path = "/dashboard/{file}",
    tag = "pages",
    summary = "The dashboard's scripts",
    params(
        ("file" = String, Path, description = "`dashboard.js`, `program.js` or `chart.umd.min.js`")
    ),
    responses(
        (status = 200, description = "The script", body = String, content_type = "text/javascript"),
        (status = 404, description = "No such file", body = ErrorBody)
    )
)]
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
