//! Outbound events from Python: merchant webhook endpoints and their delivery logs.
//! A Python tracker records the events with its writes; `Tracker.run_housekeeping`
//! (or `affiliate-server`, or a Rust program's housekeeping, over the same store)
//! delivers them.

use affiliate_sdk::WebhookRequest;
use pyo3::prelude::*;
use pyo3::types::PyDict;

use crate::Result;
use crate::records::{answer_to_py, json_to_py};
use crate::tracker::Tracker;

#[pymethods]
impl Tracker {
    /// Adds a webhook endpoint: events are `POST`ed to `url`, signed per Standard
    /// Webhooks. `events` limits the kinds (default: all); `id` is made when absent.
    /// Returns `{id, url, events, description, created, secret}`; `secret`
    /// (`whsec_…`) is shown this once. Raises `Malformed`, `Forbidden` (a destination
    /// that is or resolves to a private address) or `Conflict` (the id exists).
    #[pyo3(signature = (url, *, id = None, events = None, description = None))]
    fn create_webhook<'py>(
        &self,
        py: Python<'py>,
        url: String,
        id: Option<String>,
        events: Option<Vec<String>>,
        description: Option<String>,
    ) -> Result<Bound<'py, PyAny>> {
        let req = WebhookRequest {
            id,
            url,
            events: events.unwrap_or_default(),
            description,
        };
        let hook = py.detach(|| self.inner.create_webhook(&req))?;
        Ok(json_to_py(py, &hook.to_json_with_secret())?)
    }

    /// The webhook endpoints, each `{id, url, events, description, created,
    /// managed_by_config}` (never the secret).
    fn webhooks<'py>(&self, py: Python<'py>) -> Result<Vec<Bound<'py, PyAny>>> {
        let t = &self.inner;
        Ok(t.webhooks()
            .iter()
            .map(|w| answer_to_py(py, &t.webhook_answer(w)))
            .collect::<PyResult<_>>()?)
    }

    /// Removes a webhook endpoint. Raises `NotFound`, or `ManagedByConfig` for one of
    /// a server's configuration file.
    fn delete_webhook(&self, py: Python<'_>, id: &str) -> Result<()> {
        Ok(py.detach(|| self.inner.delete_webhook(id))?)
    }

    /// A webhook's delivery log, newest first: `{deliveries: [...], next_cursor}`, each
    /// delivery `{id, message_id, event, target, state, attempts, created, next_at,
    /// retry_until, last_attempts}` (times Unix seconds). Pass `next_cursor` back for the
    /// next page; `limit` is 1 to 1000.
    #[pyo3(signature = (id, *, cursor = None, limit = 100))]
    fn webhook_deliveries<'py>(
        &self,
        py: Python<'py>,
        id: &str,
        cursor: Option<String>,
        limit: usize,
    ) -> Result<Bound<'py, PyDict>> {
        let (page, next) =
            py.detach(|| self.inner.webhook_deliveries(id, cursor.as_deref(), limit))?;
        let d = PyDict::new(py);
        let rows: Vec<_> = page
            .iter()
            .map(|x| json_to_py(py, &x.to_json()))
            .collect::<PyResult<_>>()?;
        d.set_item("deliveries", rows)?;
        d.set_item("next_cursor", next)?;
        Ok(d)
    }

    /// Sends a delivery of webhook `webhook` again, now, with another 3 days of
    /// retries; returns it. Raises `NotFound`, or `Conflict` while it is being sent.
    fn retry_delivery<'py>(
        &self,
        py: Python<'py>,
        webhook: &str,
        delivery: &str,
    ) -> Result<Bound<'py, PyAny>> {
        let d = py.detach(|| self.inner.retry_delivery(webhook, delivery))?;
        Ok(json_to_py(py, &d.to_json())?)
    }

    /// Fans out up to `max` events of the store's outbox into deliveries (dropping those
    /// with no destination); returns how many it took. An `affiliate-server` on the same
    /// store does this itself; without one, call it now and then so the outbox does not
    /// grow.
    #[pyo3(signature = (max = 500))]
    fn fan_out(&self, py: Python<'_>, max: usize) -> Result<usize> {
        Ok(py.detach(|| self.inner.fan_out(max))?)
    }

    /// Lets webhooks and postbacks go to loopback and private addresses (tests,
    /// intranets); off by default.
    fn allow_private_destinations(&self, allow: bool) {
        self.inner.allow_private_destinations(allow);
    }
}
