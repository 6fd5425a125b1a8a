//! The `Tracker` and what it answers (`Click`, `Conversion`, `Commission`, stats rows
//! as dicts).

use affiliate_sdk as core;
use pyo3::prelude::*;
use pyo3::types::PyDict;

use crate::records::{Click, Commission, Conversion};
use crate::signing::{Keyring, Session};
use crate::stores::{FixedClock, store_of};
use crate::values::{count, day, decimal, decimal_text, opt_decimal_text};
use crate::{Result, repr_str};

/// Verifies clicks, issues tokens and cookies, and attributes conversions exactly once
/// over a store. Safe to share between threads.
#[pyclass(frozen, module = "affiliate_sdk")]
pub(crate) struct Tracker {
    pub(crate) inner: core::Tracker,
}

fn attribution(text: &str) -> Result<core::Attribution> {
    Ok(text.parse()?)
}

impl Tracker {
    /// The report query of `stats` and `stats_csv`.
    pub(crate) fn stats_query(
        &self,
        group_by: &[String],
        from_day: Option<&Bound<'_, PyAny>>,
        to_day: Option<&Bound<'_, PyAny>>,
        campaign: Option<&str>,
        partner: Option<&str>,
    ) -> Result<core::StatsQuery> {
        let dims = group_by
            .iter()
            .map(|d| d.parse::<core::Dimension>())
            .collect::<core::Result<Vec<_>>>()?;
        let mut query = core::StatsQuery::new(&dims);
        query.from_day = from_day.map(|d| day("from_day", d)).transpose()?;
        query.to_day = to_day.map(|d| day("to_day", d)).transpose()?;
        query.campaign = campaign.map(core::Code::new).transpose()?;
        query.partner = partner.map(core::Code::new).transpose()?;
        Ok(query)
    }
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

