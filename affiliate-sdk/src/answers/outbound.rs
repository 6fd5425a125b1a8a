//! Webhook endpoints and deliveries as every API shows them.

use serde::Serialize;

use crate::outbound::{Attempt, Delivery, DeliveryState, EventKind, Target, Webhook};

/// A webhook endpoint (never its secret).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema), schema(as = Webhook))]
pub struct WebhookAnswer {
    #[cfg_attr(feature = "openapi", schema(example = "wh_…"))]
    pub id: String,
    pub url: String,
    /// The event types it receives (every type when created without a list).
    #[cfg_attr(feature = "openapi", schema(value_type = Vec<String>))]
    pub events: Vec<EventKind>,
    pub description: String,
    pub created: u64,
    /// In lists: an entry of the configuration file, not changeable here.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub managed_by_config: Option<bool>,
}

impl From<&Webhook> for WebhookAnswer {
    fn from(w: &Webhook) -> WebhookAnswer {
        WebhookAnswer {
            id: w.id.clone(),
            url: w.url.clone(),
            events: if w.events.is_empty() {
                EventKind::ALL.to_vec()
            } else {
                w.events.clone()
            },
            description: w.description.clone(),
            created: w.created,
            managed_by_config: None,
        }
    }
}

/// A new webhook endpoint and its signing secret, shown this once.
#[derive(Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct WebhookCreated {
    #[serde(flatten)]
    pub webhook: WebhookAnswer,
    #[cfg_attr(feature = "openapi", schema(example = "whsec_…"))]
    pub secret: String,
}

impl std::fmt::Debug for WebhookCreated {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("WebhookCreated")
            .field("webhook", &self.webhook)
            .field("secret", &"…")
            .finish()
    }
}

impl Webhook {
    /// The endpoint as the API shows it: `{id, url, events, description, created}`
    /// (never the secret).
    #[must_use]
    pub fn answer(&self) -> WebhookAnswer {
        WebhookAnswer::from(self)
    }

    /// [`Webhook::answer`] as JSON.
    #[must_use]
    pub fn to_json(&self) -> serde_json::Value {
        super::to_value(&self.answer())
    }

    /// The endpoint as the answer that made it shows it, with its `secret`: the only
    /// time the secret is shown.
    #[must_use]
    pub fn created_answer(&self) -> WebhookCreated {
        WebhookCreated {
            webhook: self.answer(),
            secret: self.secret.expose().to_owned(),
        }
    }

    /// [`Webhook::created_answer`] as JSON.
    #[must_use]
    pub fn to_json_with_secret(&self) -> serde_json::Value {
        super::to_value(&self.created_answer())
    }
}

/// The webhook endpoints.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct WebhookList {
    pub webhooks: Vec<WebhookAnswer>,
}

/// One attempt to deliver.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema), schema(as = Attempt))]
pub struct AttemptAnswer {
    pub at: u64,
    /// The HTTP status the destination answered, if it answered.
    pub status: Option<u16>,
    pub error: Option<String>,
    pub duration_ms: u64,
}

impl From<&Attempt> for AttemptAnswer {
    fn from(a: &Attempt) -> AttemptAnswer {
        AttemptAnswer {
            at: a.at,
            status: a.status,
            error: a.error.clone(),
            duration_ms: a.duration_ms,
        }
    }
}

/// A delivery of an event to a webhook endpoint or a partner's postback URL.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema), schema(as = Delivery))]
pub struct DeliveryAnswer {
    pub id: String,
    pub message_id: String,
    #[cfg_attr(feature = "openapi", schema(value_type = String))]
    pub event: EventKind,
    /// `{"kind": "webhook" | "postback", "id": …}`.
    #[cfg_attr(feature = "openapi", schema(value_type = Object))]
    pub target: Target,
    /// `pending`, `delivered` or `failed`.
    #[cfg_attr(feature = "openapi", schema(value_type = String))]
    pub state: DeliveryState,
    pub attempts: u32,
    pub created: u64,
    /// `null` unless pending.
    pub next_at: Option<u64>,
    pub retry_until: u64,
    pub last_attempts: Vec<AttemptAnswer>,
    /// A postback's URL (postbacks only).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub url: Option<String>,
}

impl From<&Delivery> for DeliveryAnswer {
    fn from(d: &Delivery) -> DeliveryAnswer {
        DeliveryAnswer {
            id: d.id.clone(),
            message_id: d.message_id.clone(),
            event: d.event,
            target: d.target.clone(),
            state: d.state,
            attempts: d.attempts,
            created: d.created,
            next_at: (d.state == DeliveryState::Pending).then_some(d.next_at),
            retry_until: d.retry_until,
            last_attempts: d.last_attempts.iter().map(AttemptAnswer::from).collect(),
            url: matches!(d.target, Target::Postback(_)).then(|| d.request.clone()),
        }
    }
}

impl Delivery {
    /// The delivery as the API shows it ([`DeliveryAnswer`]): `{id, message_id, event,
    /// target: {kind, id}, state, attempts, created, next_at, retry_until,
    /// last_attempts: [{at, status, error, duration_ms}]}`, times Unix seconds; for a
    /// postback also its `url`.
    #[must_use]
    pub fn answer(&self) -> DeliveryAnswer {
        DeliveryAnswer::from(self)
    }

    /// [`Delivery::answer`] as JSON.
    #[must_use]
    pub fn to_json(&self) -> serde_json::Value {
        super::to_value(&self.answer())
    }
}

/// A page of deliveries, newest first.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct DeliveryPage {
    pub deliveries: Vec<DeliveryAnswer>,
    pub next_cursor: Option<String>,
}

/// A page of a partner's postbacks, newest first.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct PostbackPage {
    pub postbacks: Vec<DeliveryAnswer>,
    pub next_cursor: Option<String>,
}
