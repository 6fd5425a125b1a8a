//! The program through the merchant API: campaigns, partners, coupons and links
//! (`/v1/campaigns`, `/v1/partners`, `/v1/coupons`, `/v1/links`).

use affiliate_sdk::{CampaignSpec, CouponSpec, PartnerSpec};
use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use utoipa::ToSchema;

use super::params::PartnerParams;
use crate::http::{ApiError, ApiResult, Authorized, JsonBody, Shared, StrictQuery, blocking};
#[allow(unused_imports)]
use crate::openapi::schemas::*;

/// Program bodies may be larger than a conversion's: a campaign lists up to 100
/// deep-link hosts.
const PROGRAM_BODY_BYTES: usize = 64 * 1024;

fn created(answer: impl serde::Serialize) -> Response {
    (StatusCode::CREATED, Json(answer)).into_response()
}

#[utoipa::path(
    get,
    operation_id = "program_campaigns",
    path = "/v1/campaigns",
    tag = "program",
    summary = "The campaigns, by code",
    security(("api_key" = [])),
    responses(
        (status = 200, description = "The campaigns", body = CampaignList),
        Refusals
    )
)]
pub async fn campaigns(State(state): State<Shared>, _: Authorized) -> Json<CampaignList> {
    let t = &state.tracker;
    let campaigns = t.campaigns().iter().map(|c| t.campaign_answer(c)).collect();
    Json(CampaignList { campaigns })
}

#[utoipa::path(
    post,
    operation_id = "program_create_campaign",
    path = "/v1/campaigns",
    tag = "program",
    summary = "A new campaign",
    description = "Takes the fields of a `[[campaign]]` entry; unknown ones are `400`. `409 conflict` when the code exists. In force on every server sharing the store within 2 s.",
    request_body(content = CampaignRequest, content_type = "application/json"),
    security(("api_key" = [])),
    responses(
        (status = 201, description = "The campaign", body = Campaign),
        Refusals
    )
)]
pub async fn create_campaign(
    State(state): State<Shared>,
    _: Authorized,
    JsonBody(spec): JsonBody<CampaignSpec, PROGRAM_BODY_BYTES>,
) -> ApiResult<Response> {
    let json = blocking(&state, move |t| {
        let c = t.create_campaign(&spec)?;
        Ok(t.campaign_answer(&c))
    })
    .await
    .map_err(ApiError::on_resource)?;
    tracing::info!(campaign = %json.spec.code, "campaign created");
    Ok(created(json))
}

#[utoipa::path(
    get,
    operation_id = "program_campaign",
    path = "/v1/campaigns/{code}",
    tag = "program",
    summary = "A campaign",
    params(
        ("code" = CodeText, Path, description = "The campaign code")
    ),
    security(("api_key" = [])),
    responses(
        (status = 200, description = "The campaign", body = Campaign),
        Refusals
    )
)]
pub async fn campaign(
    State(state): State<Shared>,
    _: Authorized,
    Path(code): Path<String>,
) -> ApiResult<Json<affiliate_sdk::answers::CampaignAnswer>> {
    let t = &state.tracker;
    let c = t
        .campaign(&code)
        .ok_or_else(|| ApiError::on_resource(affiliate_sdk::Error::UnknownCampaign(code).into()))?;
    Ok(Json(t.campaign_answer(&c)))
}

