//! Events and their deliveries: what the store's outbox holds.
//!
//! A write that changes a conversion, a payout or makes a partner records an
//! [`Event`] in the same durable write (the outbox). A tracker then *fans it out*: one
//! [`Delivery`] per destination (each merchant webhook subscribed to its kind; the
//! credited partner's postback for conversion events), written in one write that
//! also removes the event, so every event is fanned out once. Deliveries are sent at
//! least once: a 2xx ends one; any other answer, a timeout or a refused connection is
//! retried after [`retry_delay`] until [`RETRY_WINDOW_SECS`] after it was made, then it
//! is `failed` (retried again only by hand).

use serde::{Deserialize, Serialize};

use crate::code::Code;
use crate::error::{Error, Result};
use crate::ledger::Payout;
use crate::records::Conversion;

/// How long a delivery is retried: 3 days.
pub const RETRY_WINDOW_SECS: u64 = 3 * 86_400;

/// How long a delivery that is over (delivered or failed) stays in the log: 30 days
/// after it was made ([`Tracker::prune_deliveries`](crate::Tracker::prune_deliveries)).
pub const DELIVERY_RETENTION_SECS: u64 = 30 * 86_400;

/// How many of a delivery's last attempts are kept.
pub const KEPT_ATTEMPTS: usize = 5;

/// How long a tracker holds a delivery it is sending before another may take it: more
/// than the 10 s request timeout.
pub const LEASE_SECS: u64 = 30;

/// What happened.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub enum EventKind {
    /// A conversion was recorded.
    #[serde(rename = "conversion.created")]
    ConversionCreated,
    /// A conversion's status changed, or an authenticated record replaced it.
    #[serde(rename = "conversion.updated")]
    ConversionUpdated,
    /// Part or all of a conversion's order was refunded (its `refunds` name them).
    #[serde(rename = "conversion.refunded")]
    ConversionRefunded,
    /// A payout run made a payout.
    #[serde(rename = "payout.created")]
    PayoutCreated,
    /// A payout was marked paid or failed.
    #[serde(rename = "payout.updated")]
    PayoutUpdated,
    /// A partner was created through the API or the SDK.
    #[serde(rename = "partner.created")]
    PartnerCreated,
}

impl EventKind {
    /// Every kind.
    pub const ALL: [EventKind; 6] = [
        EventKind::ConversionCreated,
        EventKind::ConversionUpdated,
        EventKind::ConversionRefunded,
        EventKind::PayoutCreated,
        EventKind::PayoutUpdated,
        EventKind::PartnerCreated,
    ];

    /// `conversion.created` and so on: the `type` of the webhook body.
    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            EventKind::ConversionCreated => "conversion.created",
            EventKind::ConversionUpdated => "conversion.updated",
            EventKind::ConversionRefunded => "conversion.refunded",
            EventKind::PayoutCreated => "payout.created",
            EventKind::PayoutUpdated => "payout.updated",
            EventKind::PartnerCreated => "partner.created",
        }
    }

    /// The kind named `s`; `malformed` names the known ones.
    pub fn parse(s: &str) -> Result<EventKind> {
        EventKind::ALL
            .into_iter()
            .find(|k| k.as_str() == s)
            .ok_or_else(|| {
                let shown: String = s.chars().take(40).collect();
                Error::malformed(
                    "events",
                    format!(
                        "unknown event {shown:?}; known: {}",
                        EventKind::ALL.map(EventKind::as_str).join(", ")
                    ),
                )
            })
    }
}

/// The object an event is about, as it was right after the change.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "object", content = "value", rename_all = "snake_case")]
pub enum EventObject {
    /// A conversion.
    Conversion(Box<Conversion>),
    /// A payout.
    Payout(Box<Payout>),
    /// A partner: its program record's JSON.
    Partner(String),
}

