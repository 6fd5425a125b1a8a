//! The HTTP API of DESIGN.md over a core [`Tracker`]. Handlers parse, call one tracker
//! method and shape the answer; every decision is the tracker's.

use std::sync::Arc;

use affiliate_sdk::{
    Code, ConversionRequest, Dimension, ManualConversion, StatsQuery, Status, Tracker,
};
use axum::body::{Body, Bytes};
use axum::extract::{FromRequestParts, Path, Query, RawQuery, State};
use axum::http::header::{
    AUTHORIZATION, CACHE_CONTROL, CONTENT_SECURITY_POLICY, CONTENT_TYPE, COOKIE, LOCATION,
    SET_COOKIE, WWW_AUTHENTICATE,
};
use axum::http::request::Parts;
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use serde::Deserialize;
use sha2::{Digest, Sha256};
use tower_http::cors::{AllowOrigin, CorsLayer};

use crate::assets;

/// Request bodies larger than this are refused with 413 (code `malformed`).
pub const MAX_BODY_BYTES: usize = 16 * 1024;

/// What every handler shares.
pub struct AppState {
    /// The tracker that decides.
    pub tracker: Tracker,
    /// SHA-256 digests of the API keys, compared in constant time.
    api_keys: Vec<[u8; 32]>,
    /// The path of the public URL (`""` at the root), put back in front of request
    /// targets when a proxy strips it.
    public_path: String,
    /// Whether the demo shop pages are served.
    demo: bool,
}

impl AppState {
    /// State for `tracker` with these Bearer keys.
    pub fn new(tracker: Tracker, api_keys: &[String], public_path: &str, demo: bool) -> AppState {
        AppState {
            tracker,
            api_keys: api_keys.iter().map(|k| digest(k.as_bytes())).collect(),
            public_path: public_path.to_owned(),
            demo,
        }
    }
}

fn digest(bytes: &[u8]) -> [u8; 32] {
    Sha256::digest(bytes).into()
}

type Shared = Arc<AppState>;

/// The service to serve: clicks (`GET /go/…`, the hot path) go straight to their
/// handler; everything else through [`router`].
pub fn service(
    state: Shared,
    allowed_origins: &[String],
) -> impl tower::Service<
    axum::extract::Request,
    Response = Response,
    Error = std::convert::Infallible,
    Future = impl Send,
> + Clone
+ Send
+ 'static {
    use tower::ServiceExt as _;
    let router = router(state.clone(), allowed_origins);
    tower::service_fn(move |req: axum::extract::Request| {
        let (state, router) = (state.clone(), router.clone());
        async move {
            if req.method() == Method::GET && req.uri().path().starts_with("/go/") {
                Ok(click(State(state), req).await)
            } else {
                router.oneshot(req).await
            }
        }
    })
}

/// The router: every endpoint of DESIGN.md, plus the demo shop when `state.demo`.
pub fn router(state: Shared, allowed_origins: &[String]) -> Router {
    let origins: Vec<HeaderValue> = allowed_origins
        .iter()
        .filter_map(|o| HeaderValue::from_str(o).ok())
        .collect();
    let cors = CorsLayer::new()
        .allow_origin(AllowOrigin::list(origins))
        .allow_methods([Method::POST])
        .allow_headers([CONTENT_TYPE])
        .allow_credentials(true);
    let mut app = Router::new()
        .route("/go/{*link}", get(click))
        .route("/imp/{*link}", get(impression))
        .route("/px.gif", get(pixel))
        .route(
            "/v1/conversions",
            // The CORS layer answers the preflight OPTIONS itself.
            post(beacon).options(|| async {}).layer(cors),
        )
        .route("/v1/postback", post(postback))
        .route("/v1/conversions/manual", post(manual))
        .route("/v1/conversions/{order_id}", get(conversion))
        .route("/v1/conversions/{order_id}/status", post(set_status))
        .route("/v1/stats", get(stats))
        .route("/snippet.js", get(snippet))
        .route("/dashboard", get(dashboard))
        .route("/dashboard/{file}", get(dashboard_asset))
        .route("/healthz", get(|| async { "ok" }));
    if state.demo {
        app = app
            .route("/demo/shop/{campaign}", get(crate::demo::shop))
            .route("/demo/thanks", get(crate::demo::thanks));
    }
    app.fallback(|| async { ApiError::new(StatusCode::NOT_FOUND, "not_found", "no such endpoint") })
        .method_not_allowed_fallback(|| async {
            ApiError::new(
                StatusCode::METHOD_NOT_ALLOWED,
                "malformed",
                "method not allowed on this endpoint",
            )
        })
        .with_state(state)
}

