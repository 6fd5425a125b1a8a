//! The landing step from Python: `tracker.landing(method, path, query)`, which the
//! WSGI and ASGI middleware (`affiliate_sdk.wsgi`, `affiliate_sdk.asgi`) call for
//! every request.

use pyo3::prelude::*;

use crate::Result;
use crate::tracker::Tracker;

/// A landing with a fresh, valid token: the `302` the shop answers.
#[pyclass(frozen, module = "affiliate_sdk")]
pub(crate) struct LandingRedirect(affiliate_sdk::LandingRedirect);

#[pymethods]
impl LandingRedirect {
    /// The same page without the token: a path and query on the shop's own site.
    #[getter]
    fn location(&self) -> &str {
        &self.0.location
    }

    /// The `Set-Cookie` value: the token until its expiry, `HttpOnly`, first-party.
    #[getter]
    fn set_cookie(&self) -> &str {
        &self.0.set_cookie
    }

    /// The status: 302.
    #[getter]
    fn status(&self) -> u16 {
        affiliate_sdk::LandingRedirect::STATUS
    }

    /// `[("Location", …), ("Set-Cookie", …), ("Cache-Control", "no-store")]`.
    #[getter]
    fn headers(&self) -> Vec<(&'static str, String)> {
        self.0
            .headers()
            .into_iter()
            .map(|(name, value)| (name, value.to_owned()))
            .collect()
    }

    fn __repr__(&self) -> String {
        // The cookie holds the visitor's token: not for logs.
        format!(
            "LandingRedirect(location={})",
            crate::repr_str(Some(&self.0.location))
        )
    }
}

#[pymethods]
impl Tracker {
    /// The landing step for one request: `method`, `path` (starting with `/`) and the
    /// raw `query` (no `?`). A `GET`/`HEAD` with a fresh, valid token in the landing
    /// parameter returns the `LandingRedirect` to send; `None` when there is no token;
    /// raises (`Expired`, `Malformed`, `InvalidSignature`, …) for a stale, forged or
    /// mangled token, which must change nothing: serve the page as asked.
    fn landing(&self, method: &str, path: &str, query: &str) -> Result<Option<LandingRedirect>> {
        Ok(self
            .inner
            .landing(method, path, query)?
            .map(LandingRedirect))
    }
}

pub(crate) fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_class::<LandingRedirect>()
}