/// An event in the outbox, waiting to be fanned out.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Event {
    /// What happened.
    pub kind: EventKind,
    /// When, Unix seconds.
    pub at: u64,
    /// What it happened to.
    pub object: EventObject,
}

impl Event {
    /// What the event is about: `conversion/{order_id}` or `payout/{id}`, `None` for a
    /// partner's creation. Deliveries of one subject to one destination go in order.
    #[must_use]
    pub fn subject(&self) -> Option<String> {
        match &self.object {
            EventObject::Conversion(c) => Some(format!("conversion/{}", c.order_id)),
            EventObject::Payout(p) => Some(format!("payout/{}", p.id)),
            EventObject::Partner(_) => None,
        }
    }

    /// `conversion.created` (or `.updated`) of `c` at `at`.
    #[must_use]
    pub fn conversion(kind: EventKind, c: &Conversion, at: u64) -> Event {
        Event {
            kind,
            at,
            object: EventObject::Conversion(Box::new(c.clone())),
        }
    }

    /// `payout.created` (or `.updated`) of `p` at `at`.
    #[must_use]
    pub fn payout(kind: EventKind, p: &Payout, at: u64) -> Event {
        Event {
            kind,
            at,
            object: EventObject::Payout(Box::new(p.clone())),
        }
    }

    /// The event as stored.
    pub fn encode(&self) -> Result<String> {
        serde_json::to_string(self).map_err(|e| Error::Store(e.to_string()))
    }

    /// An event as stored; `store` error when it is not one.
    pub fn decode(text: &str) -> Result<Event> {
        serde_json::from_str(text).map_err(|_| Error::Store("corrupt event record".into()))
    }
}

/// Where a delivery goes.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(tag = "kind", content = "id", rename_all = "snake_case")]
pub enum Target {
    /// A merchant webhook endpoint, by id: a signed `POST` of the event's JSON.
    Webhook(String),
    /// A partner's postback template: a `GET` of the filled-in URL.
    Postback(Code),
}

impl Target {
    /// `webhook:ID` or `postback:PARTNER`: how stores index it.
    #[must_use]
    pub fn key(&self) -> String {
        match self {
            Target::Webhook(id) => format!("webhook:{id}"),
            Target::Postback(p) => format!("postback:{p}"),
        }
    }
}

/// Where a delivery stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DeliveryState {
    /// To be sent (again) at `next_at`.
    Pending,
    /// A destination answered 2xx.
    Delivered,
    /// Retried for [`RETRY_WINDOW_SECS`] without a 2xx; retried again only by hand.
    Failed,
}

impl DeliveryState {
    /// `pending`, `delivered` or `failed`.
    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            DeliveryState::Pending => "pending",
            DeliveryState::Delivered => "delivered",
            DeliveryState::Failed => "failed",
        }
    }
}

/// One try of a delivery.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Attempt {
    /// When it started, Unix seconds.
    pub at: u64,
    /// The HTTP status the destination answered, when it answered.
    pub status: Option<u16>,
    /// What went wrong (no answer, refused destination, a non-2xx status), cut to 256
    /// bytes.
    pub error: Option<String>,
    /// How long it took, milliseconds.
    pub duration_ms: u64,
}

/// One event on its way to one destination.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Delivery {
    /// `dlv_` and 24 hexadecimal digits.
    pub id: String,
    /// The event's message id (`msg_…`), the same for every destination and every
    /// attempt: the `webhook-id` header, a receiver's idempotency key.
    pub message_id: String,
    /// The event's kind.
    pub event: EventKind,
    /// Where it goes.
    pub target: Target,
    /// A webhook's body (the event's JSON), or a postback's URL.
    pub request: String,
    /// When it was made, Unix seconds.
    pub created: u64,
    /// Where it stands.
    pub state: DeliveryState,
    /// Attempts made.
    pub attempts: u32,
    /// When a pending delivery is due, Unix seconds.
    pub next_at: u64,
    /// After this, a failed attempt fails the delivery (3 days after it was made, or
    /// after a retry by hand).
    pub retry_until: u64,
    /// While a tracker sends it: until when it holds it, Unix seconds (0: nobody).
    pub leased_until: u64,
    /// The last attempts, oldest first, at most [`KEPT_ATTEMPTS`].
    pub last_attempts: Vec<Attempt>,
    /// What the event is about, for ordering ([`Event::subject`]): none for a
    /// partner's creation.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub subject: Option<String>,
    /// The event's place in the outbox: of two pending deliveries with one subject and
    /// one target, the one with the lower number is sent first.
    #[serde(default, skip_serializing_if = "is_zero")]
    pub seq: u64,
}

