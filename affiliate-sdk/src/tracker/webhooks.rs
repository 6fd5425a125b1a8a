//! Merchant webhook endpoints on the tracker: made through the API or the SDK, or
//! applied from a configuration file (which then manages them), and where outbound
//! events may go (the destination guard as a webhook or postback URL is saved).

use std::collections::HashSet;
use std::sync::PoisonError;
use std::sync::atomic::Ordering;

use super::Tracker;
use super::config::ConfigEntryError;
use crate::answers::WebhookAnswer;
use crate::attribution::PartnerSpec;
use crate::error::{Error, Result, cut};
use crate::outbound::{
    MAX_WEBHOOKS, Webhook, WebhookRequest, WebhookSecret, check_saved_destination,
    check_webhook_id, resolve_system,
};
use crate::store::RecordKind;

/// The meta record naming the webhooks the configuration file manages.
const MANAGED_WEBHOOKS: &str = "managed-webhooks";

impl Tracker {
    /// Lets outbound events go to loopback, private and other inward addresses
    /// (tests, intranets). Off by default: such destinations are refused when saved
    /// and when sent to.
    pub fn allow_private_destinations(&self, allow: bool) {
        self.allow_private.store(allow, Ordering::Relaxed);
    }

    pub(super) fn private_allowed(&self) -> bool {
        self.allow_private.load(Ordering::Relaxed)
    }

    /// Checks a partner's postback template's destination as it is saved.
    pub(super) fn check_postback_destination(&self, spec: &PartnerSpec) -> Result<()> {
        let Some(url) = &spec.postback_url else {
            return Ok(());
        };
        let current = self.partner(&spec.code).and_then(|p| p.postback_url);
        if current.as_deref() == Some(url.as_str()) {
            return Ok(());
        }
        check_saved_destination(url, self.private_allowed(), resolve_system)
            .map_err(|e| retag(e, "postback_url"))?;
        Ok(())
    }

    /// The webhook endpoints, by id.
    ///
    /// **Blocking**: waits for the store; from async code, call it off the runtime's
    /// workers (`tokio::task::spawn_blocking`).
    #[must_use]
    pub fn webhooks(&self) -> Vec<Webhook> {
        self.webhooks
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }

    /// The webhook endpoint `id`; `not_found` when there is none.
    ///
    /// **Blocking**: waits for the store; from async code, call it off the runtime's
    /// workers (`tokio::task::spawn_blocking`).
    pub fn webhook(&self, id: &str) -> Result<Webhook> {
        self.webhooks()
            .into_iter()
            .find(|w| w.id == id)
            .ok_or_else(|| Error::NotFound(format!("webhook {:?}", cut(id, 64))))
    }

    /// A webhook as the API lists it: [`Webhook::answer`] and `managed_by_config`.
    #[must_use]
    pub fn webhook_answer(&self, hook: &Webhook) -> WebhookAnswer {
        WebhookAnswer {
            managed_by_config: Some(self.webhook_managed_by_config(&hook.id)),
            ..hook.answer()
        }
    }

    /// Whether the configuration file manages the webhook `id`.
    #[must_use]
    pub fn webhook_managed_by_config(&self, id: &str) -> bool {
        self.managed_webhooks
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .contains(id)
    }

    /// Checks a webhook's destination as it is saved (inward ones refused unless
    /// private destinations are allowed).
    fn check_hook_destination(&self, hook: &Webhook) -> Result<()> {
        check_saved_destination(&hook.url, self.private_allowed(), resolve_system)?;
        Ok(())
    }

    /// Adds a webhook endpoint with a new secret, durably; the answer holds the secret
    /// ([`WebhookSecret::expose`]), shown this once. `conflict` when the id is taken,
    /// `malformed` or `forbidden` (an inward destination) when refused.
    ///
    /// **Blocking**: waits for the store; from async code, call it off the runtime's
    /// workers (`tokio::task::spawn_blocking`).
    pub fn create_webhook(&self, req: &WebhookRequest) -> Result<Webhook> {
        let hook = Webhook::new(req, WebhookSecret::generate()?, self.clock.now())?;
        self.check_hook_destination(&hook)?;
        if self.webhooks().len() >= MAX_WEBHOOKS {
            return Err(Error::Exists(format!(
                "a program holds at most {MAX_WEBHOOKS} webhooks"
            )));
        }
        let json = serde_json::to_string(&hook).map_err(|e| Error::Store(e.to_string()))?;
        if !self
            .store
            .put_record(RecordKind::Webhook, &hook.id, &json, true)?
        {
            return Err(Error::Exists(format!("webhook {:?} exists", hook.id)));
        }
        self.load_webhooks()?;
        Ok(hook)
    }

