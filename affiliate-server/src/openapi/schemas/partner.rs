//! The partner API's profile patch (the members `update_partner_me` takes).

use serde::Serialize;
use utoipa::ToSchema;

/// What a partner may change of its profile (a JSON merge patch).
#[derive(ToSchema, Serialize)]
pub struct PartnerMePatch {
    pub name: Option<String>,
    pub payout_details: Option<String>,
    pub postback_url: Option<String>,
}