// ---------------------------------------------------------------------------------
// Errors

/// An error answer: `{"error":{"code":"…","message":"…"}}`.
#[derive(Debug)]
pub struct ApiError {
    status: StatusCode,
    code: &'static str,
    message: String,
}

impl ApiError {
    pub fn new(status: StatusCode, code: &'static str, message: impl Into<String>) -> ApiError {
        ApiError {
            status,
            code,
            message: message.into(),
        }
    }

    fn malformed(message: impl Into<String>) -> ApiError {
        ApiError::new(StatusCode::BAD_REQUEST, "malformed", message)
    }
}

impl From<affiliate_sdk::Error> for ApiError {
    fn from(e: affiliate_sdk::Error) -> ApiError {
        let code = e.code();
        let status = match code {
            "malformed" => StatusCode::BAD_REQUEST,
            "conflict" | "invalid_transition" => StatusCode::CONFLICT,
            "not_found" => StatusCode::NOT_FOUND,
            "store_unavailable" => StatusCode::SERVICE_UNAVAILABLE,
            // invalid_signature, expired, unknown_campaign, unknown_partner,
            // not_attributable: well-formed, but it credits nobody.
            _ => StatusCode::UNPROCESSABLE_ENTITY,
        };
        ApiError::new(status, code, e.to_string())
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let body = serde_json::json!({"error": {"code": self.code, "message": self.message}});
        let mut resp = (self.status, Json(body)).into_response();
        if self.status == StatusCode::UNAUTHORIZED {
            resp.headers_mut()
                .insert(WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"));
        }
        resp
    }
}

type ApiResult<T> = Result<T, ApiError>;

// ---------------------------------------------------------------------------------
// Extractors

/// A request that carried one of the configured Bearer keys.
struct Authorized;

impl FromRequestParts<Shared> for Authorized {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &Shared) -> ApiResult<Authorized> {
        let unauthorized = |m: &str| ApiError::new(StatusCode::UNAUTHORIZED, "unauthorized", m);
        let given = parts
            .headers
            .get(AUTHORIZATION)
            .ok_or_else(|| unauthorized("missing Authorization: Bearer <api key>"))?;
        let key = given
            .as_bytes()
            .strip_prefix(b"Bearer ")
            .ok_or_else(|| unauthorized("expected Authorization: Bearer <api key>"))?;
        // Fixed-length digests compared in constant time, every key every time.
        let given = digest(key);
        let ok = state.api_keys.iter().fold(false, |ok, k| {
            ok | constant_time_eq::constant_time_eq_32(k, &given)
        });
        if ok {
            Ok(Authorized)
        } else {
            Err(unauthorized("wrong API key"))
        }
    }
}

/// Reads a JSON body of at most [`MAX_BODY_BYTES`], whatever its content type (a
/// `sendBeacon` sends `text/plain`).
async fn json_body<T: serde::de::DeserializeOwned>(body: Body) -> ApiResult<T> {
    let bytes: Bytes = axum::body::to_bytes(body, MAX_BODY_BYTES)
        .await
        .map_err(|_| {
            ApiError::new(
                StatusCode::PAYLOAD_TOO_LARGE,
                "malformed",
                format!("request body larger than {MAX_BODY_BYTES} bytes"),
            )
        })?;
    serde_json::from_slice(&bytes)
        .map_err(|e| ApiError::malformed(format!("malformed JSON body: {e}")))
}

/// The visitor's token from the `Cookie` header(s), if any. A malformed cookie header
/// counts as no token.
pub fn cookie_token<'h>(tracker: &Tracker, headers: &'h HeaderMap) -> Option<&'h str> {
    headers
        .get_all(COOKIE)
        .iter()
        .filter_map(|h| h.to_str().ok())
        .find_map(|h| tracker.cookie_config().find(h).ok().flatten())
}