    /// Removes a webhook endpoint (its pending deliveries then fail at their next
    /// attempt); `not_found`, or `managed_by_config`.
    ///
    /// **Blocking**: waits for the store; from async code, call it off the runtime's
    /// workers (`tokio::task::spawn_blocking`).
    pub fn delete_webhook(&self, id: &str) -> Result<()> {
        check_webhook_id(id).map_err(|_| Error::NotFound(format!("webhook {:?}", cut(id, 64))))?;
        if self.webhook_managed_by_config(id) {
            return Err(Error::ManagedByConfig(format!("webhook {id}")));
        }
        if !self.store.delete_record(RecordKind::Webhook, id)? {
            return Err(Error::NotFound(format!("webhook {id:?}")));
        }
        self.load_webhooks()
    }

    /// Applies the configuration file's webhooks (`[[webhook]]`, each with its id,
    /// url, events and secret): created or changed to match, and managed by the file
    /// (the API may not delete them). Webhooks the file managed before and no longer
    /// lists are removed. Checked first: a refused entry changes nothing.
    ///
    /// **Blocking**: waits for the store; from async code, call it off the runtime's
    /// workers (`tokio::task::spawn_blocking`).
    pub fn apply_config_webhooks(
        &self,
        hooks: &[Webhook],
    ) -> std::result::Result<(), ConfigEntryError> {
        let store_error = |error| ConfigEntryError { entry: None, error };
        let mut records = Vec::new();
        let mut ids = HashSet::new();
        for (i, h) in hooks.iter().enumerate() {
            let entry = |error| ConfigEntryError {
                entry: Some((RecordKind::Webhook, i, h.id.clone())),
                error,
            };
            h.check().map_err(entry)?;
            self.check_hook_destination(h).map_err(entry)?;
            if !ids.insert(h.id.clone()) {
                return Err(entry(Error::malformed("id", "listed twice")));
            }
            let json = serde_json::to_string(h).map_err(|e| entry(Error::Store(e.to_string())))?;
            records.push((RecordKind::Webhook, h.id.clone(), Some(json)));
        }
        if ids.len() > MAX_WEBHOOKS {
            return Err(store_error(Error::malformed(
                "webhook",
                format!("at most {MAX_WEBHOOKS} webhooks"),
            )));
        }
        for gone in self
            .managed_webhooks
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .iter()
            .filter(|id| !ids.contains(*id))
        {
            records.push((RecordKind::Webhook, gone.clone(), None));
        }
        let mut listed: Vec<&String> = ids.iter().collect();
        listed.sort();
        let meta = serde_json::json!(listed).to_string();
        records.push((RecordKind::Meta, MANAGED_WEBHOOKS.to_owned(), Some(meta)));
        self.store.put_records(&records).map_err(store_error)?;
        self.load_webhooks().map_err(store_error)
    }

    /// Reads the webhooks and the ones the file manages from the store.
    pub(super) fn load_webhooks(&self) -> Result<()> {
        let mut hooks = Vec::new();
        for (key, json) in self.store.records(RecordKind::Webhook)? {
            hooks.push(
                serde_json::from_str::<Webhook>(&json)
                    .map_err(|_| Error::Store(format!("corrupt webhook record {key:?}")))?,
            );
        }
        let managed: HashSet<String> = match self
            .store
            .records(RecordKind::Meta)?
            .into_iter()
            .find(|(k, _)| k == MANAGED_WEBHOOKS)
        {
            Some((_, json)) => serde_json::from_str(&json)
                .map_err(|_| Error::Store("corrupt managed webhooks record".into()))?,
            None => HashSet::new(),
        };
        *self
            .webhooks
            .write()
            .unwrap_or_else(PoisonError::into_inner) = hooks;
        *self
            .managed_webhooks
            .write()
            .unwrap_or_else(PoisonError::into_inner) = managed;
        Ok(())
    }
}

/// `e` with its field renamed (a destination checked as `url` saved as another field).
fn retag(e: Error, field: &'static str) -> Error {
    match e {
        Error::Malformed { reason, .. } => Error::Malformed { field, reason },
        other => other,
    }
}
