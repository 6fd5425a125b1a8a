//! The merchant's review from Python: the conversion listing, bulk status, balances,
//! approving due conversions and the CSV files. Each method converts its arguments,
//! calls one core method and shapes the answer.

use affiliate_sdk as core;
use pyo3::prelude::*;
use pyo3::types::PyDict;

use crate::Result;
use crate::catalogue::code;
use crate::records::{Conversion, answer_to_py};
use crate::tracker::Tracker;
use crate::values::{count, day, decimal_text};

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

    /// Records a refund of `amount` (`str` or `Decimal`, the order's currency) of
    /// `order_id` under the merchant's `refund_id`: each beneficiary gives back its
    /// share (rounded down per level, cumulatively); the whole amount makes the
    /// conversion `reversed`. The same `refund_id` and amount again returns the
    /// conversion with `duplicate` set; with another amount `Conflict`.
    #[pyo3(signature = (order_id, *, refund_id, amount))]
    fn refund(
        &self,
        py: Python<'_>,
        order_id: &str,
        refund_id: String,
        amount: &Bound<'_, PyAny>,
    ) -> Result<Conversion> {
        let req = core::RefundRequest::new(&refund_id, &decimal_text("amount", amount)?);
        Ok(Conversion(py.detach(|| self.inner.refund(order_id, &req))?))
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