// Old records have neither field, and must encode as they were stored (compare and
// swap compares the encoding).
#[allow(clippy::trivially_copy_pass_by_ref)] // serde's signature
fn is_zero(n: &u64) -> bool {
    *n == 0
}

impl Delivery {
    /// A new pending delivery of message `message_id` (an event of `kind`) to
    /// `target`, due at `now`.
    pub fn new(
        message_id: &str,
        kind: EventKind,
        target: Target,
        request: String,
        now: u64,
    ) -> Result<Delivery> {
        Ok(Delivery {
            id: format!("dlv_{}", random_hex::<12>()?),
            message_id: message_id.to_owned(),
            event: kind,
            target,
            request,
            created: now,
            state: DeliveryState::Pending,
            attempts: 0,
            next_at: now,
            retry_until: now.saturating_add(RETRY_WINDOW_SECS),
            leased_until: 0,
            last_attempts: Vec::new(),
            subject: None,
            seq: 0,
        })
    }

    /// The same delivery, of the event numbered `seq` in the outbox, about `subject`:
    /// sent only once every pending delivery about `subject` to its target with a
    /// lower number is over.
    #[must_use]
    pub fn about(self, subject: Option<String>, seq: u64) -> Delivery {
        Delivery {
            subject,
            seq,
            ..self
        }
    }

    /// Whether this delivery may have to wait for an earlier one: it has a subject and
    /// is not of its first event (a creation comes first).
    #[must_use]
    pub fn may_wait(&self) -> bool {
        self.subject.is_some()
            && !matches!(
                self.event,
                EventKind::ConversionCreated | EventKind::PayoutCreated
            )
    }

    /// Whether `earlier` must be over before this one is sent: a pending delivery of
    /// an earlier event about the same subject to the same target.
    #[must_use]
    pub fn waits_for(&self, earlier: &Delivery) -> bool {
        self.subject.is_some()
            && earlier.subject == self.subject
            && earlier.target == self.target
            && earlier.seq < self.seq
            && earlier.state == DeliveryState::Pending
            && earlier.id != self.id
    }

    /// When a store's due index should find it: pending, not before `next_at` nor
    /// while leased; `None` once delivered or failed.
    #[must_use]
    pub fn due_at(&self) -> Option<u64> {
        (self.state == DeliveryState::Pending).then(|| self.next_at.max(self.leased_until))
    }

    /// The delivery as stored.
    pub fn encode(&self) -> Result<String> {
        serde_json::to_string(self).map_err(|e| Error::Store(e.to_string()))
    }

    /// A delivery as stored.
    pub fn decode(text: &str) -> Result<Delivery> {
        serde_json::from_str(text).map_err(|_| Error::Store("corrupt delivery record".into()))
    }

    /// Held by the caller from `now` for [`LEASE_SECS`].
    #[must_use]
    pub fn leased(&self, now: u64) -> Delivery {
        Delivery {
            leased_until: now.saturating_add(LEASE_SECS),
            ..self.clone()
        }
    }