/// Runs blocking tracker work (conversions wait for the store's fsync) off the async
/// workers.
async fn blocking<T: Send + 'static>(
    state: &Shared,
    f: impl FnOnce(&Tracker) -> affiliate_sdk::Result<T> + Send + 'static,
) -> ApiResult<T> {
    let state = state.clone();
    tokio::task::spawn_blocking(move || f(&state.tracker))
        .await
        .map_err(|_| {
            ApiError::new(
                StatusCode::INTERNAL_SERVER_ERROR,
                "store_unavailable",
                "worker failed",
            )
        })?
        .map_err(ApiError::from)
}

// ---------------------------------------------------------------------------------
// Clicks and impressions

async fn click(State(state): State<Shared>, req: axum::extract::Request) -> Response {
    // The request by value: its URI and headers are read in place, not cloned.
    let (uri, headers) = (req.uri(), req.headers());
    let target = link_target(&state, uri, None);
    let prior = cookie_token(&state.tracker, headers);
    match state.tracker.click(&target, prior) {
        Ok(out) => {
            if out.dropped_sid {
                tracing::info!(click_id = %out.click_id, "click with an invalid sid: sid dropped");
            }
            tracing::debug!(click_id = %out.click_id, unique = out.unique, "click");
            let mut resp = StatusCode::FOUND.into_response();
            let h = resp.headers_mut();
            // Both values are built by the core from validated parts; a failure here
            // would be a bug, and the visitor still lands.
            match (
                HeaderValue::try_from(out.location),
                HeaderValue::try_from(out.set_cookie),
            ) {
                (Ok(location), Ok(cookie)) => {
                    h.insert(LOCATION, location);
                    h.insert(SET_COOKIE, cookie);
                }
                _ => {
                    tracing::error!(click_id = %out.click_id, "unencodable redirect");
                    return ApiError::new(
                        StatusCode::INTERNAL_SERVER_ERROR,
                        "malformed",
                        "unencodable redirect",
                    )
                    .into_response();
                }
            }
            h.insert(CACHE_CONTROL, HeaderValue::from_static("no-store"));
            resp
        }
        Err(e) => {
            // Credit nobody, set nothing; land on the campaign's destination if the
            // campaign is known.
            let campaign = uri
                .path()
                .trim_start_matches("/go/")
                .split('/')
                .next()
                .unwrap_or("");
            tracing::info!(code = e.code(), error = %e, campaign, "click credited nobody");
            match state
                .tracker
                .campaign(campaign)
                .map(|c| HeaderValue::try_from(c.destination()))
            {
                Some(Ok(destination)) => {
                    let mut resp = StatusCode::FOUND.into_response();
                    resp.headers_mut().insert(LOCATION, destination);
                    resp.headers_mut()
                        .insert(CACHE_CONTROL, HeaderValue::from_static("no-store"));
                    resp
                }
                _ => ApiError::new(
                    StatusCode::NOT_FOUND,
                    "unknown_campaign",
                    format!("unknown campaign {campaign:?}"),
                )
                .into_response(),
            }
        }
    }
}

/// The link URL the tracker verifies for a request: the public path (which a proxy may
/// have stripped), then `/go/…` and the query. `imp` links are `/go` links served
/// under another prefix.
fn link_target(state: &AppState, uri: &Uri, replace_prefix: Option<&str>) -> String {
    let pq = uri.path_and_query().map_or("/", |pq| pq.as_str());
    let pq = match replace_prefix {
        Some(prefix) => pq.strip_prefix(prefix).unwrap_or(pq),
        None => pq.strip_prefix("/go").unwrap_or(pq),
    };
    format!("{}/go{pq}", state.public_path)
}

async fn impression(State(state): State<Shared>, uri: Uri) -> Response {
    let target = link_target(&state, &uri, Some("/imp"));
    let result = state.tracker.impression(&target);
    if let Err(e) = &result {
        tracing::info!(code = e.code(), error = %e, "impression credited nobody");
    }
    gif(result.err().map(|e| e.code()).unwrap_or("ok"))
}

/// The 1×1 transparent GIF, never cached. `X-Affiliate-Result` says what happened
/// (`ok`, `created`, `duplicate` or an error code) for whoever debugs a pixel.
fn gif(result: &'static str) -> Response {
    (
        [
            (CONTENT_TYPE, HeaderValue::from_static("image/gif")),
            (CACHE_CONTROL, HeaderValue::from_static("no-store")),
            (
                axum::http::HeaderName::from_static("x-affiliate-result"),
                HeaderValue::from_static(result),
            ),
        ],
        assets::GIF,
    )
        .into_response()
}

