//! Reviewing conversions: the listing (`GET /v1/conversions`), its CSV file and the
//! bulk status change (`POST /v1/conversions/status`), and erasing a customer
//! (`DELETE /v1/customers/{customer_id}`).

use affiliate_sdk::Status;
use axum::Json;
use axum::extract::{Path, State};
use axum::response::Response;
use serde::Deserialize;

use crate::http::{ApiResult, Authorized, JsonBody, Shared, StrictQuery, blocking};
#[allow(unused_imports)]
use crate::openapi::schemas::*;
use crate::routes::params::{ConversionFilters, ConversionParams, Filters};
use crate::routes::reports::csv_response;

/// A bulk change of 1,000 order ids of up to 128 bytes each.
const BULK_BODY_BYTES: usize = 256 * 1024;

#[utoipa::path(
    get,
    operation_id = "review_list",
    path = "/v1/conversions",
    tag = "review",
    summary = "Conversions, newest first",
    description = "Conversions newest first (ties by order id), filtered; pass `next_cursor` back as `cursor` for the next page (`null` on the last). Any other parameter, or one given twice, is `400`.",
    params(ConversionParams),
    security(("api_key" = [])),
    responses(
        (status = 200, description = "A page", body = ConversionPage),
        Refusals
    )
)]
pub async fn list(
    State(state): State<Shared>,
    _: Authorized,
    StrictQuery(params): StrictQuery<ConversionParams>,
) -> ApiResult<Json<ConversionPage>> {
    let (q, limit, cursor) = params.query()?;
    let page = blocking(&state, move |t| {
        t.conversions_page(&q, limit, cursor.as_deref())
    })
    .await?;
    Ok(Json(ConversionPage {
        conversions: page
            .conversions
            .iter()
            .map(ConversionAnswer::from)
            .collect(),
        next_cursor: page.next_cursor,
    }))
}

#[utoipa::path(
    get,
    operation_id = "review_csv",
    path = "/v1/conversions.csv",
    tag = "review",
    summary = "Every matching conversion as CSV",
    params(ConversionFilters),
    security(("api_key" = [])),
    responses(
        (status = 200, description = "RFC 4180, UTF-8, a header row", body = String, content_type = "text/csv"),
        Refusals
    )
)]
pub async fn csv(
    State(state): State<Shared>,
    _: Authorized,
    StrictQuery(filters): StrictQuery<ConversionFilters>,
) -> ApiResult<Response> {
    let q = filters.query()?;
    let csv = blocking(&state, move |t| {
        affiliate_sdk::conversions_csv(&t.conversions_matching(&q)?)
    })
    .await?;
    Ok(csv_response("conversions.csv", csv))
}

/// Several orders to one status.
#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct BulkStatusRequest {
    /// 1 to 1,000 order ids.
    #[schema(value_type = Vec<Id>, min_items = 1, max_items = 1000)]
    pub order_ids: Vec<String>,
    #[schema(value_type = ConversionStatus)]
    pub status: String,
}

#[utoipa::path(
    post,
    operation_id = "review_bulk_status",
    path = "/v1/conversions/status",
    tag = "review",
    summary = "Sets the status of several orders, each on its own",
    description = "Sets each order on its own, in the order given; one order's refusal does not stop the others.",
    request_body(content = BulkStatusRequest, content_type = "application/json", example = json!({"order_ids": ["A-1001", "M-1001"], "status": "approved"})),
    security(("api_key" = [])),
    responses(
        (status = 200, description = "Each order's outcome, in the order given", body = BulkStatusAnswer),
        Refusals
    )
)]
pub async fn bulk_status(
    State(state): State<Shared>,
    _: Authorized,
    JsonBody(BulkStatusRequest { order_ids, status }): JsonBody<BulkStatusRequest, BULK_BODY_BYTES>,
) -> ApiResult<Json<BulkStatusAnswer>> {
    let status: Status = status.parse()?;
    let answer = blocking(&state, move |t| t.set_statuses_answer(&order_ids, status)).await?;
    let changed = answer.results.iter().filter(|r| r.error.is_none()).count();
    let asked = answer.results.len();
    tracing::info!(status = %status.as_str(), changed, asked, "bulk status");
    Ok(Json(answer))
}

/// `DELETE /v1/customers/{customer_id}`: erasure (GDPR Art. 17). The id is removed
/// from every conversion, binding, event and delivery; the answer counts what changed.
/// The id itself is not logged.
#[utoipa::path(
    delete,
    operation_id = "review_erase_customer",
    path = "/v1/customers/{customer_id}",
    tag = "review",
    summary = "Erases a customer id (GDPR Art. 17)",
    description = "Erasure (GDPR Art. 17): the customer's recurring-commission binding is removed and `customer_id` becomes `null` in every conversion, replaced record, outbound event and delivery that carried it. The conversions and their commissions stay.",
    params(
        ("customer_id" = Id, Path, description = "The customer id")
    ),
    security(("api_key" = [])),
    responses(
        (status = 200, description = "What carried the id (all 0 when nothing did)", body = ErasedAnswer),
        Refusals
    )
)]
pub async fn erase_customer(
    State(state): State<Shared>,
    _: Authorized,
    Path(customer_id): Path<String>,
) -> ApiResult<Json<serde_json::Value>> {
    let erased = blocking(&state, move |t| t.erase_customer(&customer_id)).await?;
    tracing::info!(
        conversions = erased.conversions,
        bindings = erased.bindings,
        events = erased.events,
        "customer erased"
    );
    Ok(Json(serde_json::json!({
        "erased": {
            "conversions": erased.conversions,
            "bindings": erased.bindings,
            "events": erased.events,
        }
    })))
}
