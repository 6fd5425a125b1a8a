//! Privacy, retention and housekeeping from Python: erasing a customer, pruning old
//! clicks, running the core's housekeeping chores.

use pyo3::prelude::*;
use pyo3::types::PyDict;

use affiliate_sdk::{OutboundRequest, Transport};

use crate::Result;
use crate::tracker::Tracker;

/// A Python callable as the tracker's HTTP client (see `run_housekeeping`).
struct PyTransport(Py<PyAny>);

impl Transport for PyTransport {
    fn send(&self, req: &OutboundRequest) -> std::result::Result<u16, String> {
        Python::attach(|py| {
            let headers: Vec<(&str, &str)> = req
                .headers
                .iter()
                .map(|(k, v)| (k.as_str(), v.as_str()))
                .collect();
            let answer = self
                .0
                .call1(
                    py,
                    (req.method, req.url.as_str(), headers, req.body.as_deref()),
                )
                .map_err(|e| {
                    let text = e.to_string();
                    text.chars().take(256).collect::<String>()
                })?;
            answer
                .extract::<u16>(py)
                .ok()
                .filter(|s| (100..=599).contains(s))
                .ok_or_else(|| "send must return the HTTP status code (100 to 599)".to_owned())
        })
    }
}

#[pymethods]
impl Tracker {
    /// Erases a customer (a GDPR Art. 17 request): its recurring binding goes and
    /// `customer_id` is removed from every conversion, event and delivery that
    /// carries it; a later sale under the id attributes as a new customer's. Returns
    /// `{"conversions": n, "bindings": n, "events": n}`. Raises `Malformed` for an id
    /// no conversion could carry.
    fn erase_customer<'py>(
        &self,
        py: Python<'py>,
        customer_id: &str,
    ) -> Result<Bound<'py, PyDict>> {
        let erased = py.detach(|| self.inner.erase_customer(customer_id))?;
        let d = PyDict::new(py);
        d.set_item("conversions", erased.conversions)?;
        d.set_item("bindings", erased.bindings)?;
        d.set_item("events", erased.events)?;
        Ok(d)
    }

    /// Removes click records older than `retention_days` (or than the longest
    /// campaign window, if longer), at most 100,000 a call; the reports stay as they
    /// were. Returns how many were removed.
    #[pyo3(signature = (retention_days = 400))]
    fn prune_clicks(&self, py: Python<'_>, retention_days: u32) -> Result<usize> {
        Ok(py.detach(|| self.inner.prune_clicks(retention_days))?)
    }

    /// Runs every housekeeping chore once now (for cron or a thread of the shop's own):
    /// reloads the program another process changed, approves pending conversions past
    /// their campaign's `approve_after_days`, prunes click records older than
    /// `retention_days` and old delivery logs, and, with `send`, fans out the outbox and
    /// sends the due webhook and postback deliveries through it. `send(method, url,
    /// headers, body)` is the shop's HTTP client (`headers` a list of `(name, value)`,
    /// `body` a `str` or `None`): it returns the status code the destination answered
    /// and raises when there was no answer; it must not follow redirects and must give
    /// up within 10 s (the core has already refused destinations that resolve to
    /// private addresses). Returns `{"refreshed": bool, "approved": n,
    /// "clicks_pruned": n, "deliveries_pruned": n, "failed": [{"chore", "error"}]}`,
    /// with `send` also `"fanned_out"`, `"sent"` and `"delivered"`; a chore that failed
    /// does not stop the others. Raises `Malformed` for a retention under 1 day and `TypeError`
    /// for a `send` that is not callable.
    #[pyo3(signature = (retention_days = 400, *, send = None))]
    fn run_housekeeping<'py>(
        &self,
        py: Python<'py>,
        retention_days: u32,
        send: Option<Bound<'py, PyAny>>,
    ) -> Result<Bound<'py, PyDict>> {
        let transport = match send {
            Some(f) if f.is_callable() => Some(PyTransport(f.unbind())),
            Some(_) => {
                return Err(pyo3::exceptions::PyTypeError::new_err(
                    "send must be a callable: send(method, url, headers, body) -> status code",
                )
                .into());
            }
            None => None,
        };
        let mut schedule = affiliate_sdk::HousekeepingSchedule::default();
        schedule.click_retention_days = retention_days;
        let mut chores = affiliate_sdk::Housekeeping::new(schedule)?;
        let done = py.detach(|| {
            chores.run_now(&self.inner, transport.as_ref().map(|t| t as &dyn Transport))
        });
        let d = PyDict::new(py);
        d.set_item("refreshed", done.refreshed)?;
        d.set_item("approved", done.approved)?;
        d.set_item("clicks_pruned", done.clicks_pruned)?;
        d.set_item("deliveries_pruned", done.deliveries_pruned)?;
        if transport.is_some() {
            d.set_item("fanned_out", done.delivery.fanned_out)?;
            d.set_item("sent", done.delivery.sent)?;
            d.set_item("delivered", done.delivery.delivered)?;
        }
        let failed = pyo3::types::PyList::empty(py);
        for (chore, e) in &done.failed {
            let f = PyDict::new(py);
            f.set_item("chore", chore.as_str())?;
            f.set_item("error", e.to_string())?;
            failed.append(f)?;
        }
        d.set_item("failed", failed)?;
        Ok(d)
    }
}
