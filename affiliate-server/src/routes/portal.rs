//! The partner portal's pages and sign-in (`/portal`, `/portal/login`,
//! `/portal/logout`), and the merchant's side of partner credentials: API keys
//! (`/v1/partners/{code}/keys`) and sign-in links (`/v1/partners/{code}/portal-link`).

use affiliate_sdk::portal::session_cookie;
use axum::Json;
use axum::extract::{Path, RawQuery, State};
use axum::http::header::{
    CACHE_CONTROL, CONTENT_SECURITY_POLICY, CONTENT_TYPE, LOCATION, REFERRER_POLICY, SET_COOKIE,
};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use serde::Deserialize;

use super::pages::PAGE_CSP;
use crate::assets;
use crate::http::{
    ApiError, ApiResult, Authorized, JsonBody, Shared, blocking, created_with_secret,
};
#[allow(unused_imports)]
use crate::openapi::schemas::*;

#[utoipa::path(
    get,
    operation_id = "portal_page",
    path = "/portal",
    tag = "pages",
    summary = "The partner portal",
    responses(
        (status = 200, description = "The page", body = String, content_type = "text/html")
    )
)]
pub async fn page() -> Response {
    (
        [
            (CONTENT_TYPE, "text/html; charset=utf-8"),
            (CONTENT_SECURITY_POLICY, PAGE_CSP),
            (CACHE_CONTROL, "no-cache"),
        ],
        assets::PORTAL_HTML,
    )
        .into_response()
}

#[utoipa::path(
    get,
    operation_id = "portal_script",
    path = "/portal/portal.js",
    tag = "pages",
    summary = "The portal's script",
    responses(
        (status = 200, description = "The script", body = String, content_type = "text/javascript")
    )
)]
pub async fn script() -> Response {
    (
        [
            (CONTENT_TYPE, "text/javascript; charset=utf-8"),
            (CACHE_CONTROL, "no-cache"),
        ],
        assets::PORTAL_JS,
    )
        .into_response()
}

/// `GET /portal/login?t=…`: a sign-in link. Used: the session cookie is set and the
/// browser goes to the portal. Refused (used before, expired, not ours): the portal
/// with `?error=` and the reason's code, no cookie.
#[utoipa::path(
    get,
    operation_id = "portal_login",
    path = "/portal/login",
    tag = "pages",
    summary = "Signs a partner in with a sign-in link",
    params(
        ("t" = Option<String>, Query, description = "The sign-in link's token")
    ),
    responses(
        (status = 303, description = "To the portal with the session cookie; refused: to `/portal?error=<code>`, no cookie", headers(("Location" = String, description = "The portal")))
    )
)]
pub async fn login(State(state): State<Shared>, RawQuery(query): RawQuery) -> Response {
    // One `t`; none, or two, is a link that is not ours.
    let ts: Vec<String> = url::form_urlencoded::parse(query.as_deref().unwrap_or("").as_bytes())
        .filter(|(n, _)| n == "t")
        .map(|(_, v)| v.into_owned())
        .collect();
    let t = if let [t] = ts.as_slice() {
        t.clone()
    } else {
        String::new()
    };
    let base = state.tracker.signer().base_url().to_owned();
    let portal = format!("{}/portal", state.public_path);
    let outcome = blocking(&state, move |tr| tr.portal_login(&t)).await;
    let mut resp = match outcome {
        Ok(s) => {
            tracing::info!(partner = %s.partner, "portal sign-in");
            let mut r = (StatusCode::SEE_OTHER, [(LOCATION, portal)]).into_response();
            if let Ok(v) = session_cookie(&base, Some(&s.session)).parse() {
                r.headers_mut().insert(SET_COOKIE, v);
            }
            r
        }
        Err(e) => {
            tracing::info!(error = e.code, "portal sign-in refused");
            let to = format!("{portal}?error={}", e.code);
            (StatusCode::SEE_OTHER, [(LOCATION, to)]).into_response()
        }
    };
    let h = resp.headers_mut();
    h.insert(CACHE_CONTROL, "no-store".parse().expect("static header"));
    h.insert(
        REFERRER_POLICY,
        "no-referrer".parse().expect("static header"),
    );
    resp
}

/// `POST /portal/logout`: ends the partner's portal sessions (on every server) and
/// clears the cookie.
#[utoipa::path(
    post,
    operation_id = "portal_logout",
    path = "/portal/logout",
    tag = "pages",
    summary = "Signs the partner out of the portal, on every device",
    description = "Ends every portal session of the partner the cookie names, on every server sharing the store, and clears the cookie. A write: it must come from the portal (its `X-Affiliate-Portal` header, or an `Origin` that is exactly this server's), else `403 forbidden` and nothing changes.",
    responses(
        (status = 204, description = "Signed out", headers(("Set-Cookie" = String, description = "The cleared session cookie (`__Host-aff_portal` over https, `aff_portal` over http)"))),
        Refusals
    )
)]
pub async fn logout(State(state): State<Shared>, headers: HeaderMap) -> ApiResult<Response> {
    let base = state.tracker.signer().base_url().to_owned();
    if !super::partner::from_the_portal(&headers, &base) {
        return Err(ApiError::new(
            StatusCode::FORBIDDEN,
            "forbidden",
            "a sign-out must come from the portal",
        ));
    }
    if let Some(session) = super::partner::session_cookie(&headers, &base)
        && let Some(partner) = blocking(&state, move |t| t.portal_logout(&session)).await?
    {
        tracing::info!(%partner, "portal sign-out: the partner's sessions ended");
    }
    let cookie = session_cookie(&base, None);
    Ok((StatusCode::NO_CONTENT, [(SET_COOKIE, cookie)]).into_response())
}

