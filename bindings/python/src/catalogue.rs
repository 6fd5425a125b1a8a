//! The program from Python: campaigns and partners read and changed, coupons, ads and
//! links (the listings over it are `review.rs`). Each method converts its arguments,
//! calls one core method and shapes the answer.

use affiliate_sdk as core;
use pyo3::exceptions::PyTypeError;
use pyo3::prelude::*;
use pyo3::types::{PyBool, PyDict, PyFloat, PyInt, PyList, PyString, PyTuple};

use crate::Result;
use crate::records::{answer_to_py, json_to_py};
use crate::tracker::Tracker;
use crate::values::{count, day};

/// A keyword argument's value as JSON: `None`, `bool`, `int`, `str`, `Decimal` (as its
/// text) or a list of those. Floats are refused (money is never a float).
fn py_to_json(name: &str, v: &Bound<'_, PyAny>) -> Result<serde_json::Value> {
    use serde_json::Value;
    if v.is_none() {
        return Ok(Value::Null);
    }
    if v.is_instance_of::<PyBool>() {
        return Ok(Value::Bool(v.extract()?));
    }
    if v.is_instance_of::<PyInt>() {
        let n: i64 = v.extract()?;
        return Ok(Value::from(n));
    }
    if v.is_instance_of::<PyString>() {
        return Ok(Value::String(v.extract()?));
    }
    if v.is_instance_of::<PyList>() || v.is_instance_of::<PyTuple>() {
        let mut out = Vec::new();
        for x in v.try_iter()? {
            out.push(py_to_json(name, &x?)?);
        }
        return Ok(Value::Array(out));
    }
    if !v.is_instance_of::<PyFloat>() && v.get_type().name()? == "Decimal" {
        return Ok(Value::String(crate::values::decimal_text(name, v)?));
    }
    let type_name = v.get_type().name()?;
    Err(PyTypeError::new_err(format!(
        "{name} must be None, bool, int, str, decimal.Decimal or a list, not {type_name}"
    ))
    .into())
}

/// `**changes` as a JSON merge patch.
fn patch_of(changes: Option<&Bound<'_, PyDict>>) -> Result<serde_json::Value> {
    let mut patch = serde_json::Map::new();
    if let Some(changes) = changes {
        for (k, v) in changes.iter() {
            let name: String = k.extract()?;
            let value = py_to_json(&name, &v)?;
            patch.insert(name, value);
        }
    }
    Ok(serde_json::Value::Object(patch))
}

pub(crate) fn code(name: &'static str, s: Option<&str>) -> Result<Option<core::Code>> {
    Ok(s.map(|c| {
        core::Code::new(c).map_err(|e| match e {
            core::Error::Malformed { reason, .. } => core::Error::Malformed {
                field: name,
                reason,
            },
            other => other,
        })
    })
    .transpose()?)
}

