//! Conversions between Python values and the core's: amounts (`str` or `Decimal` in,
//! `Decimal` out), times (`int` Unix seconds or an aware `datetime` in, aware UTC
//! `datetime` out) and days (`date` or `"YYYY-MM-DD"`).

use pyo3::exceptions::PyTypeError;
use pyo3::prelude::*;
use pyo3::sync::PyOnceLock;
use pyo3::types::{PyFloat, PyInt, PyString, PyType};

use crate::{Result, malformed};

static DECIMAL: PyOnceLock<Py<PyType>> = PyOnceLock::new();
static DATETIME: PyOnceLock<Py<PyType>> = PyOnceLock::new();
static DATE: PyOnceLock<Py<PyType>> = PyOnceLock::new();
static UTC: PyOnceLock<Py<PyAny>> = PyOnceLock::new();

/// An amount or percentage as the decimal text the core parses: a `str` as is, a
/// finite `Decimal` in plain notation. Floats (and everything else) are refused: a
/// float cannot hold `49.90` exactly.
pub(crate) fn decimal_text(name: &str, value: &Bound<'_, PyAny>) -> Result<String> {
    let py = value.py();
    if value.is_instance_of::<PyString>() {
        return Ok(value.extract()?);
    }
    if value.is_instance(DECIMAL.import(py, "decimal", "Decimal")?)? {
        if !value.call_method0("is_finite")?.is_truthy()? {
            return Err(malformed("amount", "must be a finite decimal"));
        }
        return Ok(value.call_method1("__format__", ("f",))?.extract()?);
    }
    let hint = if value.is_instance_of::<PyFloat>() {
        ": a float cannot hold money exactly; pass a str such as \"49.90\" or a decimal.Decimal"
    } else {
        ""
    };
    let type_name = value.get_type().name()?;
    Err(PyTypeError::new_err(format!(
        "{name} must be a str or decimal.Decimal, not {type_name}{hint}"
    ))
    .into())
}

/// Like [`decimal_text`] for an optional argument.
pub(crate) fn opt_decimal_text(
    name: &str,
    value: Option<&Bound<'_, PyAny>>,
) -> Result<Option<String>> {
    value
        .filter(|v| !v.is_none())
        .map(|v| decimal_text(name, v))
        .transpose()
}

/// The core's decimal text as a `decimal.Decimal`.
pub(crate) fn decimal<'py>(py: Python<'py>, text: &str) -> PyResult<Bound<'py, PyAny>> {
    DECIMAL.import(py, "decimal", "Decimal")?.call1((text,))
}

/// Unix seconds as an aware UTC `datetime`.
pub(crate) fn datetime(py: Python<'_>, unix_secs: u64) -> PyResult<Bound<'_, PyAny>> {
    let utc = UTC.get_or_try_init(py, || {
        Ok::<_, PyErr>(
            py.import("datetime")?
                .getattr("timezone")?
                .getattr("utc")?
                .unbind(),
        )
    })?;
    DATETIME
        .import(py, "datetime", "datetime")?
        .call_method1("fromtimestamp", (unix_secs, utc.bind(py)))
}

/// A point in time given as non-negative `int` Unix seconds or a timezone-aware
/// `datetime` (a naive one is refused: it names no instant).
pub(crate) fn unix_secs(name: &str, value: &Bound<'_, PyAny>) -> Result<u64> {
    let py = value.py();
    if value.is_instance_of::<PyInt>() && !value.is_instance_of::<pyo3::types::PyBool>() {
        return value.extract::<u64>().map_err(|_| {
            malformed_owned("time", format!("{name} must be a non-negative Unix time"))
        });
    }
    if value.is_instance(DATETIME.import(py, "datetime", "datetime")?)? {
        if value.call_method0("utcoffset")?.is_none() {
            return Err(malformed_owned(
                "time",
                format!("{name} is a naive datetime; pass a timezone-aware one"),
            ));
        }
        // Whole seconds, without a float: calendar.timegm(dt.utctimetuple()).
        let tuple = value.call_method0("utctimetuple")?;
        let secs = py.import("calendar")?.call_method1("timegm", (tuple,))?;
        return secs
            .extract::<u64>()
            .map_err(|_| malformed_owned("time", format!("{name} is before 1970")));
    }
    let type_name = value.get_type().name()?;
    Err(PyTypeError::new_err(format!(
        "{name} must be an int (Unix seconds) or an aware datetime, not {type_name}"
    ))
    .into())
}

/// A count of seconds, days or months given as a Python `int`: non-negative and
/// within `T`, or a `malformed` error naming the argument.
pub(crate) fn count<T: TryFrom<i64>>(field: &'static str, value: i64) -> Result<T> {
    T::try_from(value).map_err(|_| {
        if value < 0 {
            malformed(field, "must not be negative")
        } else {
            malformed(field, "is too large")
        }
    })
}

/// A UTC day given as a `datetime.date` or `"YYYY-MM-DD"`, as the core's day number.
pub(crate) fn day(name: &str, value: &Bound<'_, PyAny>) -> Result<u32> {
    let py = value.py();
    let text: String = if value.is_instance_of::<PyString>() {
        value.extract()?
    } else if value.is_instance(DATE.import(py, "datetime", "date")?)?
        && !value.is_instance(DATETIME.import(py, "datetime", "datetime")?)?
    {
        value.call_method0("isoformat")?.extract()?
    } else {
        let type_name = value.get_type().name()?;
        return Err(PyTypeError::new_err(format!(
            "{name} must be a datetime.date or a \"YYYY-MM-DD\" str, not {type_name}"
        ))
        .into());
    };
    Ok(affiliate_sdk::parse_day(&text)?)
}

/// An optional day argument (`None` for Python's `None`) as `YYYY-MM-DD`.
pub(crate) fn opt_day_text(name: &str, v: Option<&Bound<'_, PyAny>>) -> Result<Option<String>> {
    v.filter(|v| !v.is_none())
        .map(|v| day(name, v).map(affiliate_sdk::format_day))
        .transpose()
}

fn malformed_owned(field: &'static str, reason: String) -> crate::Failure {
    crate::Failure::Core(affiliate_sdk::Error::Malformed {
        field,
        reason: reason.into(),
    })
}
