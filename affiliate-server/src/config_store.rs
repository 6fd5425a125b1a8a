//! The config file's `[store]` section: the PostgreSQL database several servers share
//! (absent: the embedded store in `data_dir`), and how long click records are kept.

use std::path::{Path, PathBuf};

use affiliate_sdk::DEFAULT_CLICK_RETENTION_DAYS;
use serde::Deserialize;

use crate::config::ConfigError;

/// `[store]`.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StoreSection {
    /// `postgres://user:password@host:port/database`: many servers share it. Absent:
    /// the embedded store in `data_dir`.
    url: Option<String>,
    /// A file holding the URL (it may carry the database password).
    url_file: Option<PathBuf>,
    /// With `?sslmode=require` in `url`: a PEM file of the CA the database's
    /// certificate must chain to, instead of the public roots.
    ca_file: Option<PathBuf>,
    /// Click records older than this many days are pruned (the day counters and the
    /// reports stay); at least the longest campaign window is kept anyway.
    #[serde(default = "default_retention")]
    click_retention_days: u32,
}

fn default_retention() -> u32 {
    DEFAULT_CLICK_RETENTION_DAYS
}

/// The `[store]` section, checked.
pub struct Store {
    /// The PostgreSQL URL, if any. May hold a password: never printed.
    pub url: Option<String>,
    /// The PEM text of the database's CA.
    pub ca: Option<String>,
    /// Days click records are kept.
    pub click_retention_days: u32,
}

/// Checks `[store]` of the config `file`.
pub fn parse(file: &Path, section: Option<StoreSection>) -> Result<Store, ConfigError> {
    let err = |field: &str, msg: &dyn std::fmt::Display| ConfigError::new(file, field, msg);
    let Some(st) = section else {
        return Ok(Store {
            url: None,
            ca: None,
            click_retention_days: DEFAULT_CLICK_RETENTION_DAYS,
        });
    };
    if !(1..=36_500).contains(&st.click_retention_days) {
        return Err(err(
            "store.click_retention_days",
            &"must be 1 to 36500 (days)",
        ));
    }
    let url_text = crate::secrets::one_of(file, "store.url", st.url, st.url_file.as_deref())?;
    let Some(url_text) = url_text else {
        if st.ca_file.is_some() {
            return Err(err("store.ca_file", &"given without store.url"));
        }
        return Ok(Store {
            url: None,
            ca: None,
            click_retention_days: st.click_retention_days,
        });
    };
    // Checked without echoing it: the URL may carry a password.
    let url = url::Url::parse(&url_text)
        .ok()
        .filter(|u| matches!(u.scheme(), "postgres" | "postgresql") && u.host().is_some())
        .ok_or_else(|| {
            err(
                "store.url",
                &"expected postgres://user:password@host:port/database",
            )
        })?;
    let ca = match &st.ca_file {
        None => None,
        Some(ca) => {
            if !url
                .query_pairs()
                .any(|(k, v)| k == "sslmode" && v == "require")
            {
                return Err(err(
                    "store.ca_file",
                    &"given, but store.url does not ask for TLS: add ?sslmode=require",
                ));
            }
            let path = file.parent().unwrap_or(Path::new(".")).join(ca);
            let pem = std::fs::read_to_string(&path)
                .map_err(|e| err("store.ca_file", &format_args!("{}: {e}", path.display())))?;
            if !pem.contains("-----BEGIN CERTIFICATE-----") {
                return Err(err(
                    "store.ca_file",
                    &format_args!("{}: no PEM certificate in it", path.display()),
                ));
            }
            Some(pem)
        }
    };
    Ok(Store {
        url: Some(url_text),
        ca,
        click_retention_days: st.click_retention_days,
    })
}
