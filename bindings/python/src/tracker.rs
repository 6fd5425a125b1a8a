//! The `Tracker`, its stores and clock, and what it answers (`Click`, `Conversion`,
//! `Commission`, stats rows as dicts).

use std::path::PathBuf;
use std::sync::Arc;

use affiliate_sdk as core;
use pyo3::exceptions::PyTypeError;
use pyo3::prelude::*;
use pyo3::types::{PyDict, PyList};

use crate::signing::{Keyring, Session};
use crate::values::{count, datetime, day, decimal, decimal_text, opt_decimal_text, unix_secs};
use crate::{Result, repr_str};

/// Keeps everything in memory: tests and short-lived tools. Nothing survives the
/// process.
#[pyclass(frozen, module = "affiliate_sdk")]
pub(crate) struct MemoryStore {
    inner: Arc<dyn core::Store>,
}

#[pymethods]
impl MemoryStore {
    #[new]
    fn new() -> MemoryStore {
        MemoryStore {
            inner: Arc::new(core::MemoryStore::new()),
        }
    }

    fn __repr__(&self) -> &'static str {
        "MemoryStore()"
    }
}

/// The embedded database in a directory (created when missing). One process opens a
/// directory at a time; the store closes when the last object using it is gone.
#[pyclass(frozen, module = "affiliate_sdk")]
pub(crate) struct SledStore {
    inner: Arc<dyn core::Store>,
    path: PathBuf,
}

#[pymethods]
impl SledStore {
    #[new]
    fn new(py: Python<'_>, path: PathBuf) -> Result<SledStore> {
        let store = py.detach(|| core::SledStore::open(&path))?;
        Ok(SledStore {
            inner: Arc::new(store),
            path,
        })
    }

    /// The directory.
    #[getter]
    fn path(&self) -> PathBuf {
        self.path.clone()
    }

    fn __repr__(&self) -> String {
        format!(
            "SledStore({})",
            repr_str(Some(&self.path.display().to_string()))
        )
    }
}

/// A clock that moves only when told: tests of windows, skew and minimum times.
#[pyclass(frozen, module = "affiliate_sdk")]
pub(crate) struct FixedClock {
    inner: Arc<core::FixedClock>,
}

#[pymethods]
impl FixedClock {
    #[new]
    fn new(now: &Bound<'_, PyAny>) -> Result<FixedClock> {
        Ok(FixedClock {
            inner: Arc::new(core::FixedClock::from_secs(unix_secs("now", now)?)),
        })
    }

    /// Sets the time (`int` Unix seconds or an aware `datetime`).
    fn set(&self, now: &Bound<'_, PyAny>) -> Result<()> {
        self.inner.set_secs(unix_secs("now", now)?);
        Ok(())
    }

    /// Moves the time forward by `seconds`.
    fn advance(&self, seconds: i64) -> Result<()> {
        self.inner.advance_secs(count("seconds", seconds)?);
        Ok(())
    }

    /// The time (aware UTC datetime).
    #[getter]
    fn now<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        datetime(py, core::Clock::now(&*self.inner))
    }

    fn __repr__(&self) -> String {
        format!("FixedClock({})", core::Clock::now(&*self.inner))
    }
}

/// What a click produced.
#[pyclass(frozen, get_all, module = "affiliate_sdk")]
pub(crate) struct Click {
    /// The session token the visitor carries.
    token: String,
    /// The `Set-Cookie` header value for the token.
    set_cookie: String,
    /// The destination with `aff_token=<token>` added.
    location: String,
    /// The recorded click's id.
    click_id: String,
    /// Whether the click counted as unique.
    unique: bool,
    /// Whether a first-click campaign kept the visitor's earlier token.
    kept_earlier: bool,
    /// Whether an invalid `sid` was dropped from the link.
    dropped_sid: bool,
}

#[pymethods]
impl Click {
    fn __repr__(&self) -> String {
        format!(
            "Click(click_id={}, location={}, unique={})",
            repr_str(Some(&self.click_id)),
            repr_str(Some(&self.location)),
            if self.unique { "True" } else { "False" }
        )
    }
}

/// One partner's share of a conversion.
#[pyclass(frozen, module = "affiliate_sdk")]
pub(crate) struct Commission(core::Commission);

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
pub(crate) struct Conversion(core::Conversion);

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

fn json_to_py<'py>(py: Python<'py>, v: &serde_json::Value) -> PyResult<Bound<'py, PyAny>> {
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

