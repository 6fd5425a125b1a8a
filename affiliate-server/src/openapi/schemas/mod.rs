//! The shapes of the HTTP API's bodies, as the OpenAPI description shows them. The
//! answers are the core's own types (`affiliate_sdk::answers`), and so are the requests
//! the core parses (campaigns, partners, coupons, ads, conversions, payouts,
//! webhooks): each describes itself. Here are the query parameters, the erasure answer
//! and the partner's profile patch. schemathesis holds every endpoint to them
//! (`affiliate-server/openapi/check`).
//!
//! The formats the server checks (codes, ids, amounts, currencies, days, URLs) are one
//! schema each, referenced wherever they stand. Money is a decimal string (`"49.90"`),
//! never a number; times are Unix seconds.

#![allow(dead_code)] // Described, never built: the answers are the core's JSON.

mod erasure;
mod params;
mod partner;

pub use erasure::*;
pub use params::*;
pub use partner::*;

use serde::Serialize;
use utoipa::{IntoResponses, ToSchema};

pub use affiliate_sdk::answers::*;
pub use affiliate_sdk::answers::{CampaignAnswer as Campaign, UrlAnswer as Url};
pub use affiliate_sdk::formats::*;
pub use affiliate_sdk::ledger::{
    AdjustmentKind, AdjustmentRequest, PayoutRunSpec as PayoutRequest, PayoutStatus, SkipReason,
};
pub use affiliate_sdk::outbound::WebhookRequest as NewWebhook;
pub use affiliate_sdk::{
    AdSpec as Ad, Attribution, BrowserConversion as BeaconRequest, BrowserConversions,
    CampaignSpec as CampaignRequest, CampaignStatus, Channel, ClickCommission,
    ConversionRequest as PostbackRequest, CookieConsent, CouponSpec as CouponRequest, Evidence,
    ManualConversion as ManualRequest, MediaType, PartnerSpec as PartnerRequest, PartnerStatus,
    Postback, PostbackRefund, RefundRequest, StatsPage, StatsRow, Status as ConversionStatus,
    TrafficClosed,
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
