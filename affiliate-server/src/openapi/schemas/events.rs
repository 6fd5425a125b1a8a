//! Outbound events: webhook endpoints and the deliveries of events to them and to
//! partners' postback URLs.

use serde::Serialize;
use utoipa::ToSchema;

/// A webhook endpoint to add.
#[derive(ToSchema, Serialize)]
#[serde(deny_unknown_fields)]
pub struct NewWebhook {
    #[schema(nullable = false)]
    pub id: Option<String>,
    pub url: String,
    #[schema(nullable = false)]
    pub events: Option<Vec<String>>,
    #[schema(nullable = false)]
    pub description: Option<String>,
}