/// Verifies clicks, issues tokens and cookies, and attributes conversions exactly once
/// over a store. Safe to share between threads.
#[pyclass(frozen, module = "affiliate_sdk")]
pub(crate) struct Tracker {
    inner: core::Tracker,
}

fn store_of(store: &Bound<'_, PyAny>) -> Result<Arc<dyn core::Store>> {
    if let Ok(s) = store.cast::<MemoryStore>() {
        return Ok(s.get().inner.clone());
    }
    if let Ok(s) = store.cast::<SledStore>() {
        return Ok(s.get().inner.clone());
    }
    let type_name = store.get_type().name()?;
    Err(PyTypeError::new_err(format!(
        "store must be a MemoryStore or SledStore, not {type_name}"
    ))
    .into())
}

fn attribution(text: &str) -> Result<core::Attribution> {
    Ok(text.parse()?)
}

#[pymethods]
impl Tracker {
    #[new]
    #[pyo3(signature = (keys, *, store, base_url, cookie_domain = None, secure = None,
                        cookie_name = "aff_token",
                        skew_secs = 60, clock = None))]
    #[allow(clippy::too_many_arguments)]
    fn new(
        keys: &Keyring,
        store: &Bound<'_, PyAny>,
        base_url: &str,
        cookie_domain: Option<&str>,
        secure: Option<bool>,
        cookie_name: &str,
        skew_secs: i64,
        clock: Option<&FixedClock>,
    ) -> Result<Tracker> {
        let signer = core::LinkSigner::new(keys.inner.clone(), base_url)?;
        let secure = secure.unwrap_or_else(|| base_url.starts_with("https://"));
        let cookie = core::CookieConfig::new()
            .name(cookie_name)?
            .domain(cookie_domain.unwrap_or(""))?
            .secure(secure);
        let mut inner = core::Tracker::new(signer, store_of(store)?)
            .with_cookie(cookie)
            .with_validation(core::TokenValidation {
                skew_secs: count("skew_secs", skew_secs)?,
            });
        if let Some(clock) = clock {
            inner = inner.with_clock(clock.inner.clone());
        }
        // The campaigns and partners added before (by this shop or another process on
        // the same store) are in force again.
        inner.refresh()?;
        Ok(Tracker { inner })
    }

    /// The base URL of tracking links.
    #[getter]
    fn base_url(&self) -> &str {
        self.inner.signer().base_url()
    }

    /// The cookie (and landing parameter) name.
    #[getter]
    fn cookie_name(&self) -> &str {
        self.inner.cookie_config().cookie_name()
    }

    /// Adds or replaces a campaign. Amounts and percentages are `str` or `Decimal`.
    #[pyo3(signature = (code, *, destination, currency, cookie_days = 30,
                        attribution = "last", min_seconds_to_convert = 0, sale_percent = None,
                        sale_flat = None, lead_flat = None, click_flat = None,
                        impression_per_mille = None, override_percents = Vec::new(),
                        recurring_months = 0))]
    #[allow(clippy::too_many_arguments)]
    fn add_campaign(
        &self,
        code: String,
        destination: String,
        currency: String,
        cookie_days: i64,
        attribution: &str,
        min_seconds_to_convert: i64,
        sale_percent: Option<&Bound<'_, PyAny>>,
        sale_flat: Option<&Bound<'_, PyAny>>,
        lead_flat: Option<&Bound<'_, PyAny>>,
        click_flat: Option<&Bound<'_, PyAny>>,
        impression_per_mille: Option<&Bound<'_, PyAny>>,
        override_percents: Vec<Bound<'_, PyAny>>,
        recurring_months: i64,
    ) -> Result<()> {
        let spec = core::CampaignSpec {
            code,
            destination,
            cookie_days: count("cookie_days", cookie_days)?,
            attribution: self::attribution(attribution)?,
            min_seconds_to_convert: count("min_seconds_to_convert", min_seconds_to_convert)?,
            currency,
            sale_percent: opt_decimal_text("sale_percent", sale_percent)?,
            sale_flat: opt_decimal_text("sale_flat", sale_flat)?,
            lead_flat: opt_decimal_text("lead_flat", lead_flat)?,
            click_flat: opt_decimal_text("click_flat", click_flat)?,
            impression_per_mille: opt_decimal_text("impression_per_mille", impression_per_mille)?,
            override_percents: override_percents
                .iter()
                .map(|p| decimal_text("override_percents", p))
                .collect::<Result<_>>()?,
            recurring_months: count("recurring_months", recurring_months)?,
            // Python's conversions come from the shop's backend (`convert`), an
            // authenticated channel: the browser rules are the HTTP server's.
            ..core::CampaignSpec::default()
        };
        self.inner.add_campaign(&spec)?;
        Ok(())
    }

    /// Adds or replaces a partner (kept in the store); a parent must be added first.
    /// `status` is `"active"` or `"suspended"`.
    #[pyo3(signature = (code, *, parent = None, coupons = Vec::new(), status = "active",
                        name = None, email = None, payout_details = None, postback_url = None))]
    #[allow(clippy::too_many_arguments)]
    fn add_partner(
        &self,
        code: String,
        parent: Option<String>,
        coupons: Vec<String>,
        status: &str,
        name: Option<String>,
        email: Option<String>,
        payout_details: Option<String>,
        postback_url: Option<String>,
    ) -> Result<()> {
        let status: core::PartnerStatus = status.parse()?;
        self.inner.add_partner(&core::PartnerSpec {
            code,
            parent,
            coupons,
            status,
            name,
            email,
            payout_details,
            postback_url,
        })?;
        Ok(())
    }

    /// The campaign codes, sorted.
    #[getter]
    fn campaigns(&self) -> Vec<String> {
        self.inner
            .campaigns()
            .iter()
            .map(|c| c.code().to_string())
            .collect()
    }

    /// The partner codes, sorted.
    #[getter]
    fn partners(&self) -> Vec<String> {
        self.inner
            .partners()
            .iter()
            .map(|p| p.code.to_string())
            .collect()
    }

    /// A visitor clicked `url`: verifies it, counts the click and returns the token,
    /// cookie and redirect. `prior_token` is the token the visitor already carries.
    #[pyo3(signature = (url, *, prior_token = None))]
    fn click(&self, py: Python<'_>, url: &str, prior_token: Option<&str>) -> Result<Click> {
        let c = py.detach(|| self.inner.click(url, prior_token))?;
        Ok(Click {
            click_id: c.click_id.to_string(),
            token: c.token,
            set_cookie: c.set_cookie,
            location: c.location,
            unique: c.unique,
            kept_earlier: c.kept_earlier,
            dropped_sid: c.dropped_sid,
        })
    }

    /// Counts an impression of the link `url`.
    fn impression(&self, py: Python<'_>, url: &str) -> Result<()> {
        py.detach(|| self.inner.impression(url))?;
        Ok(())
    }

    /// Verifies a session token now.
    fn verify_token(&self, token: &str) -> Result<Session> {
        Ok(Session {
            claims: self.inner.verify_token(token)?.claims(),
        })
    }

    /// The `Set-Cookie` value that keeps a verified token until its expiry: what a
    /// shop's landing route sends so the cookie is the server's, not a script's.
    /// `Expired` for a token issued over 10 minutes ago (a shared link, not a click).
    fn set_cookie_for(&self, token: &str) -> Result<String> {
        Ok(self.inner.set_cookie_for(token)?)
    }

    /// Attributes a conversion and records it exactly once (durable before it
    /// returns). Evidence: `token`, `click_id` or `coupon`; `customer_id` binds the
    /// customer for recurring campaigns.
    #[pyo3(signature = (order_id, *, amount = None, currency, kind = "sale",
                        token = None, click_id = None, coupon = None, customer_id = None,
                        campaign = None))]
    #[allow(clippy::too_many_arguments)]
    fn convert(
        &self,
        py: Python<'_>,
        order_id: String,
        amount: Option<&Bound<'_, PyAny>>,
        currency: String,
        kind: &str,
        token: Option<String>,
        click_id: Option<String>,
        coupon: Option<String>,
        customer_id: Option<String>,
        campaign: Option<String>,
    ) -> Result<Conversion> {
        let req = core::ConversionRequest {
            order_id,
            amount: opt_decimal_text("amount", amount)?.unwrap_or_else(|| "0".into()),
            currency,
            kind: kind.to_owned(),
            token,
            click_id,
            coupon,
            customer_id,
            campaign,
        };
        Ok(Conversion(py.detach(|| self.inner.convert(&req))?))
    }

    /// Records a conversion entered by hand for a named campaign and partner.
    #[pyo3(signature = (order_id, *, amount = None, currency, kind = "sale",
                        campaign, partner, ad = None, sid = None, customer_id = None))]
    #[allow(clippy::too_many_arguments)]
    fn manual(
        &self,
        py: Python<'_>,
        order_id: String,
        amount: Option<&Bound<'_, PyAny>>,
        currency: String,
        kind: &str,
        campaign: String,
        partner: String,
        ad: Option<String>,
        sid: Option<String>,
        customer_id: Option<String>,
    ) -> Result<Conversion> {
        let req = core::ManualConversion {
            order_id,
            amount: opt_decimal_text("amount", amount)?.unwrap_or_else(|| "0".into()),
            currency,
            kind: kind.to_owned(),
            campaign,
            partner,
            ad,
            sid,
            customer_id,
        };
        Ok(Conversion(py.detach(|| self.inner.manual(&req))?))
    }

    /// Moves a conversion along its lifecycle (`approved`, `paid`, `rejected`,
    /// `reversed`).
    fn set_status(&self, py: Python<'_>, order_id: &str, status: &str) -> Result<Conversion> {
        let status: core::Status = status.parse()?;
        Ok(Conversion(
            py.detach(|| self.inner.set_status(order_id, status))?,
        ))
    }

    /// The conversion recorded under `order_id`.
    fn conversion(&self, py: Python<'_>, order_id: &str) -> Result<Conversion> {
        Ok(Conversion(py.detach(|| self.inner.conversion(order_id))?))
    }

    /// The records replaced under `order_id`, oldest first (kept for audit).
    fn replaced_conversions(&self, py: Python<'_>, order_id: &str) -> Result<Vec<Conversion>> {
        let replaced = py.detach(|| self.inner.replaced_conversions(order_id))?;
        Ok(replaced.into_iter().map(Conversion).collect())
    }

    /// A report: one dict per group with the dimensions asked for, `clicks`,
    /// `unique_clicks`, `impressions`, `leads`, `sales`, and `revenue` and
    /// `commission` as `{currency: Decimal}`.
    #[pyo3(signature = (group_by = Vec::new(), *, from_day = None, to_day = None,
                        campaign = None, partner = None))]
    fn stats<'py>(
        &self,
        py: Python<'py>,
        group_by: Vec<String>,
        from_day: Option<&Bound<'py, PyAny>>,
        to_day: Option<&Bound<'py, PyAny>>,
        campaign: Option<&str>,
        partner: Option<&str>,
    ) -> Result<Vec<Bound<'py, PyDict>>> {
        let dims = group_by
            .iter()
            .map(|d| d.parse::<core::Dimension>())
            .collect::<core::Result<Vec<_>>>()?;
        let mut query = core::StatsQuery::new(&dims);
        query.from_day = from_day.map(|d| day("from_day", d)).transpose()?;
        query.to_day = to_day.map(|d| day("to_day", d)).transpose()?;
        query.campaign = campaign.map(core::Code::new).transpose()?;
        query.partner = partner.map(core::Code::new).transpose()?;
        let rows = py.detach(|| self.inner.stats(&query))?;
        let mut out = Vec::with_capacity(rows.len());
        for row in rows {
            let d = PyDict::new(py);
            for (dim, value) in &row.group {
                d.set_item(dim.as_str(), value)?;
            }
            d.set_item("clicks", row.clicks)?;
            d.set_item("unique_clicks", row.unique_clicks)?;
            d.set_item("impressions", row.impressions)?;
            d.set_item("leads", row.leads)?;
            d.set_item("sales", row.sales)?;
            for (name, amounts) in [("revenue", &row.revenue), ("commission", &row.commission)] {
                let m = PyDict::new(py);
                for currency in amounts.0.keys() {
                    m.set_item(currency.code(), decimal(py, &amounts.decimal(*currency))?)?;
                }
                d.set_item(name, m)?;
            }
            out.push(d);
        }
        Ok(out)
    }

    /// Makes buffered clicks and impressions durable (call before shutting down).
    fn flush(&self, py: Python<'_>) -> Result<()> {
        py.detach(|| self.inner.flush())?;
        Ok(())
    }

    fn __repr__(&self) -> String {
        format!("Tracker(base_url={})", repr_str(Some(self.base_url())))
    }
}

pub(crate) fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_class::<MemoryStore>()?;
    m.add_class::<SledStore>()?;
    m.add_class::<FixedClock>()?;
    m.add_class::<Click>()?;
    m.add_class::<Commission>()?;
    m.add_class::<Conversion>()?;
    m.add_class::<Tracker>()?;
    Ok(())
}
