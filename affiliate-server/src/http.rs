//! The HTTP plumbing every endpoint shares: the state, the error answer, Bearer
//! authentication, JSON bodies, the visitor's cookie, and running blocking tracker
//! work off the async workers.

use std::sync::Arc;

use affiliate_sdk::Tracker;
use affiliate_sdk::axum::ClickRoutes;
use axum::Json;
use axum::body::{Body, Bytes};
use axum::extract::FromRequestParts;
use axum::http::header::{AUTHORIZATION, WWW_AUTHENTICATE};
use axum::http::request::Parts;
use axum::http::{HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use sha2::{Digest, Sha256};

/// Request bodies larger than this are refused with 413 (code `malformed`).
pub const MAX_BODY_BYTES: usize = 16 * 1024;

/// A request body must arrive whole within this time (else 408, code `malformed`).
pub const BODY_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(10);

/// At most this many bytes of a value a client sent reach the log.
pub const LOG_CUT: usize = 256;

/// `s` cut to [`LOG_CUT`] bytes (at a character boundary): what a log line may carry of
/// a value a client controls.
#[must_use]
pub fn cut(s: &str) -> &str {
    if s.len() <= LOG_CUT {
        return s;
    }
    let mut end = LOG_CUT;
    while !s.is_char_boundary(end) {
        end -= 1;
    }
    &s[..end]
}

/// Refused public requests since start, by kind: logged at `debug` one by one and
/// counted here, so a flood of junk costs the log one line a minute.
#[derive(Debug, Default)]
pub struct Refused {
    /// Links that credited nobody.
    pub clicks: std::sync::atomic::AtomicU64,
    /// Impressions that counted nothing.
    pub impressions: std::sync::atomic::AtomicU64,
    /// Browser conversions (pixel, beacon) refused.
    pub conversions: std::sync::atomic::AtomicU64,
}

impl Refused {
    /// Counts one refusal in `counter`.
    pub fn count(counter: &std::sync::atomic::AtomicU64) {
        counter.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    }

    /// The three counts.
    pub fn totals(&self) -> [u64; 3] {
        use std::sync::atomic::Ordering::Relaxed;
        [
            self.clicks.load(Relaxed),
            self.impressions.load(Relaxed),
            self.conversions.load(Relaxed),
        ]
    }
}

/// What every handler shares.
pub struct AppState {
    /// The tracker that decides.
    pub tracker: Arc<Tracker>,
    /// The click routes (`GET`/`HEAD /go/…`): the core crate's, as any axum app's.
    pub clicks: ClickRoutes,
    /// SHA-256 digests of the API keys, compared in constant time.
    api_keys: Vec<[u8; 32]>,
    /// The path of the public URL (`""` at the root), put back in front of request
    /// targets when a proxy strips it.
    pub(crate) public_path: String,
    /// Whether the demo shop pages are served.
    pub(crate) demo: bool,
    /// Refused public requests, for the minute's log line.
    pub refused: Refused,
    /// What `/metrics` shows.
    pub metrics: crate::metrics::Metrics,
    /// A readiness probe of the store is running (`/readyz`).
    pub(crate) probing: std::sync::atomic::AtomicBool,
    /// Wrong keys per source address.
    pub(crate) key_throttle: crate::throttle::KeyThrottle,
}

impl AppState {
    /// State for `tracker` with these Bearer keys.
    pub fn new(tracker: Tracker, api_keys: &[String], public_path: &str, demo: bool) -> AppState {
        let tracker = Arc::new(tracker);
        AppState {
            // Links are `{public_url}/go/…`; a proxy may strip the public URL's path.
            clicks: ClickRoutes::new(tracker.clone()).mounted_at("/go"),
            tracker,
            api_keys: api_keys.iter().map(|k| digest(k.as_bytes())).collect(),
            public_path: public_path.to_owned(),
            demo,
            refused: Refused::default(),
            metrics: crate::metrics::Metrics::new(),
            probing: std::sync::atomic::AtomicBool::new(false),
            key_throttle: crate::throttle::KeyThrottle::default(),
        }
    }
}

fn digest(bytes: &[u8]) -> [u8; 32] {
    Sha256::digest(bytes).into()
}

/// The state as handlers receive it.
pub type Shared = Arc<AppState>;

/// An error answer: `{"error":{"code":"…","message":"…"}}`.
#[derive(Debug)]
pub struct ApiError {
    pub(crate) status: StatusCode,
    pub(crate) code: &'static str,
    pub(crate) message: String,
    /// Seconds for a `Retry-After` header.
    pub(crate) retry_after: Option<u64>,
}

impl ApiError {
    pub fn new(status: StatusCode, code: &'static str, message: impl Into<String>) -> ApiError {
        ApiError {
            status,
            retry_after: None,
            code,
            message: message.into(),
        }
    }

    /// The error's code (docs/errors.md).
    #[must_use]
    pub fn code(&self) -> &'static str {
        self.code
    }

    pub(crate) fn malformed(message: impl Into<String>) -> ApiError {
        ApiError::new(StatusCode::BAD_REQUEST, "malformed", message)
    }
}

