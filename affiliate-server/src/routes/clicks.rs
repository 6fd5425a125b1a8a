//! Clicks and impressions: `GET` and `HEAD` on `/go/…` and `/imp/…`. The core decides
//! everything; clicks are answered by the core crate's axum click routes
//! ([`affiliate_sdk::axum::ClickRoutes`], what any Rust shop mounts), and these
//! handlers count and log what happened. Impressions, by the same routes, answer a
//! GIF.
use affiliate_sdk::axum::{ClickEvent, ImpressionAnswer};
use axum::extract::{Request, State};
use axum::http::Uri;
use axum::response::Response;

use crate::http::{Refused, Shared, cut};
use crate::metrics::Outcome;
#[allow(unused_imports)]
use crate::openapi::schemas::*;

/// `GET /go/…`: a credited click answers 302 to the destination with the token, and
/// sets the cookie (unless the campaign waits for consent); a bot lands on the
/// destination with no token or cookie; a link that credits nobody lands on the
/// campaign's destination (or 404 for an unknown campaign), setting nothing.
#[utoipa::path(
    get,
    operation_id = "clicks_click",
    path = "/go/{campaign}/{partner}",
    tag = "clicks",
    summary = "A click on a signed link",
    description = "The hot path. A valid signed link of a known campaign and partner answers `302` to the destination (or the allowed deep-link target `to`) with the session token in `aff_token` and a first-party cookie (none when the campaign waits for consent), `Cache-Control: no-store`. A bot, crawler or link preview lands on the destination with no token and counts in `bot_clicks`. An altered or unsigned link, or an unknown partner, lands on the destination credited to nobody. Only the signed part can fail a link: `sid`, `to` and other parameters never do. A click never waits for the store.",
    params(
        LinkPath,
        LinkQuery
    ),
    responses(
        (status = 302, description = "To the destination (or the allowed deep-link target) with `aff_token` in its query and the cookie; a bot, or a link that credits nobody, to the destination as configured", headers(("Location" = String, description = "Where the visitor lands"), ("Set-Cookie" = String, description = "`aff_token=…; HttpOnly; SameSite=Lax` for a credited click"))),
        (status = 404, description = "No campaign of that code", body = ErrorBody)
    )
)]
pub async fn click(State(state): State<Shared>, req: Request) -> Response {
    // The request by value: its URI and headers are read in place, not cloned.
    let answer = state.clicks.click(req.uri(), req.headers());
    let result = match &answer.event {
        ClickEvent::Click { .. } => "click",
        ClickEvent::Bot { .. } => "bot",
        _ => "refused",
    };
    state.metrics.count_click(result);
    match &answer.event {
        ClickEvent::Bot { refused_to } => log_refused_to(refused_to.as_ref(), &answer.link),
        ClickEvent::Click {
            click_id,
            unique,
            dropped_sid,
            refused_to,
        } => {
            log_refused_to(refused_to.as_ref(), &answer.link);
            if *dropped_sid {
                tracing::debug!(click_id = %click_id, "click with an invalid sid: sid dropped");
            }
            tracing::debug!(click_id = %click_id, unique = unique, "click");
        }
        ClickEvent::Refused(error) => {
            Refused::count(&state.refused.clicks);
            state.metrics.refused("click", error.code());
            tracing::debug!(
                code = error.code(),
                error = cut(&error.to_string()),
                target = cut(&answer.link),
                "click credited nobody"
            );
        }
        _ => {}
    }
    answer.response
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
#[utoipa::path(
    head,
    operation_id = "clicks_click_head",
    path = "/go/{campaign}/{partner}",
    tag = "clicks",
    summary = "Where a click would land, counting nothing",
    params(
        LinkPath,
        LinkQuery
    ),
    responses(
        (status = 302, description = "The destination or allowed deep-link target, no token", headers(("Location" = String, description = "Where the visitor would land"))),
        (status = 404, description = "No campaign of that code")
    )
)]
pub async fn click_head(State(state): State<Shared>, uri: Uri) -> Response {
    state.clicks.preview(&uri).response
}

/// `GET /imp/…`: counts an impression; always the GIF.
#[utoipa::path(
    get,
    operation_id = "clicks_impression",
    path = "/imp/{campaign}/{partner}",
    tag = "clicks",
    summary = "Counts an impression",
    description = "Counts an impression (and the campaign's per-mille commission). Always `200` and a 1×1 GIF; `X-Affiliate-Result` is `ok` or the error code.",
    params(
        LinkPath,
        ImpressionQuery
    ),
    responses(
        (status = 200, description = "Always: a 1×1 GIF", body = String, content_type = "image/gif", headers(("X-Affiliate-Result" = String, description = "`ok` or the error code")))
    )
)]
pub async fn impression(State(state): State<Shared>, uri: Uri) -> Response {
    let ImpressionAnswer {
        response, result, ..
    } = state.clicks.impression(&uri);
    let counted = if result.is_ok() { "counted" } else { "refused" };
    state
        .metrics
        .impressions
        .get_or_create(&Outcome { result: counted })
        .inc();
    if let Err(e) = &result {
        Refused::count(&state.refused.impressions);
        state.metrics.refused("impression", e.code());
        tracing::debug!(
            code = e.code(),
            error = cut(&e.to_string()),
            "impression credited nobody"
        );
    }
    response
}

/// `HEAD /imp/…`: what a `GET` would answer, counting nothing.
#[utoipa::path(
    head,
    operation_id = "clicks_impression_head",
    path = "/imp/{campaign}/{partner}",
    tag = "clicks",
    summary = "The impression's headers, counting nothing",
    params(
        LinkPath,
        ImpressionQuery
    ),
    responses(
        (status = 200, description = "Always", headers(("X-Affiliate-Result" = String, description = "`ok` or the error code")))
    )
)]
pub async fn impression_head(State(state): State<Shared>, uri: Uri) -> Response {
    state.clicks.impression_preview(&uri).response
}

/// `?token=`: a visitor's token, as a landing URL carried it.
#[derive(Debug, serde::Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct TokenQuery {
    /// The token (`v1.…`).
    pub token: String,
}

/// `GET /v1/token?token=…`: `204` when the token is one this tracker signed and it has
/// not expired; the snippet stores a token from a landing URL only then.
#[utoipa::path(
    get,
    operation_id = "clicks_verify_token",
    path = "/v1/token",
    tag = "clicks",
    summary = "Whether a visitor's token is the tracker's own",
    description = "For the browser snippet: it stores a token from a landing URL in the shop's cookie only when this answers `204` (its signature verifies with a key of the keyring and it has not expired), so a forged or altered token in a link can never replace a visitor's real one. CORS for `allowed_origins`, no credentials; nothing is recorded. Refusals are counted in `/metrics` (`refusals_total{kind=\"token\"}`).",
    params(TokenQuery),
    responses(
        (status = 204, description = "The tracker's own token, unexpired"),
        (status = "4XX", description = "`malformed`, `invalid_signature` or `expired`", body = ErrorBody)
    )
)]
pub async fn verify_token(
    State(state): State<Shared>,
    crate::http::StrictQuery(q): crate::http::StrictQuery<TokenQuery>,
) -> Result<Response, crate::http::ApiError> {
    use axum::response::IntoResponse;
    if let Err(e) = state.tracker.verify_token(&q.token) {
        state.metrics.refused("token", e.code());
        return Err(e.into());
    }
    Ok((
        axum::http::StatusCode::NO_CONTENT,
        [(axum::http::header::CACHE_CONTROL, "no-store")],
    )
        .into_response())
}
