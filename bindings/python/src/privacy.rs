//! Privacy, retention and housekeeping from Python: erasing a customer, pruning old
//! clicks, running the core's housekeeping chores.

use pyo3::prelude::*;
use pyo3::types::PyDict;

use crate::Result;
use crate::tracker::Tracker;

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
    /// `retention_days` and old delivery logs. Returns `{"refreshed": bool,
    /// "approved": n, "clicks_pruned": n, "deliveries_pruned": n, "failed": [{"chore",
    /// "error"}]}`; a chore that failed does not stop the others. Raises `Malformed`
    /// for a retention under 1 day.
    #[pyo3(signature = (retention_days = 400))]
    fn run_housekeeping<'py>(
        &self,
        py: Python<'py>,
        retention_days: u32,
    ) -> Result<Bound<'py, PyDict>> {
        let mut schedule = affiliate_sdk::HousekeepingSchedule::default();
        schedule.click_retention_days = retention_days;
        let mut chores = affiliate_sdk::Housekeeping::new(schedule)?;
        let done = py.detach(|| chores.run_now(&self.inner, None));
        let d = PyDict::new(py);
        d.set_item("refreshed", done.refreshed)?;
        d.set_item("approved", done.approved)?;
        d.set_item("clicks_pruned", done.clicks_pruned)?;
        d.set_item("deliveries_pruned", done.deliveries_pruned)?;
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
