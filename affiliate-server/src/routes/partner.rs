//! The partner API (`/v1/partner/…`): a partner signed in with its key
//! (`Authorization: Bearer pk_…`) or the portal's session cookie works within its
//! subtree. Cookie-authenticated writes must come from the portal itself (a same-origin
//! `Origin`, or the `X-Affiliate-Portal` header a cross-site form cannot send).

use affiliate_sdk::{AdSpec, Code};
use axum::Json;
use axum::extract::{FromRequestParts, Path, State};
use axum::http::header::{AUTHORIZATION, COOKIE, HOST, ORIGIN};
use axum::http::request::Parts;
use axum::http::{HeaderMap, Method, StatusCode};
use axum::response::{IntoResponse, Response};

use super::params::{AdsParams, ConversionParams, DayRange, Page, PageSize, StatsParams};
use crate::http::{ApiError, ApiResult, JsonBody, Shared, StrictQuery, blocking, cut};
#[allow(unused_imports)]
use crate::openapi::schemas::*;
use serde::Deserialize;
use utoipa::ToSchema;

/// Partner bodies are small.
const PARTNER_BODY_BYTES: usize = 16 * 1024;

/// The partner a request is signed in as.
pub struct Partner(pub Code);

fn unauthorized(m: &str) -> ApiError {
    ApiError::new(StatusCode::UNAUTHORIZED, "unauthorized", m)
}

/// The portal session in the `Cookie` headers, if any (the core's cookie parser).
/// The portal session cookie's value, if the request carries one (its name is
/// `__Host-aff_portal` over https, `aff_portal` over http).
pub(crate) fn session_cookie(headers: &HeaderMap, base_url: &str) -> Option<String> {
    let name = affiliate_sdk::portal::session_cookie_name(base_url);
    headers
        .get_all(COOKIE)
        .iter()
        .filter_map(|h| h.to_str().ok())
        .find_map(|h| affiliate_sdk::parse_cookie_header(h, name).ok().flatten())
        .map(str::to_owned)
}

/// Whether a cookie-authenticated write comes from the portal: it carries the portal's
/// header (which another site cannot send without this server's CORS consent), or its
/// `Origin` is exactly this server's, scheme included (`https://` when the public URL
/// is https).
pub(crate) fn from_the_portal(headers: &HeaderMap, base_url: &str) -> bool {
    if headers.contains_key("x-affiliate-portal") {
        return true;
    }
    let (Some(origin), Some(host)) = (headers.get(ORIGIN), headers.get(HOST)) else {
        return false;
    };
    let (Ok(origin), Ok(host)) = (origin.to_str(), host.to_str()) else {
        return false;
    };
    let scheme = if base_url.starts_with("https://") {
        "https"
    } else {
        "http"
    };
    origin.eq_ignore_ascii_case(&format!("{scheme}://{host}"))
}

impl FromRequestParts<Shared> for Partner {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &Shared) -> ApiResult<Partner> {
        let t = &state.tracker;
        if let Some(given) = parts.headers.get(AUTHORIZATION) {
            let peer = state.throttled(parts)?;
            let key = given
                .to_str()
                .ok()
                .and_then(|v| v.strip_prefix("Bearer "))
                .ok_or_else(|| unauthorized("expected Authorization: Bearer pk_…"))?;
            return match t.partner_for_key(key)? {
                Some(p) => Ok(Partner(p)),
                None => {
                    state.wrong_key(peer, "partner_key");
                    Err(unauthorized(
                        "not a partner key of this program (or revoked)",
                    ))
                }
            };
        }
        let base = t.signer().base_url();
        let session = session_cookie(&parts.headers, base)
            .ok_or_else(|| unauthorized("sign in: Authorization: Bearer pk_… or the portal"))?;
        let partner = t
            .partner_for_session(&session)?
            .ok_or_else(|| unauthorized("the portal session expired; sign in again"))?;
        let write = !matches!(parts.method, Method::GET | Method::HEAD);
        if write && !from_the_portal(&parts.headers, base) {
            return Err(ApiError::new(
                StatusCode::FORBIDDEN,
                "forbidden",
                "a write with the portal's cookie must come from the portal",
            ));
        }
        Ok(Partner(partner))
    }
}

