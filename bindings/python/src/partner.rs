//! The partner side from Python: portal sign-in links and partner API keys. Each
//! method converts its arguments, calls one core method and shapes the answer.

use pyo3::prelude::*;
use pyo3::types::PyDict;

use crate::Result;
use crate::tracker::Tracker;
use crate::values::datetime;

#[pymethods]
impl Tracker {
    /// A single-use portal sign-in link for `partner`, valid for `ttl_secs` (default
    /// 900, at most 604800): `{origin of base_url}/portal/login?t=…`. An
    /// `affiliate-server` with the same keys signs the partner in with it once. Raises
    /// `UnknownPartner`, or `Forbidden` for a suspended partner.
    #[pyo3(signature = (partner, *, ttl_secs = None))]
    fn portal_link(&self, py: Python<'_>, partner: &str, ttl_secs: Option<u64>) -> Result<String> {
        Ok(py.detach(|| self.inner.portal_link(partner, ttl_secs))?)
    }

    /// Makes an API key for `partner`: `{id, partner, created, key}`; `key` (`pk_…`)
    /// is shown this once, the store keeps its digest.
    fn create_partner_key<'py>(
        &self,
        py: Python<'py>,
        partner: &str,
    ) -> Result<Bound<'py, PyDict>> {
        let (record, key) = py.detach(|| self.inner.create_partner_key(partner))?;
        let d = PyDict::new(py);
        d.set_item("id", &record.id)?;
        d.set_item("partner", record.partner.as_str())?;
        d.set_item("created", datetime(py, record.created)?)?;
        d.set_item("key", key)?;
        Ok(d)
    }

    /// Revokes the key `id` of `partner`; raises `NotFound` when it has no such key.
    fn revoke_partner_key(&self, py: Python<'_>, partner: &str, id: &str) -> Result<()> {
        Ok(py.detach(|| self.inner.revoke_partner_key(partner, id))?)
    }
}
