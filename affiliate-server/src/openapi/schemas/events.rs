//! Outbound events: webhook endpoints and the deliveries of events to them and to
//! partners' postback URLs.

use serde::Serialize;
use utoipa::ToSchema;

/// A webhook endpoint.
#[derive(ToSchema, Serialize)]
pub struct Webhook {
    #[schema(example = "wh_…")]
    pub id: String,
    pub url: String,
    /// The event types it receives (every type when created without a list).
    pub events: Vec<String>,
    pub description: Option<String>,
    pub created: u64,
    pub managed_by_config: Option<bool>,
}

/// A new webhook endpoint and its signing secret, shown this once.
#[derive(ToSchema, Serialize)]
pub struct WebhookCreated {
    #[serde(flatten)]
    pub webhook: Webhook,
    #[schema(example = "whsec_…")]
    pub secret: String,
}

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

/// The webhook endpoints.
#[derive(ToSchema, Serialize)]
pub struct WebhookList {
    pub webhooks: Vec<Webhook>,
}

/// One attempt to deliver.
#[derive(ToSchema, Serialize)]
pub struct Attempt {
    pub at: u64,
    /// The HTTP status the destination answered, if it answered.
    pub status: Option<u16>,
    pub error: Option<String>,
    pub duration_ms: u64,
}

/// A delivery of an event to a webhook endpoint or a partner's postback URL.
#[derive(ToSchema, Serialize)]
pub struct Delivery {
    pub id: String,
    pub message_id: String,
    pub event: String,
    /// `{"kind": "webhook" | "postback", "id": …}`.
    #[schema(value_type = Object)]
    pub target: serde_json::Value,
    /// `pending`, `delivered` or `failed`.
    pub state: String,
    pub attempts: u32,
    pub created: u64,
    /// `null` unless pending.
    pub next_at: Option<u64>,
    pub retry_until: u64,
    pub last_attempts: Vec<Attempt>,
    /// A postback's URL (postbacks only).
    pub url: Option<String>,
}

/// A page of deliveries, newest first.
#[derive(ToSchema, Serialize)]
pub struct DeliveryPage {
    pub deliveries: Vec<Delivery>,
    pub next_cursor: Option<String>,
}

/// A page of a partner's postbacks, newest first.
#[derive(ToSchema, Serialize)]
pub struct PostbackPage {
    pub postbacks: Vec<Delivery>,
    pub next_cursor: Option<String>,
}