    /// Adds or replaces a campaign (kept in the store). Amounts and percentages are
    /// `str` or `Decimal`.
    #[pyo3(signature = (code, *, destination, currency, cookie_days = 30,
                        attribution = "last", min_seconds_to_convert = 0, sale_percent = None,
                        sale_flat = None, lead_flat = None, click_flat = None,
                        impression_per_mille = None, override_percents = Vec::new(),
                        recurring_months = 0, status = "active", approve_after_days = 0,
                        auto_approve_unsigned = false, deep_link_hosts = Vec::new(), click_commission = "unique",
                        daily_paid_click_cap = 0, daily_paid_impression_cap = 0,
                        cookie_consent = "not_required"))]
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
        status: &str,
        approve_after_days: i64,
        auto_approve_unsigned: bool,
        deep_link_hosts: Vec<String>,
        click_commission: &str,
        daily_paid_click_cap: i64,
        daily_paid_impression_cap: i64,
        cookie_consent: &str,
    ) -> Result<()> {
        let spec = {
            let mut v = core::CampaignSpec::default();
            v.code = code;
            v.destination = destination;
            v.cookie_days = count("cookie_days", cookie_days)?;
            v.attribution = self::attribution(attribution)?;
            v.min_seconds_to_convert = count("min_seconds_to_convert", min_seconds_to_convert)?;
            v.currency = currency;
            v.sale_percent = opt_decimal_text("sale_percent", sale_percent)?;
            v.sale_flat = opt_decimal_text("sale_flat", sale_flat)?;
            v.lead_flat = opt_decimal_text("lead_flat", lead_flat)?;
            v.click_flat = opt_decimal_text("click_flat", click_flat)?;
            v.impression_per_mille =
                opt_decimal_text("impression_per_mille", impression_per_mille)?;
            v.override_percents = override_percents
                .iter()
                .map(|p| decimal_text("override_percents", p))
                .collect::<Result<_>>()?;
            v.recurring_months = count("recurring_months", recurring_months)?;
            v.status = status.parse()?;
            v.approve_after_days = count("approve_after_days", approve_after_days)?;
            v.auto_approve_unsigned = auto_approve_unsigned;
            v.deep_link_hosts = deep_link_hosts;
            v.click_commission = click_commission.parse()?;
            v.daily_paid_click_cap = count("daily_paid_click_cap", daily_paid_click_cap)?;
            v.daily_paid_impression_cap =
                count("daily_paid_impression_cap", daily_paid_impression_cap)?;
            v.cookie_consent = cookie_consent.parse()?;
            // Python's conversions come from the shop's backend (`convert`), an
            // authenticated channel: the browser rules are the HTTP server's.
            v
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
        self.inner.add_partner(&{
            let mut v = core::PartnerSpec::default();
            v.code = code;
            v.parent = parent;
            v.coupons = coupons;
            v.status = status;
            v.name = name;
            v.email = email;
            v.payout_details = payout_details;
            v.postback_url = postback_url;
            v
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
    /// cookie and redirect. `prior_token` is the token the visitor already carries;
    /// `user_agent` the request's `User-Agent` header ("" when it had none): a bot's
    /// click lands with no token and counts in `bot_clicks`.
    #[pyo3(signature = (url, *, prior_token = None, user_agent = None))]
    fn click(
        &self,
        py: Python<'_>,
        url: &str,
        prior_token: Option<&str>,
        user_agent: Option<&str>,
    ) -> Result<Click> {
        let landing = py
            .detach(|| self.inner.visit(url, prior_token, user_agent))
            .map_err(|r| r.error)?;
        Ok(match landing {
            core::Landing::Click(c) => Click {
                bot: false,
                click_id: Some(c.click_id.to_string()),
                token: Some(c.token),
                set_cookie: c.set_cookie,
                location: c.location,
                unique: c.unique,
                kept_earlier: c.kept_earlier,
                dropped_sid: c.dropped_sid,
                refused_to: c.refused_to.map(|e| e.to_string()),
            },
            core::Landing::Bot {
                location,
                refused_to,
            } => Click {
                bot: true,
                click_id: None,
                token: None,
                set_cookie: None,
                location,
                unique: false,
                kept_earlier: false,
                dropped_sid: false,
                refused_to: refused_to.map(|e| e.to_string()),
            },
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
        let req = {
            let mut v = core::ConversionRequest::default();
            v.order_id = order_id;
            // Left out: the core's rule (a lead or an action is 0, a sale must say).
            v.amount = opt_decimal_text("amount", amount)?.unwrap_or_default();
            v.currency = currency;
            v.kind = kind.to_owned();
            v.token = token;
            v.click_id = click_id;
            v.coupon = coupon;
            v.customer_id = customer_id;
            v.campaign = campaign;
            v
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
        let req = {
            let mut v = core::ManualConversion::default();
            v.order_id = order_id;
            // Left out: the core's rule (a lead or an action is 0, a sale must say).
            v.amount = opt_decimal_text("amount", amount)?.unwrap_or_default();
            v.currency = currency;
            v.kind = kind.to_owned();
            v.campaign = campaign;
            v.partner = partner;
            v.ad = ad;
            v.sid = sid;
            v.customer_id = customer_id;
            v
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
    /// `unique_clicks`, `bot_clicks`, `impressions`, `leads`, `sales`, and `revenue` and
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
        let query = self.stats_query(&group_by, from_day, to_day, campaign, partner)?;
        let rows = py.detach(|| self.inner.stats(&query))?;
        let mut out = Vec::with_capacity(rows.len());
        for row in rows {
            let d = PyDict::new(py);
            for (dim, value) in &row.group {
                d.set_item(dim.as_str(), value)?;
            }
            d.set_item("clicks", row.clicks)?;
            d.set_item("unique_clicks", row.unique_clicks)?;
            d.set_item("bot_clicks", row.bot_clicks)?;
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
    m.add_class::<Click>()?;
    m.add_class::<Commission>()?;
    m.add_class::<Conversion>()?;
    m.add_class::<Tracker>()?;
    Ok(())
}
