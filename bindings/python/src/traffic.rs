//! Click and impression earnings from Python: a day's traffic written to the ledger once
//! the day is over, listed, and rejected. Each method converts its arguments, calls one
//! core method and shapes the answer: amounts `Decimal`, days `datetime.date`.

use affiliate_sdk as core;
use pyo3::prelude::*;
use pyo3::types::PyDict;

use crate::Result;
use crate::tracker::Tracker;
use crate::values::{decimal, opt_day_text};

/// A traffic entry as a dict: `day (date), campaign, partner, beneficiary, level,
/// kind, currency, amount (Decimal, signed), state, payout`.
fn traffic_dict<'py>(
    py: Python<'py>,
    t: &core::answers::TrafficAnswer,
) -> PyResult<Bound<'py, PyDict>> {
    let d = PyDict::new(py);
    let date = py
        .import("datetime")?
        .getattr("date")?
        .call_method1("fromisoformat", (&t.day,))?;
    d.set_item("day", date)?;
    d.set_item("campaign", t.campaign.as_str())?;
    d.set_item("partner", t.partner.as_str())?;
    d.set_item("beneficiary", t.beneficiary.as_str())?;
    d.set_item("level", t.level)?;
    d.set_item("kind", t.kind)?;
    d.set_item("currency", t.currency.code())?;
    d.set_item("amount", decimal(py, &t.amount)?)?;
    d.set_item("state", t.state)?;
    d.set_item("payout", t.payout.as_deref())?;
    Ok(d)
}

#[pymethods]
impl Tracker {
    /// Writes the click and impression earnings of every UTC day that is over (an hour
    /// after midnight UTC) and not yet written, one ledger entry per beneficiary, and
    /// makes payable those whose campaign's `approve_after_days` have passed. A day is
    /// written once, whichever process closes it. Returns `{"days", "written",
    /// "approved"}`.
    fn close_traffic<'py>(&self, py: Python<'py>) -> Result<Bound<'py, PyDict>> {
        let done = py.detach(|| self.inner.close_traffic())?;
        let d = PyDict::new(py);
        d.set_item("days", done.days)?;
        d.set_item("written", done.written)?;
        d.set_item("approved", done.approved)?;
        Ok(d)
    }

    /// The traffic entries in the ledger (earnings and their clawbacks), by day,
    /// campaign, partner and level; optionally only those whose beneficiary is
    /// `partner`, of days `from_day` to `to_day` (`datetime.date` or `"YYYY-MM-DD"`).
    #[pyo3(signature = (*, partner = None, from_day = None, to_day = None))]
    fn traffic<'py>(
        &self,
        py: Python<'py>,
        partner: Option<String>,
        from_day: Option<&Bound<'py, PyAny>>,
        to_day: Option<&Bound<'py, PyAny>>,
    ) -> Result<Vec<Bound<'py, PyDict>>> {
        let (from, to) = (
            opt_day_text("from_day", from_day)?,
            opt_day_text("to_day", to_day)?,
        );
        let list = py.detach(|| {
            self.inner
                .traffic(partner.as_deref(), from.as_deref(), to.as_deref())
        })?;
        Ok(list
            .iter()
            .map(|t| traffic_dict(py, t))
            .collect::<PyResult<_>>()?)
    }

    /// Rejects `partner`'s click and impression earnings in `campaign` on `day`, every
    /// level: what no payout took becomes void, what a payout took is owed back. Returns
    /// the day's entries as they are now; `NotFound` when the day has none in the
    /// ledger.
    fn reject_traffic<'py>(
        &self,
        py: Python<'py>,
        day: &Bound<'py, PyAny>,
        campaign: String,
        partner: String,
    ) -> Result<Vec<Bound<'py, PyDict>>> {
        let day = core::format_day(crate::values::day("day", day)?);
        let list = py.detach(|| self.inner.reject_traffic(&day, &campaign, &partner))?;
        Ok(list
            .iter()
            .map(|t| traffic_dict(py, t))
            .collect::<PyResult<_>>()?)
    }
}
