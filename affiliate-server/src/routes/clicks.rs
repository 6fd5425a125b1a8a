//! Clicks and impressions: `GET` and `HEAD` on `/go/…` and `/imp/…`. The core decides
//! everything ([`Tracker::land`](affiliate_sdk::Tracker::land)); these handlers turn
//! its answer into a redirect, a GIF or a 404.

use affiliate_sdk::{Landing, Refusal};
use axum::extract::{Request, State};
use axum::http::header::{CACHE_CONTROL, CONTENT_TYPE, LOCATION, SET_COOKIE, USER_AGENT};
use axum::http::{HeaderName, HeaderValue, StatusCode, Uri};
use axum::response::{IntoResponse, Response};

use crate::assets;
use crate::http::{ApiError, AppState, Refused, Shared, cookie_token, cut};

/// `GET /go/…`: a credited click answers 302 to the destination with the token, and
/// sets the cookie (unless the campaign waits for consent); a bot lands on the
/// destination with no token or cookie; a link that credits nobody lands on the
/// campaign's destination (or 404 for an unknown campaign), setting nothing.
pub async fn click(State(state): State<Shared>, req: Request) -> Response {
    // The request by value: its URI and headers are read in place, not cloned.
    let (uri, headers) = (req.uri(), req.headers());
    let target = link_target(&state, uri, None);
    let prior = cookie_token(&state.tracker, headers);
    // A user agent that is not text is no browser's.
    let agent = headers
        .get(USER_AGENT)
        .map_or("", |v| v.to_str().unwrap_or(""));
    match state.tracker.visit(&target, prior, Some(agent)) {
        Ok(Landing::Bot {
            location,
            refused_to,
        }) => {
            log_refused_to(refused_to.as_ref(), &target);
            match HeaderValue::try_from(location) {
                Ok(location) => redirect(location),
                Err(_) => StatusCode::INTERNAL_SERVER_ERROR.into_response(),
            }
        }
        Ok(Landing::Click(out)) => {
            log_refused_to(out.refused_to.as_ref(), &target);
            if out.dropped_sid {
                tracing::debug!(click_id = %out.click_id, "click with an invalid sid: sid dropped");
            }
            tracing::debug!(click_id = %out.click_id, unique = out.unique, "click");
            // Both values are built by the core from validated parts; a failure here
            // would be a bug.
            match (
                HeaderValue::try_from(out.location),
                out.set_cookie.map(HeaderValue::try_from).transpose(),
            ) {
                (Ok(location), Ok(cookie)) => {
                    let mut resp = redirect(location);
                    if let Some(cookie) = cookie {
                        resp.headers_mut().insert(SET_COOKIE, cookie);
                    }
                    resp
                }
                _ => {
                    tracing::error!(click_id = %out.click_id, "unencodable redirect");
                    ApiError::new(
                        StatusCode::INTERNAL_SERVER_ERROR,
                        "malformed",
                        "unencodable redirect",
                    )
                    .into_response()
                }
            }
        }
        Err(refusal) => {
            Refused::count(&state.refused.clicks);
            tracing::debug!(
                code = refusal.error.code(),
                error = cut(&refusal.error.to_string()),
                target = cut(&target),
                "click credited nobody"
            );
            refused(refusal)
        }
    }
}

/// A deep link whose `to=` target the campaign does not allow: the visitor landed
/// on the destination; the merchant sees why (and who sends such links) in the log.
fn log_refused_to(refused: Option<&affiliate_sdk::Error>, target: &str) {
    if let Some(error) = refused {
        tracing::info!(
            error = cut(&error.to_string()),
            link = cut(target),
            "deep link not followed: landed on the campaign's destination"
        );
    }
}

/// `HEAD /go/…`: the status and `Location` a `GET` would get, without a token: it
/// issues nothing, sets no cookie and counts nothing (link checkers and unfurlers use
/// `HEAD`).
pub async fn click_head(State(state): State<Shared>, uri: Uri) -> Response {
    let target = link_target(&state, &uri, None);
    match state.tracker.preview_click(&target) {
        Ok(destination) => match HeaderValue::try_from(destination) {
            Ok(location) => redirect(location),
            Err(_) => StatusCode::INTERNAL_SERVER_ERROR.into_response(),
        },
        Err(refusal) => refused(refusal),
    }
}

/// A 302 to `location`, never cached.
fn redirect(location: HeaderValue) -> Response {
    let mut resp = StatusCode::FOUND.into_response();
    let h = resp.headers_mut();
    h.insert(LOCATION, location);
    h.insert(CACHE_CONTROL, HeaderValue::from_static("no-store"));
    resp
}

/// A click that credits nobody: the campaign's destination, or 404 for an unknown
/// campaign.
fn refused(refusal: Refusal) -> Response {
    match refusal.fallback.map(HeaderValue::try_from) {
        Some(Ok(destination)) => redirect(destination),
        _ => {
            let mut e = ApiError::from(refusal.error);
            e.status = StatusCode::NOT_FOUND;
            e.into_response()
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

/// `GET /imp/…`: counts an impression; always the GIF.
pub async fn impression(State(state): State<Shared>, uri: Uri) -> Response {
    let target = link_target(&state, &uri, Some("/imp"));
    let result = state.tracker.impression(&target);
    if let Err(e) = &result {
        Refused::count(&state.refused.impressions);
        tracing::debug!(
            code = e.code(),
            error = cut(&e.to_string()),
            "impression credited nobody"
        );
    }
    gif(result.err().map_or("ok", |e| e.code()))
}

/// `HEAD /imp/…`: what a `GET` would answer, counting nothing.
pub async fn impression_head(State(state): State<Shared>, uri: Uri) -> Response {
    let target = link_target(&state, &uri, Some("/imp"));
    let result = state.tracker.check_impression(&target);
    gif(result.err().map_or("ok", |e| e.code()))
}

/// The 1×1 transparent GIF, never cached. `X-Affiliate-Result` says what happened
/// (`ok`, `created`, `duplicate` or an error code) for whoever debugs a pixel.
pub fn gif(result: &'static str) -> Response {
    (
        [
            (CONTENT_TYPE, HeaderValue::from_static("image/gif")),
            (CACHE_CONTROL, HeaderValue::from_static("no-store")),
            (
                HeaderName::from_static("x-affiliate-result"),
                HeaderValue::from_static(result),
            ),
        ],
        assets::GIF,
    )
        .into_response()
}