#[utoipa::path(
    patch,
    operation_id = "program_update_campaign",
    path = "/v1/campaigns/{code}",
    tag = "program",
    summary = "Changes a campaign (a JSON merge patch)",
    description = "A JSON merge patch (RFC 7396): the members named are replaced, `null` resets one to its default; `{\"status\": \"paused\"}` pauses the campaign. The code cannot change. Entries of the configuration file answer `409 managed_by_config`.",
    params(
        ("code" = CodeText, Path, description = "The campaign code")
    ),
    request_body(content = MergePatch, content_type = "application/merge-patch+json"),
    security(("api_key" = [])),
    responses(
        (status = 200, description = "The campaign", body = Campaign),
        Refusals
    )
)]
pub async fn update_campaign(
    State(state): State<Shared>,
    _: Authorized,
    Path(code): Path<String>,
    JsonBody(patch): JsonBody<serde_json::Value, PROGRAM_BODY_BYTES>,
) -> ApiResult<Json<affiliate_sdk::answers::CampaignAnswer>> {
    let json = blocking(&state, move |t| {
        let c = t.update_campaign(&code, &patch)?;
        Ok(t.campaign_answer(&c))
    })
    .await
    .map_err(ApiError::on_resource)?;
    tracing::info!(campaign = %json.spec.code, "campaign changed");
    Ok(Json(json))
}

#[utoipa::path(
    get,
    operation_id = "program_partners",
    path = "/v1/partners",
    tag = "program",
    summary = "The partners, by code",
    params(PartnerParams),
    security(("api_key" = [])),
    responses(
        (status = 200, description = "A page", body = PartnerPage),
        Refusals
    )
)]
pub async fn partners(
    State(state): State<Shared>,
    _: Authorized,
    StrictQuery(params): StrictQuery<PartnerParams>,
) -> ApiResult<Json<PartnerPage>> {
    let (q, limit, cursor) = params.query()?;
    let t = &state.tracker;
    let page = t.partners_page(&q, limit, cursor.as_deref())?;
    Ok(Json(PartnerPage {
        partners: page.partners.iter().map(|p| t.partner_answer(p)).collect(),
        next_cursor: page.next_cursor,
    }))
}

#[utoipa::path(
    post,
    operation_id = "program_create_partner",
    path = "/v1/partners",
    tag = "program",
    summary = "A new partner",
    request_body(content = PartnerRequest, content_type = "application/json"),
    security(("api_key" = [])),
    responses(
        (status = 201, description = "The partner", body = PartnerAnswer),
        Refusals
    )
)]
pub async fn create_partner(
    State(state): State<Shared>,
    _: Authorized,
    JsonBody(spec): JsonBody<PartnerSpec, PROGRAM_BODY_BYTES>,
) -> ApiResult<Response> {
    let json = blocking(&state, move |t| {
        let p = t.create_partner(&spec)?;
        Ok(t.partner_answer(&p))
    })
    .await
    .map_err(ApiError::on_resource)?;
    tracing::info!(partner = %json.code, "partner created");
    Ok(created(json))
}

#[utoipa::path(
    get,
    operation_id = "program_partner",
    path = "/v1/partners/{code}",
    tag = "program",
    summary = "A partner",
    params(
        ("code" = CodeText, Path, description = "The partner code")
    ),
    security(("api_key" = [])),
    responses(
        (status = 200, description = "The partner", body = PartnerAnswer),
        Refusals
    )
)]
pub async fn partner(
    State(state): State<Shared>,
    _: Authorized,
    Path(code): Path<String>,
) -> ApiResult<Json<PartnerAnswer>> {
    let t = &state.tracker;
    let p = t
        .partner(&code)
        .ok_or_else(|| ApiError::on_resource(affiliate_sdk::Error::UnknownPartner(code).into()))?;
    Ok(Json(t.partner_answer(&p)))
}

#[utoipa::path(
    patch,
    operation_id = "program_update_partner",
    path = "/v1/partners/{code}",
    tag = "program",
    summary = "Changes a partner (a JSON merge patch)",
    description = "A JSON merge patch: `{\"status\": \"suspended\"}` suspends the partner (its clicks land uncredited at once on every server), `{\"parent\": null}` detaches it; a parent that would make a cycle is `400`; coupons change through the coupon endpoints.",
    params(
        ("code" = CodeText, Path, description = "The partner code")
    ),
    request_body(content = MergePatch, content_type = "application/merge-patch+json"),
    security(("api_key" = [])),
    responses(
        (status = 200, description = "The partner", body = PartnerAnswer),
        Refusals
    )
)]
pub async fn update_partner(
    State(state): State<Shared>,
    _: Authorized,
    Path(code): Path<String>,
    JsonBody(patch): JsonBody<serde_json::Value, PROGRAM_BODY_BYTES>,
) -> ApiResult<Json<PartnerAnswer>> {
    let json = blocking(&state, move |t| {
        let p = t.update_partner(&code, &patch)?;
        Ok(t.partner_answer(&p))
    })
    .await
    .map_err(ApiError::on_resource)?;
    tracing::info!(
        partner = %json.code,
        status = ?json.status,
        "partner changed"
    );
    Ok(Json(json))
}