impl From<affiliate_sdk::Error> for ApiError {
    fn from(e: affiliate_sdk::Error) -> ApiError {
        // The core's mapping, as any axum app's `IntoResponse` for the error.
        let status =
            StatusCode::from_u16(e.http_status()).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
        ApiError::new(status, e.code(), e.to_string())
    }
}

impl ApiError {
    /// The error as an endpoint that addresses a program record by its code answers
    /// it (the core decides: an unknown campaign or partner is 404 there).
    pub(crate) fn on_resource(self) -> ApiError {
        let at = affiliate_sdk::Addressed::Resource;
        let status = StatusCode::from_u16(affiliate_sdk::http_status(self.code, at))
            .unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
        ApiError { status, ..self }
    }
}

/// `201 Created` for a conversion recorded now, `200 OK` for a replay of one recorded
/// before (`duplicate`).
/// The `Idempotency-Key` header of a write that needs one (`what` it makes, for the
/// message): `malformed` when missing or not visible ASCII (the core checks the rest).
pub(crate) fn idempotency_key(
    headers: &axum::http::HeaderMap,
    what: &str,
) -> Result<String, ApiError> {
    Ok(headers
        .get("idempotency-key")
        .ok_or_else(|| {
            ApiError::malformed(format!(
                "the Idempotency-Key header is required: a retry with the same key answers \
                 the {what} the first request made"
            ))
        })?
        .to_str()
        .map_err(|_| ApiError::malformed("Idempotency-Key must be visible ASCII"))?
        .to_owned())
}

pub(crate) fn created_or_ok(duplicate: bool) -> StatusCode {
    if duplicate {
        StatusCode::OK
    } else {
        StatusCode::CREATED
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
        if let Some(secs) = self.retry_after {
            resp.headers_mut()
                .insert(axum::http::header::RETRY_AFTER, HeaderValue::from(secs));
        }
        resp
    }
}

/// A handler's answer or its error.
pub type ApiResult<T> = Result<T, ApiError>;

/// A request that carried one of the configured Bearer keys.
pub struct Authorized;

impl FromRequestParts<Shared> for Authorized {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &Shared) -> ApiResult<Authorized> {
        let unauthorized = |m: &str| ApiError::new(StatusCode::UNAUTHORIZED, "unauthorized", m);
        let given = parts
            .headers
            .get(AUTHORIZATION)
            .ok_or_else(|| unauthorized("missing Authorization: Bearer <api key>"))?;
        let peer = state.throttled(parts)?;
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
            state.wrong_key(peer, "api_key");
            Err(unauthorized("wrong API key"))
        }
    }
}

impl AppState {
    /// The request's source, when it is throttled for wrong keys a `429` to answer
    /// (code `unauthorized`, with `Retry-After`).
    pub(crate) fn throttled(&self, parts: &Parts) -> ApiResult<Option<crate::throttle::Peer>> {
        let peer = parts.extensions.get::<crate::throttle::Peer>().copied();
        match self.key_throttle.check(peer) {
            Ok(()) => Ok(peer),
            Err(secs) => {
                self.metrics.refused("credentials", "throttled");
                let mut e = ApiError::new(
                    StatusCode::TOO_MANY_REQUESTS,
                    "unauthorized",
                    format!("too many wrong keys from this address: try again in {secs} s"),
                );
                e.retry_after = Some(secs);
                Err(e)
            }
        }
    }

    /// Counts a wrong key (`what`: `api_key`, `partner_key`) from `peer`; logs the
    /// address once a window when it becomes throttled, never the key.
    pub(crate) fn wrong_key(&self, peer: Option<crate::throttle::Peer>, what: &'static str) {
        self.metrics.refused("credentials", what);
        if self.key_throttle.failed(peer) == crate::throttle::Failure::Throttled {
            tracing::warn!(
                address = %peer.map_or_else(String::new, |p| p.0.to_string()),
                limit = crate::throttle::FAILURES_PER_WINDOW,
                window_secs = crate::throttle::WINDOW.as_secs(),
                "too many wrong keys from one address: its credentialed requests are answered 429 until the window ends"
            );
        }
    }
}

/// A JSON request body of at most `MAX` bytes (default [`MAX_BODY_BYTES`]) received
/// within [`BODY_TIMEOUT`], whatever its content type (a `sendBeacon` sends
/// `text/plain`), parsed into `T` (whose unknown members `deny_unknown_fields`
/// refuses): so a handler's signature names its body's schema. Refused before the
/// handler runs: `400 malformed` for a bad body, `413` for a big one, `408` for a slow
/// one.
pub struct JsonBody<T, const MAX: usize = MAX_BODY_BYTES>(pub T);

