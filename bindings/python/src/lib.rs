//! The native half of the Python package `affiliate_sdk` (`affiliate_sdk._native`).
//!
//! Thin by design: each method converts its arguments ([`values`]), calls one function
//! of the core crate and converts the answer back. Errors of the core are raised as the
//! exception classes of `affiliate_sdk.errors` in one place ([`Failure`]). Store I/O
//! runs with the GIL released; every class is immutable from Python (`frozen`), so a
//! `Tracker` is shared between threads as is.

use pyo3::exceptions::PyTypeError;
use pyo3::prelude::*;
use pyo3::sync::PyOnceLock;
use pyo3::types::PyDict;

mod catalogue;
mod landing;
mod partner;
mod payouts;
mod postback;
mod privacy;
mod records;
mod review;
mod signing;
mod stores;
mod tracker;
mod traffic;
mod values;
mod webhooks;

/// What a native method can fail with: an error of the core (raised as its
/// `affiliate_sdk.errors` class) or a Python error met while converting arguments.
pub(crate) enum Failure {
    Core(affiliate_sdk::Error),
    Py(PyErr),
}

pub(crate) type Result<T> = std::result::Result<T, Failure>;

impl From<affiliate_sdk::Error> for Failure {
    fn from(e: affiliate_sdk::Error) -> Self {
        Failure::Core(e)
    }
}

impl From<PyErr> for Failure {
    fn from(e: PyErr) -> Self {
        Failure::Py(e)
    }
}

impl From<Failure> for PyErr {
    fn from(f: Failure) -> PyErr {
        match f {
            Failure::Py(e) => e,
            Failure::Core(e) => Python::attach(|py| raise(py, &e).unwrap_or_else(|err| err)),
        }
    }
}

/// The exception for a core error: `affiliate_sdk.errors.BY_CODE[code](message)`,
/// with `field` set on `Malformed`.
fn raise(py: Python<'_>, e: &affiliate_sdk::Error) -> PyResult<PyErr> {
    static BY_CODE: PyOnceLock<Py<PyDict>> = PyOnceLock::new();
    let table = BY_CODE.import(py, "affiliate_sdk.errors", "BY_CODE")?;
    let Some(class) = table.get_item(e.code())? else {
        return Ok(PyTypeError::new_err(format!(
            "affiliate_sdk: no exception class for error code {:?}",
            e.code()
        )));
    };
    let exc = class.call1((e.to_string(),))?;
    let field = match e {
        affiliate_sdk::Error::Malformed { field, .. } => Some(*field),
        affiliate_sdk::Error::Money(_) => Some("amount"),
        affiliate_sdk::Error::Key(_) => Some("key"),
        _ => None,
    };
    if let Some(field) = field {
        exc.setattr("field", field)?;
    }
    Ok(PyErr::from_value(exc))
}

/// A `malformed` error of the core for an argument checked here.
pub(crate) fn malformed(field: &'static str, reason: &'static str) -> Failure {
    Failure::Core(affiliate_sdk::Error::Malformed {
        field,
        reason: reason.into(),
    })
}

/// `'text'` or `None`, as Python's `repr` writes an optional str.
pub(crate) fn repr_str(s: Option<&str>) -> String {
    match s {
        Some(s) => format!("'{}'", s.escape_default()),
        None => "None".to_owned(),
    }
}

// The literal defaults in the Python signatures (`skew_secs = 60`, `cookie_days = 30`,
// `name = "aff_token"`; literals, so Python's `inspect.signature` shows them) are the
// core's.
const _: () = assert!(affiliate_sdk::DEFAULT_SKEW_SECS == 60);
const _: () = assert!(affiliate_sdk::DEFAULT_COOKIE_DAYS == 30);
const _: () = assert!(str_eq(affiliate_sdk::DEFAULT_COOKIE_NAME, "aff_token"));

const fn str_eq(a: &str, b: &str) -> bool {
    let (a, b) = (a.as_bytes(), b.as_bytes());
    if a.len() != b.len() {
        return false;
    }
    let mut i = 0;
    while i < a.len() {
        if a[i] != b[i] {
            return false;
        }
        i += 1;
    }
    true
}

#[pymodule]
fn _native(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add("__version__", env!("CARGO_PKG_VERSION"))?;
    m.add("DEFAULT_COOKIE_NAME", affiliate_sdk::DEFAULT_COOKIE_NAME)?;
    m.add("DEFAULT_COOKIE_DAYS", affiliate_sdk::DEFAULT_COOKIE_DAYS)?;
    m.add("DEFAULT_SKEW_SECS", affiliate_sdk::DEFAULT_SKEW_SECS)?;
    m.add("ERROR_CODES", affiliate_sdk::ERROR_CODES.to_vec())?;
    signing::register(m)?;
    stores::register(m)?;
    tracker::register(m)?;
    landing::register(m)?;
    Ok(())
}
