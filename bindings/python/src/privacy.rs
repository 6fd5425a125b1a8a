//! Privacy and retention from Python: erasing a customer, pruning old clicks.

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
}
