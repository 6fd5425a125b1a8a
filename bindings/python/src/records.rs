//! What the `Tracker` answers: `Click`, `Conversion`, `Commission`, and JSON views
//! (campaigns, partners, coupons) as Python dicts.

use affiliate_sdk as core;
use pyo3::prelude::*;
use pyo3::types::{PyDict, PyList};

use crate::repr_str;
use crate::values::{datetime, decimal};

/// What a click produced.
#[pyclass(frozen, get_all, module = "affiliate_sdk")]
pub(crate) struct Click {
    /// Whether a bot, crawler or link preview clicked (counted in `bot_clicks`, no
    /// token, no cookie, no commission).
    pub(crate) bot: bool,
    /// The session token the visitor carries (`None` for a bot).
    pub(crate) token: Option<String>,
    /// The `Set-Cookie` header value for the token (`None` for a bot, and when the
    /// campaign waits for the visitor's consent).
    pub(crate) set_cookie: Option<String>,
    /// Where the visitor lands: the link's allowed `to=` target or the campaign's
    /// destination, with `aff_token=<token>` added (a bot's: without).
    pub(crate) location: String,
    /// The recorded click's id (`None` for a bot).
    pub(crate) click_id: Option<String>,
    /// Whether the click counted as unique.
    pub(crate) unique: bool,
    /// Whether a first-click campaign kept the visitor's earlier token.
    pub(crate) kept_earlier: bool,
    /// Whether an invalid `sid` was dropped from the link.
    pub(crate) dropped_sid: bool,
    /// Why the link's `to=` target was not followed (the visitor landed on the
    /// destination), if it was not.
    pub(crate) refused_to: Option<String>,
}

#[pymethods]
impl Click {
    fn __repr__(&self) -> String {
        format!(
            "Click(click_id={}, location={}, unique={})",
            repr_str(self.click_id.as_deref()),
            repr_str(Some(&self.location)),
            if self.unique { "True" } else { "False" }
        )
    }
}

/// One partner's share of a conversion.
#[pyclass(frozen, module = "affiliate_sdk")]
pub(crate) struct Commission(pub(crate) core::Commission);

#[pymethods]
impl Commission {
    #[getter]
    fn partner(&self) -> &str {
        self.0.partner.as_str()
    }
    /// 0 for the referring partner, 1 for its parent, ….
    #[getter]
    fn level(&self) -> u8 {
        self.0.level
    }
    #[getter]
    fn amount<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        decimal(py, &self.0.amount.to_string())
    }
    #[getter]
    fn currency(&self) -> &'static str {
        self.0.amount.currency().code()
    }
    fn __repr__(&self) -> String {
        format!(
            "Commission(partner={}, level={}, amount=Decimal('{}'))",
            repr_str(Some(self.partner())),
            self.0.level,
            self.0.amount
        )
    }
}

/// A recorded conversion (or the replay of one: `duplicate` is then true).
#[pyclass(frozen, module = "affiliate_sdk")]
pub(crate) struct Conversion(pub(crate) core::Conversion);

