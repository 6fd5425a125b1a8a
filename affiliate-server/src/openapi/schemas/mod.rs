//! The shapes of the HTTP API's bodies, as the OpenAPI description shows them. The
//! answers are the core's own types (`affiliate_sdk::answers`, which describe
//! themselves); the requests, which the core parses, and the campaign and ad specs are
//! described here. schemathesis holds every endpoint to them
//! (`affiliate-server/openapi/check`).
//!
//! The formats the server checks (codes, ids, amounts, currencies, days, URLs) are one
//! schema each, referenced wherever they stand. Money is a decimal string (`"49.90"`),
//! never a number; times are Unix seconds.

#![allow(dead_code)] // Described, never built: the answers are the core's JSON.

mod campaigns;
mod erasure;
mod params;
mod partner;
mod stats;

pub use campaigns::*;
pub use erasure::*;
pub use params::*;
pub use partner::*;
pub use stats::*;

use serde::Serialize;
use utoipa::{IntoResponses, ToSchema};

pub use affiliate_sdk::answers::*;
pub use affiliate_sdk::formats::*;
pub use affiliate_sdk::ledger::{PayoutRunSpec as PayoutRequest, PayoutStatus};
pub use affiliate_sdk::outbound::WebhookRequest as NewWebhook;
pub use affiliate_sdk::{
    BrowserConversion as BeaconRequest, Channel, ConversionRequest as PostbackRequest,
    CouponSpec as CouponRequest, Evidence, ManualConversion as ManualRequest,
    PartnerSpec as PartnerRequest, PartnerStatus, Status as ConversionStatus,
};

/// Every refusal: `{"error": {"code", "message"}}`, the code from docs/errors.md.
#[derive(ToSchema, Serialize)]
pub struct ErrorBody {
    pub error: ErrorDetail,
}

/// The refusals every API endpoint may answer.
#[derive(IntoResponses)]
pub enum Refusals {
    /// Refused; the code says why
    #[response(status = "4XX")]
    Refused(ErrorBody),
    /// The store did not answer; nothing changed: retry
    #[response(status = 503)]
    Unavailable(ErrorBody),
}

/// A JSON merge patch (RFC 7396): the members named are replaced, `null` resets one.
#[derive(ToSchema, Serialize)]
#[schema(value_type = Object)]
pub struct MergePatch(pub serde_json::Value);

/// A URL: a signed link, or a portal sign-in link.
#[derive(ToSchema, Serialize)]
pub struct Url {
    #[schema(example = "https://t.shop.example/go/spring/abc123?sig=k1.…")]
    pub url: String,
}
