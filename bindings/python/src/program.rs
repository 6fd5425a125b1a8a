//! The program from Python: campaigns and partners read and changed, coupons, ads,
//! links, the conversion listing, bulk status and CSV files. Each method converts
//! its arguments, calls one core method and shapes the answer.

use affiliate_sdk as core;
use pyo3::exceptions::PyTypeError;
use pyo3::prelude::*;
use pyo3::types::{PyBool, PyDict, PyFloat, PyInt, PyList, PyString, PyTuple};

use crate::Result;
use crate::records::{Conversion, answer_to_py, json_to_py};
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

fn code(name: &'static str, s: Option<&str>) -> Result<Option<core::Code>> {
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

fn conversion_query(
    status: Option<&str>,
    partner: Option<&str>,
    campaign: Option<&str>,
    from_day: Option<&Bound<'_, PyAny>>,
    to_day: Option<&Bound<'_, PyAny>>,
) -> Result<core::ConversionQuery> {
    Ok({
        let mut v = core::ConversionQuery::default();
        v.status = status.map(str::parse).transpose()?;
        v.partner = code("partner", partner)?;
        v.campaign = code("campaign", campaign)?;
        v.from_day = from_day.map(|d| day("from_day", d)).transpose()?;
        v.to_day = to_day.map(|d| day("to_day", d)).transpose()?;
        v
    })
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

    /// One page of conversions, newest first: `(conversions, next_cursor)`. `limit` is
    /// 1 to 1000.
    #[pyo3(signature = (*, status = None, partner = None, campaign = None, from_day = None,
                        to_day = None, limit = 100, cursor = None))]
    #[allow(clippy::too_many_arguments)]
    fn list_conversions<'py>(
        &self,
        py: Python<'py>,
        status: Option<&str>,
        partner: Option<&str>,
        campaign: Option<&str>,
        from_day: Option<&Bound<'py, PyAny>>,
        to_day: Option<&Bound<'py, PyAny>>,
        limit: i64,
        cursor: Option<&str>,
    ) -> Result<(Vec<Conversion>, Option<String>)> {
        let query = conversion_query(status, partner, campaign, from_day, to_day)?;
        let limit = count("limit", limit)?;
        let page = py.detach(|| self.inner.conversions_page(&query, limit, cursor))?;
        Ok((
            page.conversions.into_iter().map(Conversion).collect(),
            page.next_cursor,
        ))
    }

    /// Sets the status of each order on its own (1 to 1000 ids): a list of
    /// `{"order_id", "status"}` or `{"order_id", "error": {"code", "message"}}`.
    fn set_statuses<'py>(
        &self,
        py: Python<'py>,
        order_ids: Vec<String>,
        status: &str,
    ) -> Result<Vec<Bound<'py, PyAny>>> {
        let status: core::Status = status.parse()?;
        let answer = py.detach(|| self.inner.set_statuses_answer(&order_ids, status))?;
        Ok(answer
            .results
            .iter()
            .map(|r| answer_to_py(py, r))
            .collect::<PyResult<_>>()?)
    }

    /// What each beneficiary earns at every level: one dict per partner and currency
    /// with `pending`, `payable`, `in_payout`, `paid` and `clawback` as `Decimal`.
    #[pyo3(signature = (*, partner = None, currency = None))]
    fn balances<'py>(
        &self,
        py: Python<'py>,
        partner: Option<&str>,
        currency: Option<&str>,
    ) -> Result<Vec<Bound<'py, PyDict>>> {
        let rows = py.detach(|| self.inner.balances(partner, currency))?;
        let mut out = Vec::with_capacity(rows.len());
        for (p, c, b) in rows {
            let d = PyDict::new(py);
            d.set_item("partner", p.as_str())?;
            d.set_item("currency", c.code())?;
            let row = core::answers::BalanceRow::new(p, c, &b);
            let json = serde_json::to_value(&row)
                .map_err(|e| pyo3::exceptions::PyRuntimeError::new_err(e.to_string()))?;
            for k in ["pending", "payable", "in_payout", "paid", "clawback"] {
                d.set_item(
                    k,
                    crate::values::decimal(py, json[k].as_str().unwrap_or("0"))?,
                )?;
            }
            out.push(d);
        }
        Ok(out)
    }

    /// Approves the pending conversions whose campaign's `approve_after_days` have
    /// passed; returns how many this call approved (each conversion once, whichever
    /// process runs it).
    fn approve_due(&self, py: Python<'_>) -> Result<usize> {
        Ok(py.detach(|| self.inner.approve_due())?)
    }

    /// The conversions the filters match as a CSV file (a `str`); a cell starting
    /// with `= + - @` or a tab is prefixed with `'`.
    #[pyo3(signature = (*, status = None, partner = None, campaign = None, from_day = None,
                        to_day = None))]
    fn conversions_csv(
        &self,
        py: Python<'_>,
        status: Option<&str>,
        partner: Option<&str>,
        campaign: Option<&str>,
        from_day: Option<&Bound<'_, PyAny>>,
        to_day: Option<&Bound<'_, PyAny>>,
    ) -> Result<String> {
        let query = conversion_query(status, partner, campaign, from_day, to_day)?;
        Ok(py.detach(|| core::conversions_csv(&self.inner.conversions_matching(&query)?))?)
    }

    /// A report (as `stats`) as a CSV file.
    #[pyo3(signature = (group_by = Vec::new(), *, from_day = None, to_day = None,
                        campaign = None, partner = None))]
    fn stats_csv(
        &self,
        py: Python<'_>,
        group_by: Vec<String>,
        from_day: Option<&Bound<'_, PyAny>>,
        to_day: Option<&Bound<'_, PyAny>>,
        campaign: Option<&str>,
        partner: Option<&str>,
    ) -> Result<String> {
        let query = self.stats_query(&group_by, from_day, to_day, campaign, partner)?;
        Ok(py.detach(|| core::stats_csv(&query.group_by, &self.inner.stats(&query)?))?)
    }
}
