//! Postback keys from Python: a hosted cart that can only call a URL reports its
//! orders to the shop's own endpoint with one (`tracker.postback(query)`).

use pyo3::prelude::*;

use crate::Result;
use crate::records::{Conversion, json_to_py};
use crate::tracker::Tracker;

#[pymethods]
impl Tracker {
    /// Makes a postback key labelled `label`: returns `(record, key)`, where `record`
    /// is `{"id", "label", "created"}` (`created` in Unix seconds) and `key` (`pbk_…`) is shown this once; only its
    /// digest is stored. At most 100 keys at a time (`Conflict`).
    #[pyo3(signature = (label = ""))]
    fn create_postback_key<'py>(
        &self,
        py: Python<'py>,
        label: &str,
    ) -> Result<(Bound<'py, PyAny>, String)> {
        let (record, key) = py.detach(|| self.inner.create_postback_key(label))?;
        Ok((json_to_py(py, &record.to_json())?, key))
    }

    /// The postback keys: ids, labels and creation times, never the keys.
    fn postback_keys<'py>(&self, py: Python<'py>) -> Result<Vec<Bound<'py, PyAny>>> {
        let keys = py.detach(|| self.inner.postback_keys());
        Ok(keys
            .iter()
            .map(|k| json_to_py(py, &k.to_json()))
            .collect::<PyResult<_>>()?)
    }

    /// Revokes a postback key by its id (`pbkid_…`): refused from now on, by every
    /// tracker on the store. `NotFound` for an unknown id.
    fn revoke_postback_key(&self, py: Python<'_>, id: &str) -> Result<()> {
        Ok(py.detach(|| self.inner.revoke_postback_key(id))?)
    }

    /// Records the conversion of a hosted cart's postback URL, given its query string
    /// (`key=pbk_…&order_id=…&amount=…&currency=…[&kind&token|click_id&coupon…]`):
    /// `Unauthorized` when the key is missing, wrong or revoked (checked first),
    /// `Malformed` for an unknown, repeated or missing parameter, then as `convert`.
    fn postback(&self, py: Python<'_>, query: &str) -> Result<Conversion> {
        Ok(Conversion(
            py.detach(|| self.inner.convert_postback_query(query))?,
        ))
    }
}