#[utoipa::path(
    post,
    operation_id = "program_add_coupon",
    path = "/v1/partners/{code}/coupons",
    tag = "program",
    summary = "Gives a partner a coupon",
    params(
        ("code" = CodeText, Path, description = "The partner code")
    ),
    request_body(content = CouponRequest, content_type = "application/json", example = json!({"code": "SPRING-25", "campaign": "haircare"})),
    security(("api_key" = [])),
    responses(
        (status = 201, description = "The coupon", body = CouponAnswer),
        Refusals
    )
)]
pub async fn add_coupon(
    State(state): State<Shared>,
    _: Authorized,
    Path(partner): Path<String>,
    JsonBody(spec): JsonBody<CouponSpec, PROGRAM_BODY_BYTES>,
) -> ApiResult<Response> {
    let coupon = blocking(&state, move |t| {
        t.add_coupon(&partner, &spec.code, spec.campaign.as_deref())
    })
    .await
    .map_err(ApiError::on_resource)?;
    tracing::info!(coupon = %coupon.code, partner = %coupon.partner, "coupon added");
    Ok(created(coupon.answer()))
}

#[utoipa::path(
    delete,
    operation_id = "program_remove_coupon",
    path = "/v1/coupons/{code}",
    tag = "program",
    summary = "Takes a coupon away",
    params(
        ("code" = CodeText, Path, description = "The coupon code")
    ),
    security(("api_key" = [])),
    responses(
        (status = 200, description = "The coupon taken", body = CouponAnswer),
        Refusals
    )
)]
pub async fn remove_coupon(
    State(state): State<Shared>,
    _: Authorized,
    Path(code): Path<String>,
) -> ApiResult<Json<CouponAnswer>> {
    let coupon = blocking(&state, move |t| t.remove_coupon(&code)).await?;
    tracing::info!(coupon = %coupon.code, partner = %coupon.partner, "coupon removed");
    Ok(Json(coupon.answer()))
}

/// A link to sign. `to` makes a deep link to a page on one of the campaign's
/// `deep_link_hosts`.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct LinkRequest {
    #[schema(value_type = CodeText)]
    campaign: String,
    #[schema(value_type = CodeText)]
    partner: String,
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
    operation_id = "program_link",
    path = "/v1/links",
    tag = "program",
    summary = "A signed link",
    description = "A signed link for a campaign and partner that exist. `to` makes a deep link: an absolute URL whose host the campaign's `deep_link_hosts` allow, else `400 malformed` naming `to`.",
    request_body(content = LinkRequest, content_type = "application/json", example = json!({"campaign": "haircare", "partner": "abc123", "sid": "kw1"})),
    security(("api_key" = [])),
    responses(
        (status = 200, description = "The link", body = Url),
        Refusals
    )
)]
pub async fn link(
    State(state): State<Shared>,
    _: Authorized,
    JsonBody(b): JsonBody<LinkRequest, PROGRAM_BODY_BYTES>,
) -> ApiResult<Json<UrlAnswer>> {
    let url = state
        .tracker
        .link(
            &b.campaign,
            &b.partner,
            b.ad.as_deref(),
            b.sid.as_deref(),
            b.to.as_deref(),
        )
        .map_err(|e| ApiError::from(e).on_resource())?;
    Ok(Json(UrlAnswer { url }))
}