#[utoipa::path(
    get,
    operation_id = "partner_me",
    path = "/v1/partner/me",
    tag = "partner",
    summary = "The caller's profile",
    description = "The partner API answers within the caller's subtree only: itself and the partners below it. A partner named outside it is `403`, an ad that is not the caller's `404`; a suspended partner's credentials are `403`.",
    security(("partner_key" = []), ("portal_session" = [])),
    responses(
        (status = 200, description = "The profile", body = PartnerMe),
        Refusals
    )
)]
pub async fn me(State(state): State<Shared>, Partner(p): Partner) -> ApiResult<Json<PartnerMe>> {
    Ok(Json(blocking(&state, move |t| t.partner_me(p)).await?))
}

#[utoipa::path(
    patch,
    operation_id = "partner_update_me",
    path = "/v1/partner/me",
    tag = "partner",
    summary = "Changes the caller's name, payout details or postback URL",
    request_body(content = PartnerMePatch, content_type = "application/merge-patch+json"),
    security(("partner_key" = []), ("portal_session" = [])),
    responses(
        (status = 200, description = "The profile", body = PartnerMe),
        Refusals
    )
)]
pub async fn update_me(
    State(state): State<Shared>,
    Partner(p): Partner,
    JsonBody(patch): JsonBody<serde_json::Value, PARTNER_BODY_BYTES>,
) -> ApiResult<Json<PartnerMe>> {
    let me = blocking(&state, move |t| t.update_partner_me(p, &patch)).await?;
    tracing::info!(partner = %p, "partner changed its profile");
    Ok(Json(me))
}

/// A link a partner asks for: for itself (no `partner`) or a descendant.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PartnerLinkRequest {
    #[schema(value_type = CodeText)]
    campaign: String,
    #[serde(default)]
    #[schema(value_type = Option<CodeText>, nullable = false)]
    partner: Option<String>,
    #[serde(default)]
    #[schema(value_type = Option<CodeText>, nullable = false)]
    ad: Option<String>,
    #[serde(default)]
    #[schema(value_type = Option<Sid>, nullable = false)]
    sid: Option<String>,
    #[serde(default)]
    #[schema(value_type = Option<HttpUrl>, nullable = false)]
    to: Option<String>,
}

#[utoipa::path(
    post,
    operation_id = "partner_link",
    path = "/v1/partner/links",
    tag = "partner",
    summary = "A signed link for the caller or a descendant",
    description = "`partner` is the caller (default) or one of its descendants; `ad` must be an ad of that partner; `to` a page on one of the campaign's `deep_link_hosts`.",
    request_body(content = PartnerLinkRequest, content_type = "application/json", example = json!({"campaign": "haircare", "sid": "kw1"})),
    security(("partner_key" = []), ("portal_session" = [])),
    responses(
        (status = 200, description = "The link", body = Url),
        Refusals
    )
)]
pub async fn link(
    State(state): State<Shared>,
    Partner(p): Partner,
    JsonBody(b): JsonBody<PartnerLinkRequest, PARTNER_BODY_BYTES>,
) -> ApiResult<Json<UrlAnswer>> {
    let url = blocking(&state, move |t| {
        t.partner_link(
            p,
            &b.campaign,
            b.partner.as_deref(),
            b.ad.as_deref(),
            b.sid.as_deref(),
            b.to.as_deref(),
        )
    })
    .await
    .map_err(ApiError::on_resource)?;
    Ok(Json(UrlAnswer { url }))
}

/// `GET /v1/partner/ads[?partner=…]`: the caller's ads, or a descendant's.
#[utoipa::path(
    get,
    operation_id = "partner_ads",
    path = "/v1/partner/ads",
    tag = "partner",
    summary = "The caller's ads, or a descendant's",
    params(AdsParams),
    security(("partner_key" = []), ("portal_session" = [])),
    responses(
        (status = 200, description = "The ads", body = AdList),
        Refusals
    )
)]
pub async fn ads(
    State(state): State<Shared>,
    Partner(p): Partner,
    StrictQuery(AdsParams { partner: whose }): StrictQuery<AdsParams>,
) -> ApiResult<Json<AdList>> {
    let ads = blocking(&state, move |t| t.partner_ads(p, whose.as_deref()))
        .await
        .map_err(ApiError::on_resource)?;
    Ok(Json(AdList { ads }))
}

