//! Merchant webhook endpoints and their Standard Webhooks signatures.
//!
//! A webhook is `POST`ed with the headers `webhook-id` (the message id, the same on
//! every retry: the receiver's idempotency key), `webhook-timestamp` (Unix seconds of
//! the attempt) and `webhook-signature: v1,<base64 HMAC-SHA256>` of
//! `{id}.{timestamp}.{body}` under the endpoint's secret, as the Standard Webhooks
//! specification says, so any of its libraries verifies it. The secret is `whsec_` and
//! the base64 of 32 random bytes, shown once when the endpoint is made.

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use hmac::{Hmac, KeyInit, Mac};
use serde::{Deserialize, Serialize};
use sha2::Sha256;

use super::events::EventKind;
use crate::error::{Error, Result};

/// The prefix of a webhook secret.
pub const SECRET_PREFIX: &str = "whsec_";

/// Most webhook endpoints a program holds.
pub const MAX_WEBHOOKS: usize = 100;

/// A webhook signing secret: `whsec_` and the base64 of 24 to 64 bytes. Its `Debug`
/// shows nothing of it.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct WebhookSecret {
    text: String,
    key: Vec<u8>,
}

impl std::fmt::Debug for WebhookSecret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("WebhookSecret(…)")
    }
}

impl WebhookSecret {
    /// A new random secret.
    pub fn generate() -> Result<WebhookSecret> {
        let mut key = vec![0u8; 32];
        getrandom::fill(&mut key).map_err(|_| Error::Store("no randomness".into()))?;
        Ok(WebhookSecret {
            text: format!("{SECRET_PREFIX}{}", STANDARD.encode(&key)),
            key,
        })
    }

    /// Reads `whsec_…`; `malformed` (field `secret`) otherwise.
    pub fn parse(text: &str) -> Result<WebhookSecret> {
        let bad = || {
            Error::malformed(
                "secret",
                "expected whsec_ and the base64 of 24 to 64 random bytes",
            )
        };
        let b64 = text.strip_prefix(SECRET_PREFIX).ok_or_else(bad)?;
        let key = STANDARD.decode(b64).map_err(|_| bad())?;
        if !(24..=64).contains(&key.len()) {
            return Err(bad());
        }
        Ok(WebhookSecret {
            text: text.to_owned(),
            key,
        })
    }

    /// The secret as given to the merchant (`whsec_…`).
    #[must_use]
    pub fn expose(&self) -> &str {
        &self.text
    }

    /// `v1,<base64 HMAC-SHA256(key, "{msg_id}.{timestamp}.{body}")>`.
    #[must_use]
    pub fn sign(&self, msg_id: &str, timestamp: u64, body: &str) -> String {
        // HMAC takes a key of any length: this never fails.
        let Ok(mut mac) = Hmac::<Sha256>::new_from_slice(&self.key) else {
            return String::new();
        };
        mac.update(format!("{msg_id}.{timestamp}.").as_bytes());
        mac.update(body.as_bytes());
        format!("v1,{}", STANDARD.encode(mac.finalize().into_bytes()))
    }
}

impl TryFrom<String> for WebhookSecret {
    type Error = Error;
    fn try_from(s: String) -> Result<WebhookSecret> {
        WebhookSecret::parse(&s)
    }
}

impl From<WebhookSecret> for String {
    fn from(s: WebhookSecret) -> String {
        s.text
    }
}

/// A merchant webhook endpoint, as stored (a program record keyed by its id).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Webhook {
    /// 1 to 64 of `a-z 0-9 _ -` (made as `wh_` and 16 hexadecimal digits when not
    /// given).
    pub id: String,
    /// Where events are `POST`ed: an absolute http(s) URL.
    pub url: String,
    /// The kinds it receives; empty: all.
    #[serde(default)]
    pub events: Vec<EventKind>,
    /// A note for the merchant, at most 256 bytes.
    #[serde(default)]
    pub description: String,
    /// The signing secret.
    pub secret: WebhookSecret,
    /// When it was made, Unix seconds.
    #[serde(default)]
    pub created: u64,
}

