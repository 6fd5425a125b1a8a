//! Stateless classes: `Keyring`, `LinkSigner`, `Link`, `Session` and the cookie
//! helpers. Nothing here touches a store.

use std::collections::BTreeMap;

use affiliate_sdk as core;
use pyo3::prelude::*;
use pyo3::types::PyType;

use crate::values::{count, datetime, decimal_text, unix_secs};
use crate::{Result, repr_str};

/// Signing and verifying keys: the current one signs, every one verifies.
#[pyclass(frozen, module = "affiliate_sdk")]
pub(crate) struct Keyring {
    pub(crate) inner: core::Keyring,
}

#[pymethods]
impl Keyring {
    #[new]
    #[pyo3(signature = (keys, current))]
    fn new(keys: BTreeMap<String, String>, current: &str) -> Result<Keyring> {
        let inner = core::Keyring::from_base64(
            keys.iter().map(|(k, v)| (k.as_str(), v.as_str())),
            current,
        )?;
        Ok(Keyring { inner })
    }

    /// A ring with one fresh random key under `kid`.
    #[classmethod]
    #[pyo3(signature = (kid = "k1"))]
    fn generate(_cls: &Bound<'_, PyType>, kid: &str) -> Result<Keyring> {
        Ok(Keyring {
            inner: core::Keyring::new(kid, core::Key::generate()?)?,
        })
    }

    /// The id of the signing key.
    #[getter]
    fn current(&self) -> String {
        self.inner.current_kid().to_string()
    }

    /// Every key id, in the order given.
    #[getter]
    fn kids(&self) -> Vec<String> {
        self.inner.kids().map(|k| k.to_string()).collect()
    }

    /// The keys as `{kid: base64url}`, to store a generated ring. They are secrets.
    fn export_keys(&self) -> BTreeMap<String, String> {
        self.inner
            .kids()
            .filter_map(|k| {
                let key = self.inner.key(k.as_str())?;
                Some((k.to_string(), key.to_base64()))
            })
            .collect()
    }

    /// Signs a session token for these claims with the current key.
    #[pyo3(signature = (click_id, campaign, partner, ad = None, sid = None, *, issued_at, expires_at))]
    #[allow(clippy::too_many_arguments)]
    fn issue_token(
        &self,
        click_id: &str,
        campaign: &str,
        partner: &str,
        ad: Option<&str>,
        sid: Option<&str>,
        issued_at: &Bound<'_, PyAny>,
        expires_at: &Bound<'_, PyAny>,
    ) -> Result<String> {
        let claims = core::TokenClaims {
            click_id: click_id.parse()?,
            link: core::Link::parse(campaign, partner, ad, sid)?,
            issued_at: unix_secs("issued_at", issued_at)?,
            expires_at: unix_secs("expires_at", expires_at)?,
        };
        Ok(self.inner.issue_token(&claims)?)
    }

    /// Verifies a session token at `now` (default: the system clock) with `skew_secs`
    /// of clock skew allowed.
    #[pyo3(signature = (token, *, now = None, skew_secs = 60))]
    fn verify_token(
        &self,
        token: &str,
        now: Option<&Bound<'_, PyAny>>,
        skew_secs: i64,
    ) -> Result<Session> {
        let now = match now {
            Some(t) => unix_secs("now", t)?,
            None => core::Clock::now(&core::SystemClock),
        };
        let v = self.inner.verify_token_with(
            token,
            now,
            &core::TokenValidation {
                skew_secs: count("skew_secs", skew_secs)?,
            },
        )?;
        Ok(Session { claims: v.claims() })
    }

    /// Signs an order with the current key: the `osig` the confirmation page passes to
    /// the snippet (`signature`) or the pixel (`&osig=`). `amount` is a decimal `str`
    /// or a `Decimal`; `"49.9"` and `"49.90"` sign alike.
    #[pyo3(signature = (order_id, amount, currency, kind = "sale"))]
    fn sign_order(
        &self,
        order_id: &str,
        amount: &Bound<'_, PyAny>,
        currency: &str,
        kind: &str,
    ) -> Result<String> {
        let amount = decimal_text("amount", amount)?;
        Ok(self.inner.sign_order(order_id, &amount, currency, kind)?)
    }

    fn __repr__(&self) -> String {
        let kids: Vec<String> = self.kids().iter().map(|k| repr_str(Some(k))).collect();
        format!(
            "Keyring(current={}, kids=[{}])",
            repr_str(Some(&self.current())),
            kids.join(", ")
        )
    }
}

/// Builds and verifies signed tracking links under a base URL.
#[pyclass(frozen, module = "affiliate_sdk")]
pub(crate) struct LinkSigner {
    inner: core::LinkSigner,
}

#[pymethods]
impl LinkSigner {
    #[new]
    #[pyo3(signature = (keys, base_url))]
    fn new(keys: &Keyring, base_url: &str) -> Result<LinkSigner> {
        Ok(LinkSigner {
            inner: core::LinkSigner::new(keys.inner.clone(), base_url)?,
        })
    }