#[pymethods]
impl Tracker {
    /// The campaign as a dict (its fields and `managed_by_config`), or `None`.
    fn campaign<'py>(&self, py: Python<'py>, code: &str) -> PyResult<Option<Bound<'py, PyAny>>> {
        self.inner
            .campaign(code)
            .map(|c| answer_to_py(py, &self.inner.campaign_answer(&c)))
            .transpose()
    }

    /// Changes a campaign: `update_campaign("spring", status="paused")`; `None` resets
    /// a field to its default. Returns the campaign as a dict.
    #[pyo3(signature = (code, **changes))]
    fn update_campaign<'py>(
        &self,
        py: Python<'py>,
        code: &str,
        changes: Option<&Bound<'py, PyDict>>,
    ) -> Result<Bound<'py, PyAny>> {
        let patch = patch_of(changes)?;
        let c = py.detach(|| self.inner.update_campaign(code, &patch))?;
        Ok(answer_to_py(py, &self.inner.campaign_answer(&c))?)
    }

    /// The partner as a dict (code, parent, status, profile, coupons,
    /// `managed_by_config`), or `None`.
    fn partner<'py>(&self, py: Python<'py>, code: &str) -> PyResult<Option<Bound<'py, PyAny>>> {
        self.inner
            .partner(code)
            .map(|p| answer_to_py(py, &self.inner.partner_answer(&p)))
            .transpose()
    }

    /// Changes a partner: `update_partner("ann", status="suspended")`, `parent=None`
    /// detaches it. Returns the partner as a dict.
    #[pyo3(signature = (code, **changes))]
    fn update_partner<'py>(
        &self,
        py: Python<'py>,
        code: &str,
        changes: Option<&Bound<'py, PyDict>>,
    ) -> Result<Bound<'py, PyAny>> {
        let patch = patch_of(changes)?;
        let p = py.detach(|| self.inner.update_partner(code, &patch))?;
        Ok(answer_to_py(py, &self.inner.partner_answer(&p))?)
    }

    /// One page of partners by code: `(partners, next_cursor)`; pass `next_cursor`
    /// back as `cursor` for the next page (`None` on the last).
    #[pyo3(signature = (*, status = None, parent = None, limit = 100, cursor = None))]
    fn list_partners<'py>(
        &self,
        py: Python<'py>,
        status: Option<&str>,
        parent: Option<&str>,
        limit: i64,
        cursor: Option<&str>,
    ) -> Result<(Vec<Bound<'py, PyAny>>, Option<String>)> {
        let query = {
            let mut v = core::PartnerQuery::default();
            v.status = status.map(str::parse).transpose()?;
            v.parent = code("parent", parent)?;
            v
        };
        let page = self
            .inner
            .partners_page(&query, count("limit", limit)?, cursor)?;
        let list = page
            .partners
            .iter()
            .map(|p| answer_to_py(py, &self.inner.partner_answer(p)))
            .collect::<PyResult<_>>()?;
        Ok((list, page.next_cursor))
    }

    /// Gives `partner` the coupon `code` (for `campaign` only, when given). Returns
    /// `{code, partner, campaign}`.
    #[pyo3(signature = (partner, code, *, campaign = None))]
    fn add_coupon<'py>(
        &self,
        py: Python<'py>,
        partner: &str,
        code: &str,
        campaign: Option<&str>,
    ) -> Result<Bound<'py, PyAny>> {
        let c = py.detach(|| self.inner.add_coupon(partner, code, campaign))?;
        Ok(json_to_py(py, &c.to_json())?)
    }

    /// Takes the coupon away from its partner; returns it.
    fn remove_coupon<'py>(&self, py: Python<'py>, code: &str) -> Result<Bound<'py, PyAny>> {
        let c = py.detach(|| self.inner.remove_coupon(code))?;
        Ok(json_to_py(py, &c.to_json())?)
    }

    /// The coupons of `partner` (every coupon when `None`), by code.
    #[pyo3(signature = (partner = None))]
    fn coupons<'py>(
        &self,
        py: Python<'py>,
        partner: Option<&str>,
    ) -> PyResult<Vec<Bound<'py, PyAny>>> {
        self.inner
            .coupons(partner)
            .iter()
            .map(|c| json_to_py(py, &c.to_json()))
            .collect()
    }

    /// Adds or replaces a partner's ad. `media_type` is text, image, video, email,
    /// social or other; `starts_on` a `datetime.date` or `"YYYY-MM-DD"`.
    #[pyo3(signature = (partner, code, *, name, description = None, media_type = "text",
                        starts_on = None))]
    #[allow(clippy::too_many_arguments)]
    fn add_ad<'py>(
        &self,
        py: Python<'py>,
        partner: String,
        code: String,
        name: String,
        description: Option<String>,
        media_type: &str,
        starts_on: Option<&Bound<'py, PyAny>>,
    ) -> Result<Bound<'py, PyAny>> {
        let starts_on = starts_on
            .map(|d| day("starts_on", d).map(core::format_day))
            .transpose()?;
        let ad = {
            let mut v = core::AdSpec::default();
            v.code = code;
            v.partner = partner;
            v.name = name;
            v.description = description;
            v.media_type = media_type.parse()?;
            v.starts_on = starts_on;
            v
        };
        let ad = py.detach(|| self.inner.add_ad(&ad))?;
        Ok(json_to_py(
            py,
            &serde_json::to_value(&ad).unwrap_or_default(),
        )?)
    }

    /// The ads of `partner`, by code.
    fn ads<'py>(&self, py: Python<'py>, partner: &str) -> Result<Vec<Bound<'py, PyAny>>> {
        let ads = py.detach(|| self.inner.ads(partner))?;
        Ok(ads
            .iter()
            .map(|a| json_to_py(py, &serde_json::to_value(a).unwrap_or_default()))
            .collect::<PyResult<_>>()?)
    }

    /// A signed link for a campaign and partner this tracker knows, with an optional
    /// deep-link target `to` on one of the campaign's `deep_link_hosts`.
    #[pyo3(signature = (campaign, partner, *, ad = None, sid = None, to = None))]
    fn link(
        &self,
        campaign: &str,
        partner: &str,
        ad: Option<&str>,
        sid: Option<&str>,
        to: Option<&str>,
    ) -> Result<String> {
        Ok(self.inner.link(campaign, partner, ad, sid, to)?)
    }
}