/// `POST /v1/partners/{code}/keys`: a new API key for the partner, shown this once.
#[utoipa::path(
    post,
    operation_id = "portal_create_key",
    path = "/v1/partners/{code}/keys",
    tag = "partner keys",
    summary = "A new partner key, shown this once",
    description = "The key (`pk_…`) is in this answer only; the store keeps its SHA-256 digest. A partner key opens the partner API, never the merchant's.",
    params(
        ("code" = CodeText, Path, description = "The partner code")
    ),
    security(("api_key" = [])),
    responses(
        (status = 201, description = "The key and its record", body = KeyCreated),
        Refusals
    )
)]
pub async fn create_key(
    State(state): State<Shared>,
    _: Authorized,
    Path(code): Path<String>,
) -> ApiResult<Response> {
    let (record, key) = blocking(&state, move |t| t.create_partner_key(&code))
        .await
        .map_err(ApiError::on_resource)?;
    tracing::info!(partner = %record.partner, key_id = %record.id, "partner key created");
    Ok(created_with_secret(record.answer(), key))
}

/// `GET /v1/partners/{code}/keys`: ids and times, never keys.
#[utoipa::path(
    get,
    operation_id = "portal_keys",
    path = "/v1/partners/{code}/keys",
    tag = "partner keys",
    summary = "A partner's keys (never a key)",
    params(
        ("code" = CodeText, Path, description = "The partner code")
    ),
    security(("api_key" = [])),
    responses(
        (status = 200, description = "The records", body = KeyList),
        Refusals
    )
)]
pub async fn keys(
    State(state): State<Shared>,
    _: Authorized,
    Path(code): Path<String>,
) -> ApiResult<Json<KeyList>> {
    let keys = blocking(&state, move |t| t.partner_keys(&code))
        .await
        .map_err(ApiError::on_resource)?;
    Ok(Json(KeyList {
        keys: keys
            .iter()
            .map(affiliate_sdk::portal::PartnerKey::answer)
            .collect(),
    }))
}

/// `DELETE /v1/partners/{code}/keys/{id}`: revokes the key.
#[utoipa::path(
    delete,
    operation_id = "portal_revoke_key",
    path = "/v1/partners/{code}/keys/{id}",
    tag = "partner keys",
    summary = "Revokes a partner key",
    params(
        ("code" = CodeText, Path, description = "The partner code"),
        ("id" = String, Path, description = "The key's id")
    ),
    security(("api_key" = [])),
    responses(
        (status = 204, description = "Revoked"),
        Refusals
    )
)]
pub async fn revoke_key(
    State(state): State<Shared>,
    _: Authorized,
    Path((code, id)): Path<(String, String)>,
) -> ApiResult<StatusCode> {
    blocking(&state, move |t| t.revoke_partner_key(&code, &id))
        .await
        .map_err(ApiError::on_resource)?;
    Ok(StatusCode::NO_CONTENT)
}

/// How long a portal sign-in link works.
#[derive(Deserialize, Default, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PortalLinkRequest {
    /// Seconds, default 900, at most 7 days.
    #[serde(default)]
    #[schema(nullable = false, minimum = 1, maximum = 604800, example = 900)]
    pub ttl_secs: Option<u64>,
}

/// `POST /v1/partners/{code}/portal-link` `{ttl_secs?}`: a single-use sign-in link.
#[utoipa::path(
    post,
    operation_id = "portal_portal_link",
    path = "/v1/partners/{code}/portal-link",
    tag = "partner keys",
    summary = "A one-time portal sign-in link",
    description = "A sign-in link for the portal that works once, on any server of the store, until it expires (default 15 minutes, at most 7 days).",
    params(
        ("code" = CodeText, Path, description = "The partner code")
    ),
    request_body(content = PortalLinkRequest, content_type = "application/json"),
    security(("api_key" = [])),
    responses(
        (status = 200, description = "The link", body = Url),
        Refusals
    )
)]
pub async fn portal_link(
    State(state): State<Shared>,
    _: Authorized,
    Path(code): Path<String>,
    JsonBody(b): JsonBody<PortalLinkRequest, 1024>,
) -> ApiResult<Json<UrlAnswer>> {
    let url = blocking(&state, move |t| t.portal_link(&code, b.ttl_secs))
        .await
        .map_err(ApiError::on_resource)?;
    Ok(Json(UrlAnswer { url }))
}
