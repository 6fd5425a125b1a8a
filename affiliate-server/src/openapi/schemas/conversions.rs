//! Conversions: as every endpoint shows them, and the requests that record and review
//! them.

use serde::Serialize;
use utoipa::ToSchema;

use super::{Amount, CodeText, ConversionStatus, Currency, Id, Kind, Sid};

/// The snippet's beacon (`POST /v1/conversions`), any content type.
#[derive(ToSchema, Serialize)]
#[serde(deny_unknown_fields)]
pub struct BeaconRequest {
    pub order_id: Id,
    pub amount: Amount,
    pub currency: Currency,
    #[schema(nullable = false)]
    pub kind: Option<Kind>,
    /// The session token; else the `aff_token` cookie.
    #[schema(nullable = false)]
    pub token: Option<String>,
    /// The merchant's order signature, `<kid>.<tag>`.
    #[schema(nullable = false)]
    pub osig: Option<String>,
}

/// A server postback: the order and one or more pieces of evidence.
#[derive(ToSchema, Serialize)]
#[serde(deny_unknown_fields)]
pub struct PostbackRequest {
    pub order_id: Id,
    pub amount: Amount,
    pub currency: Currency,
    #[schema(nullable = false)]
    pub kind: Option<Kind>,
    #[schema(nullable = false)]
    pub token: Option<String>,
    #[schema(nullable = false)]
    pub click_id: Option<String>,
    #[schema(nullable = false)]
    pub coupon: Option<CodeText>,
    /// Which campaign a coupon credits, when several exist.
    #[schema(nullable = false)]
    pub campaign: Option<CodeText>,
    /// For recurring commissions; erasable (`DELETE /v1/customers/{customer_id}`).
    #[schema(nullable = false)]
    pub customer_id: Option<Id>,
}

/// A conversion entered by hand.
#[derive(ToSchema, Serialize)]
#[serde(deny_unknown_fields)]
pub struct ManualRequest {
    pub order_id: Id,
    pub amount: Amount,
    pub currency: Currency,
    #[schema(nullable = false)]
    pub kind: Option<Kind>,
    pub campaign: CodeText,
    pub partner: CodeText,
    #[schema(nullable = false)]
    pub ad: Option<CodeText>,
    #[schema(nullable = false)]
    pub sid: Option<Sid>,
    #[schema(nullable = false)]
    pub customer_id: Option<Id>,
}

/// A conversion's new status.
#[derive(ToSchema, Serialize)]
#[serde(deny_unknown_fields)]
pub struct StatusRequest {
    pub status: ConversionStatus,
}

/// Several orders to one status.
#[derive(ToSchema, Serialize)]
#[serde(deny_unknown_fields)]
pub struct BulkStatusRequest {
    /// 1 to 1,000 order ids.
    #[schema(min_items = 1, max_items = 1000)]
    pub order_ids: Vec<Id>,
    pub status: ConversionStatus,
}

/// What an erasure changed.
#[derive(ToSchema, Serialize)]
pub struct Erased {
    pub conversions: u64,
    pub bindings: u64,
    pub events: u64,
}

/// The answer of an erasure.
#[derive(ToSchema, Serialize)]
pub struct ErasedAnswer {
    pub erased: Erased,
}