// ---------------------------------------------------------------------------------
// Conversions

/// What the public endpoints (pixel, beacon) accept: the session token is the only
/// evidence; click ids, coupons and customer ids need the authenticated postback.
#[derive(Deserialize)]
struct PublicConversion {
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

async fn pixel(
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

async fn beacon(
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

async fn postback(State(state): State<Shared>, _: Authorized, body: Body) -> ApiResult<Response> {
    let req: ConversionRequest = json_body(body).await?;
    Ok(conversion_response(&convert(&state, req).await?))
}

async fn manual(State(state): State<Shared>, _: Authorized, body: Body) -> ApiResult<Response> {
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

async fn set_status(
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

async fn conversion(
    State(state): State<Shared>,
    _: Authorized,
    Path(order_id): Path<String>,
) -> ApiResult<Json<serde_json::Value>> {
    let c = blocking(&state, move |t| t.conversion(&order_id)).await?;
    Ok(Json(c.to_json()))
}

// ---------------------------------------------------------------------------------
// Stats

async fn stats(
    State(state): State<Shared>,
    _: Authorized,
    RawQuery(query): RawQuery,
) -> ApiResult<Json<serde_json::Value>> {
    let q = stats_query(query.as_deref().unwrap_or(""))?;
    let rows = blocking(&state, move |t| t.stats(&q)).await?;
    Ok(Json(serde_json::json!({ "rows": rows })))
}

/// Parses `group_by=…&from=…&to=…&campaign=…&partner=…`; anything else is an error, so
/// a misspelt filter does not silently report everything.
fn stats_query(query: &str) -> ApiResult<StatsQuery> {
    let mut q = StatsQuery::default();
    let mut seen = Vec::new();
    for (name, value) in url::form_urlencoded::parse(query.as_bytes()) {
        if seen.contains(&name) {
            return Err(ApiError::malformed(format!(
                "parameter {name} appears more than once"
            )));
        }
        match name.as_ref() {
            "group_by" => {
                let dims: Vec<Dimension> = StatsQuery::parse_group_by(&value)?;
                q = StatsQuery {
                    group_by: StatsQuery::new(&dims).group_by,
                    ..q
                };
            }
            "from" => q.from_day = Some(affiliate_sdk::parse_day(&value)?),
            "to" => q.to_day = Some(affiliate_sdk::parse_day(&value)?),
            "campaign" => q.campaign = Some(Code::new(&value)?),
            "partner" => q.partner = Some(Code::new(&value)?),
            other => {
                return Err(ApiError::malformed(format!(
                    "unknown parameter {other:?}; expected group_by, from, to, campaign, partner"
                )));
            }
        }
        seen.push(name);
    }
    Ok(q)
}

// ---------------------------------------------------------------------------------
// Static pages

async fn snippet() -> Response {
    (
        [
            (CONTENT_TYPE, "text/javascript; charset=utf-8"),
            (CACHE_CONTROL, "public, max-age=3600"),
        ],
        assets::SNIPPET,
    )
        .into_response()
}

const PAGE_CSP: &str = "default-src 'self'; img-src 'self' data:; style-src 'self' 'unsafe-inline'; frame-ancestors 'none'";

async fn dashboard() -> Response {
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

async fn dashboard_asset(Path(file): Path<String>) -> ApiResult<Response> {
    let body = match file.as_str() {
        "dashboard.js" => assets::DASHBOARD_JS,
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stats_query_is_strict() {
        let q =
            stats_query("group_by=partner,day,partner&from=2026-11-01&campaign=haircare").unwrap();
        assert_eq!(q.group_by, [Dimension::Partner, Dimension::Day]);
        assert!(q.from_day.is_some() && q.to_day.is_none());
        for bad in [
            "group_by=country",
            "from=2026-13-01",
            "campaign=a b",
            "partnr=x",
            "from=2026-11-01&from=2026-11-02",
        ] {
            assert_eq!(stats_query(bad).unwrap_err().code, "malformed", "{bad}");
        }
    }
}