#[utoipa::path(
    post,
    operation_id = "partner_create_ad",
    path = "/v1/partner/ads",
    tag = "partner",
    summary = "A new ad of the caller",
    request_body(content = Ad, content_type = "application/json"),
    security(("partner_key" = []), ("portal_session" = [])),
    responses(
        (status = 201, description = "The ad", body = Ad),
        Refusals
    )
)]
pub async fn create_ad(
    State(state): State<Shared>,
    Partner(p): Partner,
    JsonBody(mut ad): JsonBody<serde_json::Value, PARTNER_BODY_BYTES>,
) -> ApiResult<Response> {
    if let Some(o) = ad.as_object_mut() {
        o.entry("partner").or_insert_with(|| p.as_str().into());
    }
    let ad: AdSpec =
        serde_json::from_value(ad).map_err(|e| ApiError::malformed(cut(&e.to_string())))?;
    let ad = blocking(&state, move |t| t.create_partner_ad(p, ad)).await?;
    Ok((StatusCode::CREATED, Json(ad)).into_response())
}

#[utoipa::path(
    patch,
    operation_id = "partner_update_ad",
    path = "/v1/partner/ads/{code}",
    tag = "partner",
    summary = "Changes one of the caller's ads (a JSON merge patch)",
    params(
        ("code" = CodeText, Path, description = "The ad code")
    ),
    request_body(content = MergePatch, content_type = "application/merge-patch+json"),
    security(("partner_key" = []), ("portal_session" = [])),
    responses(
        (status = 200, description = "The ad", body = Ad),
        Refusals
    )
)]
pub async fn update_ad(
    State(state): State<Shared>,
    Partner(p): Partner,
    Path(code): Path<String>,
    JsonBody(patch): JsonBody<serde_json::Value, PARTNER_BODY_BYTES>,
) -> ApiResult<Json<AdSpec>> {
    Ok(Json(
        blocking(&state, move |t| t.update_partner_ad(p, &code, &patch)).await?,
    ))
}

#[utoipa::path(
    get,
    operation_id = "partner_stats",
    path = "/v1/partner/stats",
    tag = "partner",
    summary = "Statistics of the caller's subtree",
    description = "`/v1/stats` restricted to the caller's subtree: of each conversion's commissions only those of partners in the subtree. `partner` outside the subtree is `403`.",
    params(StatsParams),
    security(("partner_key" = []), ("portal_session" = [])),
    responses(
        (status = 200, description = "A page of rows", body = StatsPage),
        Refusals
    )
)]
pub async fn stats(
    State(state): State<Shared>,
    Partner(p): Partner,
    StrictQuery(params): StrictQuery<StatsParams>,
) -> ApiResult<Json<StatsPage>> {
    let (q, limit, cursor) = params.query()?;
    let page = blocking(&state, move |t| {
        t.partner_stats_page(p, &q, limit, cursor.as_deref())
    })
    .await
    .map_err(ApiError::on_resource)?;
    Ok(Json(page))
}

#[utoipa::path(
    get,
    operation_id = "partner_conversions",
    path = "/v1/partner/conversions",
    tag = "partner",
    summary = "The subtree's conversions, newest first",
    description = "The subtree's conversions, newest first, with the caller's own commission on each; never the customer.",
    params(ConversionParams),
    security(("partner_key" = []), ("portal_session" = [])),
    responses(
        (status = 200, description = "A page", body = PartnerConversionPage),
        Refusals
    )
)]
pub async fn conversions(
    State(state): State<Shared>,
    Partner(p): Partner,
    StrictQuery(params): StrictQuery<ConversionParams>,
) -> ApiResult<Json<PartnerConversionPage>> {
    let (q, limit, cursor) = params.query()?;
    let page = blocking(&state, move |t| {
        t.partner_conversions_page(p, &q, limit, cursor.as_deref())
    })
    .await
    .map_err(ApiError::on_resource)?;
    Ok(Json(page))
}