    /// The base URL links are built under.
    #[getter]
    fn base_url(&self) -> &str {
        self.inner.base_url()
    }

    /// The signed link `{base}/{campaign}/{partner}[/{ad}]?sig=…[&sid=…]`.
    #[pyo3(signature = (campaign, partner, ad = None, sid = None))]
    fn build(
        &self,
        campaign: &str,
        partner: &str,
        ad: Option<&str>,
        sid: Option<&str>,
    ) -> Result<String> {
        Ok(self.inner.build(campaign, partner, ad, sid)?)
    }

    /// Verifies a link (a partner's `sid` and unrelated parameters may be appended).
    fn verify(&self, url: &str) -> Result<Link> {
        Ok(Link(self.inner.verify(url)?))
    }

    fn __repr__(&self) -> String {
        format!(
            "LinkSigner(base_url={})",
            repr_str(Some(self.inner.base_url()))
        )
    }
}

/// What a verified link names.
#[pyclass(frozen, eq, hash, module = "affiliate_sdk")]
#[derive(PartialEq, Eq, Hash)]
pub(crate) struct Link(core::Link);

#[pymethods]
impl Link {
    #[getter]
    fn campaign(&self) -> &str {
        self.0.campaign.as_str()
    }
    #[getter]
    fn partner(&self) -> &str {
        self.0.partner.as_str()
    }
    #[getter]
    fn ad(&self) -> Option<&str> {
        self.0.ad.as_ref().map(core::Code::as_str)
    }
    #[getter]
    fn sid(&self) -> Option<&str> {
        self.0.sid.as_ref().map(core::Sid::as_str)
    }
    fn __repr__(&self) -> String {
        format!(
            "Link(campaign={}, partner={}, ad={}, sid={})",
            repr_str(Some(self.campaign())),
            repr_str(Some(self.partner())),
            repr_str(self.ad()),
            repr_str(self.sid())
        )
    }
}

/// A verified session token's claims.
#[pyclass(frozen, eq, module = "affiliate_sdk")]
#[derive(PartialEq, Eq)]
pub(crate) struct Session {
    pub(crate) claims: core::TokenClaims,
}

#[pymethods]
impl Session {
    /// The click the token carries.
    #[getter]
    fn click_id(&self) -> String {
        self.claims.click_id.to_string()
    }
    #[getter]
    fn campaign(&self) -> &str {
        self.claims.link.campaign.as_str()
    }
    #[getter]
    fn partner(&self) -> &str {
        self.claims.link.partner.as_str()
    }
    #[getter]
    fn ad(&self) -> Option<&str> {
        self.claims.link.ad.as_ref().map(core::Code::as_str)
    }
    #[getter]
    fn sid(&self) -> Option<&str> {
        self.claims.link.sid.as_ref().map(core::Sid::as_str)
    }
    /// When the click happened (aware UTC datetime).
    #[getter]
    fn issued_at<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        datetime(py, self.claims.issued_at)
    }
    /// When the attribution window ends (aware UTC datetime).
    #[getter]
    fn expires_at<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        datetime(py, self.claims.expires_at)
    }
    fn __repr__(&self) -> String {
        format!(
            "Session(click_id={}, campaign={}, partner={}, ad={}, sid={}, expires_at={})",
            repr_str(Some(&self.click_id())),
            repr_str(Some(self.campaign())),
            repr_str(Some(self.partner())),
            repr_str(self.ad()),
            repr_str(self.sid()),
            self.claims.expires_at
        )
    }
}

/// The token in a `Cookie` request header, or `None`; malformed neighbours are
/// skipped, headers over 8 KiB refused.
#[pyfunction]
#[pyo3(signature = (header, name = "aff_token"))]
fn parse_cookie_header(header: &str, name: &str) -> Result<Option<String>> {
    Ok(core::parse_cookie_header(header, name)?.map(str::to_owned))
}

/// The `Set-Cookie` value carrying `token` for `max_age` seconds:
/// `Path=/; HttpOnly; SameSite=Lax`, plus `Secure` and `Domain` when asked.
#[pyfunction]
#[pyo3(signature = (token, max_age, *, name = "aff_token", domain = None, secure = false))]
fn set_cookie_header(
    token: &str,
    max_age: i64,
    name: &str,
    domain: Option<&str>,
    secure: bool,
) -> Result<String> {
    let config = core::CookieConfig::new()
        .name(name)?
        .domain(domain.unwrap_or(""))?
        .secure(secure);
    Ok(config.set_cookie(token, count("max_age", max_age)?)?)
}

pub(crate) fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_class::<Keyring>()?;
    m.add_class::<LinkSigner>()?;
    m.add_class::<Link>()?;
    m.add_class::<Session>()?;
    m.add_function(wrap_pyfunction!(parse_cookie_header, m)?)?;
    m.add_function(wrap_pyfunction!(set_cookie_header, m)?)?;
    Ok(())
}