    /// After `attempt`: delivered on a 2xx; otherwise pending again after
    /// [`retry_delay`] (with `jitter` in `0..=1000` thousandths of the delay's upper
    /// half), or failed when that would pass `retry_until`. The lease is released.
    #[must_use]
    pub fn after(&self, attempt: Attempt, jitter: u16) -> Delivery {
        let mut next = self.clone();
        next.attempts = next.attempts.saturating_add(1);
        next.leased_until = 0;
        let ok = attempt.status.is_some_and(|s| (200..300).contains(&s));
        let at = attempt.at;
        next.last_attempts.push(attempt);
        if next.last_attempts.len() > KEPT_ATTEMPTS {
            next.last_attempts.remove(0);
        }
        if ok {
            next.state = DeliveryState::Delivered;
            return next;
        }
        let delay = retry_delay(next.attempts, jitter);
        let due = at.saturating_add(delay);
        if due > next.retry_until {
            next.state = DeliveryState::Failed;
        } else {
            next.state = DeliveryState::Pending;
            next.next_at = due;
        }
        next
    }

    /// Sent again from `now`: pending, due now, retried for another
    /// [`RETRY_WINDOW_SECS`] (a delivered one is sent once more).
    #[must_use]
    pub fn retried(&self, now: u64) -> Delivery {
        Delivery {
            state: DeliveryState::Pending,
            next_at: now,
            retry_until: now.saturating_add(RETRY_WINDOW_SECS),
            ..self.clone()
        }
    }
}

/// The wait after attempt number `attempts` (1 = the first) failed: 5 s doubled each
/// time, at most 6 hours, taken between half and all of it (`jitter` in thousandths
/// of the upper half, `0..=1000`), so many deliveries failing together spread out.
/// Attempts therefore come after about 5 s, 10 s, 20 s, … 6 h, 6 h, … until 3 days.
#[must_use]
pub fn retry_delay(attempts: u32, jitter: u16) -> u64 {
    let full = 5u64
        .saturating_mul(1u64 << attempts.saturating_sub(1).min(20))
        .min(6 * 3600);
    let half = full / 2;
    half + (full - half) * u64::from(jitter.min(1000)) / 1000
}

/// A random jitter for [`Delivery::after`].
pub fn random_jitter() -> Result<u16> {
    let mut b = [0u8; 2];
    getrandom::fill(&mut b).map_err(|_| Error::Store("no randomness".into()))?;
    Ok(u16::from_le_bytes(b) % 1001)
}

/// `2 * N` random hexadecimal digits.
pub(crate) fn random_hex<const N: usize>() -> Result<String> {
    let mut bytes = [0u8; N];
    getrandom::fill(&mut bytes).map_err(|_| Error::Store("no randomness".into()))?;
    Ok(bytes.iter().map(|b| format!("{b:02x}")).collect())
}

/// A new message id: `msg_` and 24 hexadecimal digits.
pub fn new_message_id() -> Result<String> {
    Ok(format!("msg_{}", random_hex::<12>()?))
}

/// Which deliveries [`Outbox::deliveries`](crate::store::Outbox::deliveries) lists: one
/// target's, newest first, before a cursor.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeliveryFilter {
    /// Whose deliveries.
    pub target: Target,
    /// Only deliveries made before this one (`(created, id)`), for the next page.
    pub before: Option<(u64, String)>,
    /// At most this many.
    pub limit: usize,
}

impl DeliveryFilter {
    /// Whether `d` is on this page's side of the cursor (the limit aside).
    #[must_use]
    pub fn matches(&self, d: &Delivery) -> bool {
        d.target == self.target
            && self
                .before
                .as_ref()
                .is_none_or(|(c, id)| (d.created, d.id.as_str()) < (*c, id.as_str()))
    }
}

/// Deliveries newest first (by `created`, then id).
pub fn newest_first(ds: &mut [Delivery]) {
    ds.sort_by(|a, b| (b.created, &b.id).cmp(&(a.created, &a.id)));
}

#[cfg(test)]
#[path = "events_tests.rs"]
mod tests;
