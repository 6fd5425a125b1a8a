//! Conversions: as every endpoint shows them, and the requests that record and review
//! them.

use serde::Serialize;
use utoipa::ToSchema;

use super::{Amount, CodeText, Currency, ErrorDetail, Id, Kind, Sid};

/// A conversion's status.
#[derive(ToSchema, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ConversionStatus {
    Pending,
    Approved,
    Paid,
    Rejected,
    Reversed,
}

/// How a conversion arrived.
#[derive(ToSchema, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Channel {
    Browser,
    SignedBrowser,
    Server,
    Manual,
}

/// What credited a conversion.
#[derive(ToSchema, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Evidence {
    Token,
    ClickId,
    Coupon,
    Customer,
    Manual,
}

/// One level's commission on a conversion.
#[derive(ToSchema, Serialize)]
pub struct Commission {
    pub partner: String,
    /// 0 for the partner credited, 1 for its parent's override, …
    pub level: u32,
    #[schema(example = "4.99")]
    pub amount: String,
}

/// A conversion as every endpoint shows it.
#[derive(ToSchema, Serialize)]
pub struct Conversion {
    pub order_id: String,
    pub kind: Kind,
    #[schema(example = "49.90")]
    pub amount: String,
    #[schema(example = "USD")]
    pub currency: String,
    pub campaign: String,
    pub partner: String,
    pub ad: Option<String>,
    pub sid: Option<String>,
    pub click_id: Option<String>,
    pub status: ConversionStatus,
    /// A replay of an order id recorded before.
    pub duplicate: bool,
    /// This record replaced an earlier one of the order id.
    pub replaced: bool,
    pub commissions: Vec<Commission>,
    pub channel: Channel,
    pub evidence: Option<Evidence>,
    pub customer_id: Option<String>,
    pub converted_at: u64,
}

/// A conversion with the records it replaced, oldest first.
#[derive(ToSchema, Serialize)]
pub struct ConversionWithHistory {
    #[serde(flatten)]
    pub conversion: Conversion,
    pub replaced_records: Vec<Conversion>,
}

/// A page of conversions, newest first.
#[derive(ToSchema, Serialize)]
pub struct ConversionPage {
    pub conversions: Vec<Conversion>,
    /// Pass as `cursor` for the next page; `null` on the last.
    pub next_cursor: Option<String>,
}

/// The beacon's short answer (the public endpoint shows nothing more).
#[derive(ToSchema, Serialize)]
pub struct BeaconAnswer {
    pub order_id: String,
    pub status: ConversionStatus,
    pub duplicate: bool,
    pub replaced: bool,
}

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

/// One order's outcome: its new status, or why not.
#[derive(ToSchema, Serialize)]
pub struct BulkStatusResult {
    pub order_id: String,
    pub status: Option<ConversionStatus>,
    pub error: Option<ErrorDetail>,
}

/// The outcomes, in the order given.
#[derive(ToSchema, Serialize)]
pub struct BulkStatusAnswer {
    pub results: Vec<BulkStatusResult>,
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