impl<T, S, const MAX: usize> axum::extract::FromRequest<S> for JsonBody<T, MAX>
where
    T: serde::de::DeserializeOwned,
    S: Send + Sync,
{
    type Rejection = ApiError;

    async fn from_request(req: axum::extract::Request, _: &S) -> ApiResult<Self> {
        json_body_max(req.into_body(), MAX).await.map(JsonBody)
    }
}

/// Reads a JSON body of at most `max` bytes (see [`JsonBody`]).
async fn json_body_max<T: serde::de::DeserializeOwned>(body: Body, max: usize) -> ApiResult<T> {
    let read = tokio::time::timeout(BODY_TIMEOUT, axum::body::to_bytes(body, max));
    let bytes: Bytes = read
        .await
        .map_err(|_| {
            ApiError::new(
                StatusCode::REQUEST_TIMEOUT,
                "malformed",
                "request body not received within 10 s",
            )
        })?
        .map_err(|_| {
            ApiError::new(
                StatusCode::PAYLOAD_TOO_LARGE,
                "malformed",
                format!("request body larger than {max} bytes"),
            )
        })?;
    serde_json::from_slice(&bytes)
        .map_err(|e| ApiError::malformed(format!("malformed JSON body: {e}")))
}

/// A query string read into `T`, the handler's own parameter struct (which also
/// describes the parameters to the OpenAPI document): so a handler's signature names
/// its parameters. Strict, so that a misspelt filter does not silently list
/// everything: a parameter `T` does not take, or one given twice, is `400 malformed`
/// before the handler runs. `T`'s fields are strings; the handler's core call checks
/// their values.
pub struct StrictQuery<T>(pub T);

impl<T, S> FromRequestParts<S> for StrictQuery<T>
where
    T: serde::de::DeserializeOwned + utoipa::IntoParams,
    S: Send + Sync,
{
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> ApiResult<Self> {
        StrictQuery::parse(&parts.uri)
    }
}

impl<T: serde::de::DeserializeOwned + utoipa::IntoParams> StrictQuery<T> {
    /// Reads `uri`'s query (see [`StrictQuery`]).
    pub fn parse(uri: &axum::http::Uri) -> ApiResult<Self> {
        let names: Vec<String> = T::into_params(|| Some(utoipa::openapi::path::ParameterIn::Query))
            .into_iter()
            .map(|p| p.name)
            .collect();
        let mut seen: Vec<String> = Vec::new();
        for (name, _) in url::form_urlencoded::parse(uri.query().unwrap_or("").as_bytes()) {
            if !names.iter().any(|n| *n == name) {
                return Err(ApiError::malformed(format!(
                    "unknown parameter {:?}; expected {}",
                    cut(&name),
                    names.join(", ")
                )));
            }
            if seen.iter().any(|n| *n == name) {
                return Err(ApiError::malformed(format!(
                    "parameter {} appears more than once",
                    cut(&name)
                )));
            }
            seen.push(name.into_owned());
        }
        axum::extract::Query::<T>::try_from_uri(uri)
            .map(|q| StrictQuery(q.0))
            .map_err(|e| ApiError::malformed(e.body_text()))
    }
}

/// The visitor's token from the `Cookie` header(s), as any axum app reads it.
pub use affiliate_sdk::axum::cookie_token;

/// How long an HTTP request waits for the store: past it the answer is `503
/// store_unavailable`. A PostgreSQL server that stops answering (stalled, not gone)
/// never ends a query by itself; the request answers anyway, and the work it started
/// finishes or fails when the store answers again (a retry with the same order id is
/// safe: a conversion is recorded once).
pub const STORE_DEADLINE: std::time::Duration = std::time::Duration::from_secs(5);

/// Runs blocking tracker work (conversions wait for the store's fsync) off the async
/// workers, answering `503 store_unavailable` when it takes longer than
/// [`STORE_DEADLINE`].
pub async fn blocking<T: Send + 'static>(
    state: &Shared,
    f: impl FnOnce(&Tracker) -> affiliate_sdk::Result<T> + Send + 'static,
) -> ApiResult<T> {
    let state = state.clone();
    let work = tokio::task::spawn_blocking(move || f(&state.tracker));
    match tokio::time::timeout(STORE_DEADLINE, work).await {
        Ok(Ok(answer)) => answer.map_err(ApiError::from),
        Ok(Err(_)) => Err(ApiError::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            "store_unavailable",
            "worker failed",
        )),
        Err(_) => Err(ApiError::new(
            StatusCode::SERVICE_UNAVAILABLE,
            "store_unavailable",
            format!(
                "the store did not answer within {} s; retry later",
                STORE_DEADLINE.as_secs()
            ),
        )),
    }
}

/// `201` with a new record's JSON and its secret as `key`, shown this once (a partner
/// key, a postback key): never cached.
pub fn created_with_secret(record: affiliate_sdk::answers::KeyRecord, key: String) -> Response {
    (
        StatusCode::CREATED,
        [(axum::http::header::CACHE_CONTROL, "no-store")],
        Json(affiliate_sdk::answers::KeyCreated { record, key }),
    )
        .into_response()
}