/// A new webhook endpoint, as the API takes it (`POST /v1/webhooks`).
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema), schema(as = NewWebhook, description = "A webhook endpoint to add."))]
pub struct WebhookRequest {
    /// Its id (1 to 64 of `a-z 0-9 _ -`); made when absent.
    #[serde(default)]
    #[cfg_attr(feature = "openapi", schema(nullable = false))]
    pub id: Option<String>,
    /// Where events are sent: an absolute http(s) URL.
    pub url: String,
    /// The event kinds it receives (`conversion.created`, …); absent or empty: all.
    #[serde(default)]
    #[cfg_attr(feature = "openapi", schema(nullable = false))]
    pub events: Vec<String>,
    /// A note, at most 256 bytes.
    #[serde(default)]
    #[cfg_attr(feature = "openapi", schema(nullable = false))]
    pub description: Option<String>,
}

impl Webhook {
    /// The endpoint `req` asks for, signed with `secret`, made at `created`: its event
    /// kinds parsed, its id made (`wh_` and 16 hexadecimal digits) when absent, and
    /// checked ([`Webhook::check`]; where its URL points is the tracker's to check).
    pub fn new(req: &WebhookRequest, secret: WebhookSecret, created: u64) -> Result<Webhook> {
        let events = req
            .events
            .iter()
            .map(|e| EventKind::parse(e))
            .collect::<Result<Vec<_>>>()?;
        let id = match &req.id {
            Some(id) => id.clone(),
            None => format!("wh_{}", super::random_hex::<8>()?),
        };
        let hook = Webhook {
            id,
            url: req.url.clone(),
            events,
            description: req.description.clone().unwrap_or_default(),
            secret,
            created,
        };
        hook.check()?;
        Ok(hook)
    }

    /// Whether it receives events of `kind`.
    #[must_use]
    pub fn wants(&self, kind: EventKind) -> bool {
        self.events.is_empty() || self.events.contains(&kind)
    }

    /// Checks what a merchant gave (id, url shape, description; the destination
    /// guard is the tracker's, which knows whether private destinations are allowed).
    pub fn check(&self) -> Result<()> {
        check_webhook_id(&self.id)?;
        if self.url.len() > 2048 {
            return Err(Error::malformed("url", "longer than 2048 bytes"));
        }
        if self.description.len() > 256 {
            return Err(Error::malformed("description", "longer than 256 bytes"));
        }
        Ok(())
    }
}

/// A webhook id: 1 to 64 of `a-z 0-9 _ -`.
pub fn check_webhook_id(id: &str) -> Result<()> {
    if id.is_empty()
        || id.len() > 64
        || !id
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_' || b == b'-')
    {
        return Err(Error::malformed(
            "id",
            "a webhook id is 1 to 64 of a-z, 0-9, '_' and '-'",
        ));
    }
    Ok(())
}

/// The body of a webhook: `{"type", "timestamp" (RFC 3339, UTC), "data"}`.
#[must_use]
pub fn webhook_body(kind: EventKind, at: u64, data: serde_json::Value) -> String {
    let ts = i64::try_from(at)
        .ok()
        .and_then(|s| time::OffsetDateTime::from_unix_timestamp(s).ok())
        .and_then(|t| {
            t.format(&time::format_description::well_known::Rfc3339)
                .ok()
        })
        .unwrap_or_default();
    serde_json::json!({"type": kind.as_str(), "timestamp": ts, "data": data}).to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn signs_as_the_standard_webhooks_example() {
        // The example of the Standard Webhooks specification's reference libraries.
        let secret = WebhookSecret::parse("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw").unwrap();
        let sig = secret.sign(
            "msg_p5jXN8AQM9LWM0D4loKWxJek",
            1_614_265_330,
            r#"{"test": 2432232314}"#,
        );
        assert_eq!(sig, "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=");
    }

    #[test]
    fn secrets_are_checked_and_hidden() {
        let s = WebhookSecret::generate().unwrap();
        assert!(s.expose().starts_with("whsec_"));
        assert_eq!(WebhookSecret::parse(s.expose()).unwrap(), s);
        assert!(!format!("{s:?}").contains(&s.expose()[6..]));
        for bad in [
            "",
            "whsec_",
            "whsec_!!!!",
            "sk_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw",
            "whsec_YWJj",
        ] {
            assert!(WebhookSecret::parse(bad).is_err(), "{bad}");
        }
    }
}