#[utoipa::path(
    get,
    operation_id = "partner_balance",
    path = "/v1/partner/balance",
    tag = "partner",
    summary = "The caller's balance rows",
    security(("partner_key" = []), ("portal_session" = [])),
    responses(
        (status = 200, description = "Rows by currency", body = Balances),
        Refusals
    )
)]
pub async fn balance(
    State(state): State<Shared>,
    Partner(p): Partner,
) -> ApiResult<Json<Balances>> {
    let rows = blocking(&state, move |t| t.partner_balance(p)).await?;
    Ok(Json(Balances::new(&rows)))
}

#[utoipa::path(
    get,
    operation_id = "partner_payouts",
    path = "/v1/partner/payouts",
    tag = "partner",
    summary = "The caller's payouts",
    security(("partner_key" = []), ("portal_session" = [])),
    responses(
        (status = 200, description = "The payouts", body = PayoutList),
        Refusals
    )
)]
pub async fn payouts(
    State(state): State<Shared>,
    Partner(p): Partner,
) -> ApiResult<Json<PayoutList>> {
    let list = blocking(&state, move |t| t.partner_payouts(p)).await?;
    Ok(Json(PayoutList::new(&list)))
}

#[utoipa::path(
    get,
    operation_id = "partner_adjustments",
    path = "/v1/partner/adjustments",
    tag = "partner",
    summary = "The caller's own adjustments (bonuses, corrections) with their memos",
    security(("partner_key" = []), ("portal_session" = [])),
    responses(
        (status = 200, description = "The adjustments, newest first", body = AdjustmentList),
        Refusals
    )
)]
pub async fn adjustments(
    State(state): State<Shared>,
    Partner(p): Partner,
) -> ApiResult<Json<AdjustmentList>> {
    let adjustments = blocking(&state, move |t| t.adjustments(Some(p.as_str()), None)).await?;
    Ok(Json(AdjustmentList { adjustments }))
}

/// `GET /v1/partner/traffic?from&to`: the caller's own traffic earnings.
#[utoipa::path(
    get,
    operation_id = "partner_traffic",
    path = "/v1/partner/traffic",
    tag = "partner",
    summary = "The caller's own click and impression earnings per day and campaign",
    description = "The entries whose beneficiary is the caller: its own traffic (level 0) and its overrides on its children's (`partner` names whose traffic it was). A day is in the ledger an hour after it ends (UTC).",
    params(DayRange),
    security(("partner_key" = []), ("portal_session" = [])),
    responses(
        (status = 200, description = "The entries, by day", body = TrafficList),
        Refusals
    )
)]
pub async fn traffic(
    State(state): State<Shared>,
    Partner(p): Partner,
    StrictQuery(range): StrictQuery<DayRange>,
) -> ApiResult<Json<TrafficList>> {
    let DayRange { from, to } = range;
    let traffic = blocking(&state, move |t| {
        t.traffic(Some(p.as_str()), from.as_deref(), to.as_deref())
    })
    .await?;
    Ok(Json(TrafficList { traffic }))
}

/// `GET /v1/partner/postbacks?cursor&limit`: the caller's own postbacks (its
/// `postback_url` filled in for its conversions), newest first, with their attempts.
#[utoipa::path(
    get,
    operation_id = "partner_postbacks",
    path = "/v1/partner/postbacks",
    tag = "partner",
    summary = "The caller's own postbacks, newest first",
    description = "The caller's own postbacks (its `postback_url` filled in for its conversions' events), never its children's.",
    params(Page),
    security(("partner_key" = []), ("portal_session" = [])),
    responses(
        (status = 200, description = "A page", body = PostbackPage),
        Refusals
    )
)]
pub async fn postbacks(
    State(state): State<Shared>,
    Partner(p): Partner,
    StrictQuery(page): StrictQuery<Page>,
) -> ApiResult<Json<PostbackPage>> {
    let limit = page.limit()?;
    let cursor = page.cursor();
    let (page, next_cursor) = blocking(&state, move |t| {
        t.postback_deliveries(p, cursor.as_deref(), limit)
    })
    .await?;
    Ok(Json(PostbackPage {
        postbacks: page.iter().map(DeliveryAnswer::from).collect(),
        next_cursor,
    }))
}
