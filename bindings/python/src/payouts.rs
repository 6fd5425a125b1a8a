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
use crate::values::{datetime, decimal, decimal_text, opt_day_text, opt_decimal_text};

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

/// An adjustment as a dict: `id, partner, currency, amount (Decimal, signed), kind,
/// memo, state, payout, created (datetime)`.
fn adjustment_dict<'py>(
    py: Python<'py>,
    a: &core::answers::AdjustmentAnswer,
) -> PyResult<Bound<'py, PyDict>> {
    let d = PyDict::new(py);
    d.set_item("id", &a.id)?;
    d.set_item("partner", a.partner.as_str())?;
    d.set_item("currency", a.currency.code())?;
    d.set_item("amount", decimal(py, &a.amount)?)?;
    d.set_item("kind", answer_to_py(py, &a.kind)?)?;
    d.set_item("memo", &a.memo)?;
    d.set_item("state", a.state)?;
    d.set_item("payout", a.payout.as_deref())?;
    d.set_item("created", datetime(py, a.created)?)?;
    Ok(d)
}

/// A payout run's arguments as the core takes them.
fn run_spec(
    currency: String,
    up_to: Option<&Bound<'_, PyAny>>,
    min_amount: Option<&Bound<'_, PyAny>>,
    partner: Option<String>,
) -> Result<PayoutRunSpec> {
    Ok(PayoutRunSpec {
        currency,
        up_to: opt_day_text("up_to", up_to)?,
        min_amount: opt_decimal_text("min_amount", min_amount)?,
        partner,
    })
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
        let spec = run_spec(currency, up_to, min_amount, partner)?;
        let made = py.detach(|| self.inner.create_payouts(idempotency_key, &spec))?;
        Ok(made
            .payouts()
            .iter()
            .map(|p| payout_dict(py, p))
            .collect::<PyResult<_>>()?)
    }

    /// Adds to (`kind="bonus"`, or a `"correction"`) or takes from (a correction with a
    /// negative `amount`, `str` or `Decimal`) `partner`'s balance: one ledger entry,
    /// payable at once, netted by its next payout, shown to it with `memo`.
    /// `idempotency_key` makes a retry safe: the same key and arguments return the same
    /// adjustment (`"replayed": True`); with other arguments `Conflict`. A negative one
    /// that would leave the partner owed less than nothing raises `Conflict` unless
    /// `allow_negative`. Returns the adjustment as a dict (`amount` a signed `Decimal`).
    #[pyo3(signature = (partner, *, currency, amount, memo, kind, idempotency_key,
                        allow_negative = false))]
    #[allow(clippy::too_many_arguments)]
    fn adjust<'py>(
        &self,
        py: Python<'py>,
        partner: String,
        currency: String,
        amount: &Bound<'py, PyAny>,
        memo: String,
        kind: &str,
        idempotency_key: &str,
        allow_negative: bool,
    ) -> Result<Bound<'py, PyAny>> {
        let kind: core::ledger::AdjustmentKind = kind.parse()?;
        let mut req = core::ledger::AdjustmentRequest::new(
            &partner,
            &currency,
            &decimal_text("amount", amount)?,
            &memo,
            kind,
        );
        req.allow_negative = allow_negative;
        let made = py.detach(|| self.inner.adjust(idempotency_key, &req))?;
        let answer = core::answers::AdjustmentAnswer::of(made.entry())
            .ok_or_else(|| core::Error::Store("not an adjustment".into()))?;
        let d = adjustment_dict(py, &answer)?;
        d.set_item("replayed", matches!(made, core::Adjusted::Replayed(_)))?;
        Ok(d.into_any())
    }

    /// The adjustments, newest first (optionally one partner's or one currency's), each
    /// a dict: `id, partner, currency, amount (Decimal, signed), kind, memo, state,
    /// payout, created (datetime)`.
    #[pyo3(signature = (*, partner = None, currency = None))]
    fn adjustments<'py>(
        &self,
        py: Python<'py>,
        partner: Option<String>,
        currency: Option<String>,
    ) -> Result<Vec<Bound<'py, PyDict>>> {
        let list = py.detach(|| {
            self.inner
                .adjustments(partner.as_deref(), currency.as_deref())
        })?;
        Ok(list
            .iter()
            .map(|a| adjustment_dict(py, a))
            .collect::<PyResult<_>>()?)
    }

    /// The partners with payable money that a run for `currency` (with these
    /// arguments) passes over as the ledger stands now, and why: a list of
    /// `{"partner", "currency", "amount" (Decimal, negative when it owes back),
    /// "reason"}`, the reason `"below_minimum"`, `"owes_back"` or `"too_large"`.
    #[pyo3(signature = (currency, *, up_to = None, min_amount = None, partner = None))]
    fn payout_skips<'py>(
        &self,
        py: Python<'py>,
        currency: String,
        up_to: Option<&Bound<'py, PyAny>>,
        min_amount: Option<&Bound<'py, PyAny>>,
        partner: Option<String>,
    ) -> Result<Vec<Bound<'py, PyAny>>> {
        let spec = run_spec(currency, up_to, min_amount, partner)?;
        let skipped = py.detach(|| self.inner.payout_skips(&spec))?;
        let answer = core::answers::PayoutRunAnswer::new(&[], &skipped);
        Ok(answer
            .skipped
            .iter()
            .map(|s| {
                let d = PyDict::new(py);
                d.set_item("partner", s.partner.as_str())?;
                d.set_item("currency", s.currency.code())?;
                d.set_item("amount", decimal(py, &s.amount)?)?;
                d.set_item("reason", answer_to_py(py, &s.reason)?)?;
                Ok(d.into_any())
            })
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
