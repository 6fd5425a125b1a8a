//! The shapes of the HTTP API's request and answer bodies, as the OpenAPI description
//! shows them. The core builds the answers (`Tracker::campaign_json`,
//! `Conversion::to_json`, …) and parses the requests; these types only describe them,
//! and the tests hold them to what the server really sends (`super::tests`) and
//! schemathesis holds every endpoint to them (`affiliate-server/openapi/check`).
//!
//! The formats the server checks (codes, ids, amounts, currencies, days, URLs) are one
//! schema each, referenced wherever they stand. Money is a decimal string (`"49.90"`),
//! never a number; times are Unix seconds.

#![allow(dead_code)] // Described, never built: the answers are the core's JSON.

mod conversions;
mod events;
mod ledger;
mod params;
mod partner;
mod program;

pub use conversions::*;
pub use events::*;
pub use ledger::*;
pub use params::*;
pub use partner::*;
pub use program::*;

use serde::Serialize;
use utoipa::{IntoResponses, ToSchema};

// `Code` in the description; `CodeText` here, beside the core's `Code`.
/// A campaign, partner, ad or coupon code: 1 to 64 of `[A-Za-z0-9_-]`.
#[derive(ToSchema, Serialize)]
#[schema(as = Code, value_type = String, pattern = "^[A-Za-z0-9_-]{1,64}$", example = "haircare")]
pub struct CodeText(String);

/// A partner's sub-id: 1 to 64 of `[A-Za-z0-9._~-]`.
#[derive(ToSchema, Serialize)]
#[schema(value_type = String, pattern = "^[A-Za-z0-9._~-]{1,64}$", example = "kw1")]
pub struct Sid(String);

/// An order or customer id: 1 to 128 printable ASCII characters without spaces, quotes
/// or backslashes.
#[derive(ToSchema, Serialize)]
#[schema(value_type = String, pattern = "^[!#-\\[\\]-~]{1,128}$", example = "A-1001")]
pub struct Id(String);

/// An amount of money: a decimal string in the currency's minor units at most.
#[derive(ToSchema, Serialize)]
#[schema(value_type = String, pattern = "^[0-9]{1,12}(\\.[0-9]{1,4})?$", example = "49.90")]
pub struct Amount(String);

/// An ISO 4217 currency code the server knows.
#[derive(ToSchema, Serialize)]
#[schema(value_type = String, pattern = "^[A-Z]{3}$", example = "USD")]
pub struct Currency(String);

/// A UTC day, `YYYY-MM-DD`, from 1970.
#[derive(ToSchema, Serialize)]
#[schema(
    value_type = String,
    pattern = "^(19[7-9][0-9]|2[0-9]{3})-(0[1-9]|1[0-2])-(0[1-9]|1[0-9]|2[0-8])$",
    example = "2026-11-30"
)]
pub struct Day(String);

/// An absolute `http` or `https` URL.
#[derive(ToSchema, Serialize)]
#[schema(value_type = String, pattern = "^https?://[^\\s]+$", example = "https://shop.example/p/42")]
pub struct HttpUrl(String);

/// `sale`, `lead`, or a named action (`signup`, `trial`: reported and paid as a lead).
#[derive(ToSchema, Serialize)]
#[schema(value_type = String, pattern = "^[A-Za-z0-9_-]{1,64}$", example = "sale")]
pub struct Kind(String);

/// Every refusal: `{"error": {"code", "message"}}`, the code from docs/errors.md.
#[derive(ToSchema, Serialize)]
pub struct ErrorBody {
    pub error: ErrorDetail,
}

/// What went wrong: a stable code and a message for people.
#[derive(ToSchema, Serialize)]
pub struct ErrorDetail {
    /// `malformed`, `unauthorized`, `forbidden`, `not_found`, `conflict`,
    /// `invalid_transition`, `managed_by_config`, `invalid_signature`, `expired`,
    /// `unknown_campaign`, `unknown_partner`, `not_attributable`, `store_unavailable`, …
    #[schema(example = "malformed")]
    pub code: String,
    pub message: String,
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
