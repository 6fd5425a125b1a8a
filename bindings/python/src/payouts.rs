//! Payouts from Python: runs under an idempotency key, the list, one payout with its
//! items, paid or failed, and the CSV. Each method converts its arguments, calls one
//! core method and shapes the answer: amounts `Decimal`, times aware UTC `datetime`.

use affiliate_sdk as core;
use affiliate_sdk::ledger::{Payout, PayoutRunSpec};
use pyo3::prelude::*;
use pyo3::types::PyDict;

use crate::Result;
use crate::records::answer_to_py;
use crate::tracker::Tracker;
use crate::values::{datetime, day, decimal, opt_decimal_text};

/// A payout as a dict: `id, partner, currency, amount (Decimal), entries (int),
/// status, created, updated (datetime)`.
fn payout_dict<'py>(py: Python<'py>, p: &Payout) -> PyResult<Bound<'py, PyDict>> {
    let d = PyDict::new(py);
    d.set_item("id", &p.id)?;
    d.set_item("partner", p.partner.as_str())?;
    d.set_item("currency", p.currency.code())?;
    d.set_item("amount", decimal(py, &p.amount().to_string())?)?;
    d.set_item("entries", p.entries.len())?;
    d.set_item("status", p.status.as_str())?;
    d.set_item("created", datetime(py, p.created)?)?;
    d.set_item("updated", datetime(py, p.updated)?)?;
    Ok(d)
}

#[pymethods]
impl Tracker {
    /// Makes a payout run for `currency`: per partner, one payout of its payable
    /// commissions (approved on or before `up_to`, a `date` or `"YYYY-MM-DD"`) net of
    /// what it owes back, when that is at least `min_amount`. `idempotency_key` makes
    /// a retry safe: the same key returns the payouts it made; with other arguments it
    /// raises `Conflict`. Returns the payouts, each a dict.
    #[pyo3(signature = (currency, *, idempotency_key, up_to = None, min_amount = None,
                        partner = None))]
    fn create_payouts<'py>(
        &self,
        py: Python<'py>,
        currency: String,
        idempotency_key: &str,
        up_to: Option<&Bound<'py, PyAny>>,
        min_amount: Option<&Bound<'py, PyAny>>,
        partner: Option<String>,
    ) -> Result<Vec<Bound<'py, PyDict>>> {
        let spec = PayoutRunSpec {
            currency,
            up_to: up_to
                .filter(|v| !v.is_none())
                .map(|v| day("up_to", v).map(core::format_day))
                .transpose()?,
            min_amount: opt_decimal_text("min_amount", min_amount)?,
            partner,
        };
        let made = py.detach(|| self.inner.create_payouts(idempotency_key, &spec))?;
        Ok(made
            .payouts()
            .iter()
            .map(|p| payout_dict(py, p))
            .collect::<PyResult<_>>()?)
    }

    /// The payouts, newest first; optionally one partner's, one currency's, or those
    /// in one status (`"pending"`, `"paid"`, `"failed"`).
    #[pyo3(signature = (*, partner = None, currency = None, status = None))]
    fn payouts<'py>(
        &self,
        py: Python<'py>,
        partner: Option<&str>,
        currency: Option<&str>,
        status: Option<&str>,
    ) -> Result<Vec<Bound<'py, PyDict>>> {
        let list = py.detach(|| self.inner.payouts(partner, currency, status))?;
        Ok(list
            .iter()
            .map(|p| payout_dict(py, p))
            .collect::<PyResult<_>>()?)
    }

    /// One payout, with `items`: each entry it settles, `{order_id, level, kind,
    /// amount}` (a clawback's amount negative). `NotFound` when there is none.
    fn payout<'py>(&self, py: Python<'py>, id: &str) -> Result<Bound<'py, PyDict>> {
        let (payout, json) = py.detach(|| {
            let p = self.inner.payout(id)?;
            let with_items = self.inner.payout_with_items(&p)?;
            Ok::<_, core::Error>((p, with_items))
        })?;
        let d = payout_dict(py, &payout)?;
        let items = pyo3::types::PyList::empty(py);
        for item in &json.items {
            let row = answer_to_py(py, item)?;
            row.set_item("amount", decimal(py, &item.amount)?)?;
            items.append(row)?;
        }
        d.set_item("items", items)?;
        Ok(d)
    }

    /// Marks a pending payout `"paid"` (its conversions read `paid` once all their
    /// commissions are) or `"failed"` (its entries are payable again); returns it.
    /// Anything else raises `InvalidTransition` and changes nothing.
    fn set_payout_status<'py>(
        &self,
        py: Python<'py>,
        id: &str,
        status: &str,
    ) -> Result<Bound<'py, PyDict>> {
        let p = py.detach(|| self.inner.set_payout_status(id, status))?;
        Ok(payout_dict(py, &p)?)
    }

    /// The payouts (as `payouts`) as a CSV file, with each partner's name and payout
    /// details.
    #[pyo3(signature = (*, partner = None, currency = None, status = None))]
    fn payouts_csv(
        &self,
        py: Python<'_>,
        partner: Option<&str>,
        currency: Option<&str>,
        status: Option<&str>,
    ) -> Result<String> {
        Ok(py.detach(|| self.inner.payouts_csv(partner, currency, status))?)
    }
}