#[pymethods]
impl Conversion {
    #[getter]
    fn order_id(&self) -> &str {
        &self.0.order_id
    }
    #[getter]
    fn kind(&self) -> &str {
        self.0.kind.as_str()
    }
    #[getter]
    fn amount<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        decimal(py, &self.0.amount.to_string())
    }
    #[getter]
    fn currency(&self) -> &'static str {
        self.0.amount.currency().code()
    }
    #[getter]
    fn campaign(&self) -> &str {
        self.0.link.campaign.as_str()
    }
    #[getter]
    fn partner(&self) -> &str {
        self.0.link.partner.as_str()
    }
    #[getter]
    fn ad(&self) -> Option<&str> {
        self.0.link.ad.as_ref().map(core::Code::as_str)
    }
    #[getter]
    fn sid(&self) -> Option<&str> {
        self.0.link.sid.as_ref().map(core::Sid::as_str)
    }
    #[getter]
    fn click_id(&self) -> Option<String> {
        self.0.click_id.map(|c| c.to_string())
    }
    /// `pending`, `approved`, `paid`, `rejected` or `reversed`.
    #[getter]
    fn status(&self) -> &'static str {
        self.0.status.as_str()
    }
    /// True when this answer replays an order id recorded before.
    #[getter]
    fn duplicate(&self) -> bool {
        self.0.duplicate
    }
    /// True when this answer replaced an earlier record of the order id (an unsigned
    /// browser report, or a rejected attribution): see `Tracker.replaced_conversions`.
    #[getter]
    fn replaced(&self) -> bool {
        self.0.replaced
    }
    /// `browser`, `signed_browser`, `server` or `manual`: how it reached the tracker.
    #[getter]
    fn channel(&self) -> &'static str {
        self.0.channel.as_str()
    }
    /// `token`, `click_id`, `coupon`, `customer` or `manual`.
    #[getter]
    fn evidence(&self) -> &'static str {
        self.0.evidence.as_str()
    }
    #[getter]
    fn customer_id(&self) -> Option<&str> {
        self.0.customer_id.as_deref()
    }
    /// When it was recorded (aware UTC datetime).
    #[getter]
    fn converted_at<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        datetime(py, self.0.converted_at)
    }
    /// The referring partner's own commission (level 0), as a Decimal.
    #[getter]
    fn commission<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        decimal(py, &self.0.commission().to_string())
    }
    /// What the refunds total, as a Decimal (0 when none).
    #[getter]
    fn refunded<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        let c = &self.0;
        decimal(
            py,
            &core::Money::from_minor(c.refunded_minor(), c.amount.currency()).to_string(),
        )
    }
    /// The amount net of refunds, as a Decimal.
    #[getter]
    fn net_amount<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        decimal(py, &self.0.net_amount().to_string())
    }
    /// The partner's commission and its ancestors' overrides, by level.
    #[getter]
    fn commissions(&self) -> Vec<Commission> {
        self.0.commissions.iter().cloned().map(Commission).collect()
    }
    /// The conversion as the HTTP API writes it (amounts as decimal strings, times as
    /// Unix seconds): ready for `json.dumps`.
    fn to_dict<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        json_to_py(py, &self.0.to_json())
    }
    fn __repr__(&self) -> String {
        format!(
            "Conversion(order_id={}, kind={}, amount=Decimal('{}'), currency={}, partner={}, status={}, duplicate={})",
            repr_str(Some(&self.0.order_id)),
            repr_str(Some(self.kind())),
            self.0.amount,
            repr_str(Some(self.currency())),
            repr_str(Some(self.partner())),
            repr_str(Some(self.status())),
            if self.0.duplicate { "True" } else { "False" }
        )
    }
}

/// One of the core's answers (`affiliate_sdk::answers`) as Python values.
pub(crate) fn answer_to_py<'py, T: serde::Serialize>(
    py: Python<'py>,
    answer: &T,
) -> PyResult<Bound<'py, PyAny>> {
    let json = serde_json::to_value(answer)
        .map_err(|e| pyo3::exceptions::PyRuntimeError::new_err(e.to_string()))?;
    json_to_py(py, &json)
}

pub(crate) fn json_to_py<'py>(
    py: Python<'py>,
    v: &serde_json::Value,
) -> PyResult<Bound<'py, PyAny>> {
    use serde_json::Value;
    Ok(match v {
        Value::Null => py.None().into_bound(py),
        Value::Bool(b) => b.into_pyobject(py)?.to_owned().into_any(),
        Value::Number(n) => match n.as_u64() {
            Some(u) => u.into_pyobject(py)?.into_any(),
            None => n.to_string().into_pyobject(py)?.into_any(),
        },
        Value::String(s) => s.into_pyobject(py)?.into_any(),
        Value::Array(a) => {
            let list = PyList::empty(py);
            for x in a {
                list.append(json_to_py(py, x)?)?;
            }
            list.into_any()
        }
        Value::Object(o) => {
            let dict = PyDict::new(py);
            for (k, x) in o {
                dict.set_item(k, json_to_py(py, x)?)?;
            }
            dict.into_any()
        }
    })
}
