//! The stores (`MemoryStore`, `SledStore`, `PostgresStore`) and the test clock a
//! `Tracker` is built with.

use std::path::PathBuf;
use std::sync::Arc;

use affiliate_sdk as core;
use pyo3::exceptions::PyTypeError;
use pyo3::prelude::*;

use crate::values::{count, datetime, unix_secs};
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
/// directory at a time (another gets a `StoreError` that says so: several processes
/// share a `PostgresStore`); the store closes when the last object using it is gone.
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

/// A PostgreSQL database shared by any number of trackers, processes and servers
/// (gunicorn or uWSGI workers, `affiliate-server`): the store for a shop that runs
/// more than one process. `url` is a libpq URL
/// (`postgres://user:password@host/db?sslmode=require`); with `ca_file`, a PEM file of
/// the CA the server's certificate must chain to (then the URL must ask for TLS). The
/// schema is created or migrated on open. The URL is never shown (`repr` hides it).
#[pyclass(frozen, module = "affiliate_sdk")]
pub(crate) struct PostgresStore {
    inner: Arc<dyn core::Store>,
}

#[pymethods]
impl PostgresStore {
    #[new]
    #[pyo3(signature = (url, ca_file = None))]
    fn new(py: Python<'_>, url: &str, ca_file: Option<PathBuf>) -> Result<PostgresStore> {
        let ca = match &ca_file {
            Some(path) => Some(std::fs::read_to_string(path).map_err(|e| {
                core::Error::Store(format!("cannot read ca_file {}: {e}", path.display()))
            })?),
            None => None,
        };
        let store = py.detach(|| core::PostgresStore::open_with_ca(url, ca.as_deref()))?;
        Ok(PostgresStore {
            inner: Arc::new(store),
        })
    }

    fn __repr__(&self) -> &'static str {
        "PostgresStore(…)"
    }
}

/// A clock that moves only when told: tests of windows, skew and minimum times.
#[pyclass(frozen, module = "affiliate_sdk")]
pub(crate) struct FixedClock {
    pub(crate) inner: Arc<core::FixedClock>,
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

pub(crate) fn store_of(store: &Bound<'_, PyAny>) -> Result<Arc<dyn core::Store>> {
    if let Ok(s) = store.cast::<MemoryStore>() {
        return Ok(s.get().inner.clone());
    }
    if let Ok(s) = store.cast::<SledStore>() {
        return Ok(s.get().inner.clone());
    }
    if let Ok(s) = store.cast::<PostgresStore>() {
        return Ok(s.get().inner.clone());
    }
    let type_name = store.get_type().name()?;
    Err(PyTypeError::new_err(format!(
        "store must be a MemoryStore, SledStore or PostgresStore, not {type_name}"
    ))
    .into())
}

pub(crate) fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_class::<MemoryStore>()?;
    m.add_class::<SledStore>()?;
    m.add_class::<PostgresStore>()?;
    m.add_class::<FixedClock>()?;
    Ok(())
}
