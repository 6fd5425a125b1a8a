//! The TOML config file: loading, validation (every error names the file and the
//! field), the tracker it describes, and the demo config `demo` writes.

use std::collections::BTreeMap;
use std::fmt;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use affiliate_sdk::{
    CampaignSpec, CookieConfig, Key, Keyring, LinkSigner, PartnerSpec, Store, Tracker,
};
use serde::Deserialize;

/// The shortest API key accepted. `affiliate-server keygen` prints 43 characters.
pub const MIN_API_KEY_LEN: usize = 16;

/// A config problem: the file, the field and what is wrong. Never holds a key.
#[derive(Debug)]
pub struct ConfigError {
    file: PathBuf,
    field: String,
    message: String,
}

impl ConfigError {
    pub(crate) fn new(
        file: &Path,
        field: impl Into<String>,
        message: impl fmt::Display,
    ) -> ConfigError {
        ConfigError {
            file: file.to_owned(),
            field: field.into(),
            message: message.to_string(),
        }
    }
}

impl fmt::Display for ConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.field.is_empty() {
            write!(f, "{}: {}", self.file.display(), self.message)
        } else {
            write!(
                f,
                "{}: {}: {}",
                self.file.display(),
                self.field,
                self.message
            )
        }
    }
}

impl std::error::Error for ConfigError {}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct FileConfig {
    server: ServerSection,
    #[serde(default)]
    store: Option<crate::config_store::StoreSection>,
    keys: BTreeMap<String, String>,
    #[serde(default)]
    campaign: Vec<CampaignSpec>,
    #[serde(default)]
    partner: Vec<PartnerSpec>,
    #[serde(default)]
    events: crate::delivery::EventsSection,
    #[serde(default)]
    webhook: Vec<crate::delivery::WebhookSection>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ServerSection {
    listen: String,
    public_url: String,
    #[serde(default = "default_data_dir")]
    data_dir: PathBuf,
    #[serde(default)]
    api_keys: Vec<String>,
    /// A file with more API keys, one per line.
    api_keys_file: Option<PathBuf>,
    #[serde(default)]
    cookie_domain: String,
    #[serde(default)]
    allowed_origins: Vec<String>,
    #[serde(default = "default_max_connections")]
    max_connections: usize,
    #[serde(default = "default_grace")]
    shutdown_grace_seconds: u64,
    #[serde(default = "default_buffer")]
    click_buffer_bytes: usize,
    #[serde(default = "default_sids")]
    max_sids_per_day: usize,
}

fn default_buffer() -> usize {
    affiliate_sdk::store::DEFAULT_CLICK_BUFFER_BYTES
}

fn default_sids() -> usize {
    affiliate_sdk::store::DEFAULT_MAX_SIDS_PER_DAY
}

/// Default `max_connections`.
pub const DEFAULT_MAX_CONNECTIONS: usize = 10_000;
/// Default `shutdown_grace_seconds`.
pub const DEFAULT_SHUTDOWN_GRACE_SECONDS: u64 = 10;

fn default_max_connections() -> usize {
    DEFAULT_MAX_CONNECTIONS
}

fn default_grace() -> u64 {
    DEFAULT_SHUTDOWN_GRACE_SECONDS
}

fn default_data_dir() -> PathBuf {
    PathBuf::from("./affiliate-data")
}

/// A loaded and validated config.
pub struct Config {
    /// The file it came from.
    pub file: PathBuf,
    /// The address to listen on (port 0 picks a free one).
    pub listen: SocketAddr,
    /// The public base URL, without a trailing slash; links are `{public_url}/go/…`.
    pub public_url: String,
    /// The path part of `public_url` without a trailing slash (empty at the root).
    pub public_path: String,
    /// Where the store lives (relative paths are relative to the config file).
    pub data_dir: PathBuf,
    /// Bearer keys for `/v1/*`.
    pub api_keys: Vec<String>,
    /// CORS origins for `/v1/conversions`, as `scheme://host[:port]`.
    pub allowed_origins: Vec<String>,
    /// `[store] url`: a PostgreSQL database shared by several servers; `None` keeps
    /// the embedded store in `data_dir`. May hold a password: never printed.
    pub store_url: Option<String>,
    /// `[store] ca_file`, read: the PEM text of the database's CA.
    pub store_ca: Option<String>,
    /// `[store] click_retention_days`: click records older than this are pruned.
    pub click_retention_days: u32,
    /// Most connections open at once.
    pub max_connections: usize,
    /// How long requests in flight may take to finish at shutdown.
    pub shutdown_grace: std::time::Duration,
    /// The store's memory bounds (`click_buffer_bytes`, `max_sids_per_day`).
    pub store_limits: affiliate_sdk::store::StoreLimits,
    keyring: Keyring,
    cookie: CookieConfig,
    campaigns: Vec<CampaignSpec>,
    partners: Vec<PartnerSpec>,
    /// `[events]`.
    pub events: crate::delivery::EventsSection,
    webhooks: Vec<affiliate_sdk::outbound::Webhook>,
}

impl fmt::Debug for Config {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Config")
            .field("file", &self.file)
            .field("listen", &self.listen)
            .field("public_url", &self.public_url)
            .field("data_dir", &self.data_dir)
            .field(
                "store_url",
                &self.store_url.as_ref().map(|_| format_args!("[redacted]")),
            )
            .field(
                "api_keys",
                &format_args!("[{} redacted]", self.api_keys.len()),
            )
            .finish_non_exhaustive()
    }
}

impl Config {
    /// Reads and validates `file`.
    pub fn load(file: &Path) -> Result<Config, ConfigError> {
        let text = std::fs::read_to_string(file)
            .map_err(|e| ConfigError::new(file, "", format!("cannot read: {e}")))?;
        Config::parse(file, &text)
    }

    /// Validates `text`, the contents of `file`.
    pub fn parse(file: &Path, text: &str) -> Result<Config, ConfigError> {
        let raw: FileConfig = toml::from_str(text).map_err(|e| {
            // toml's message names the key and shows the line.
            ConfigError::new(file, "", e.to_string().trim_end())
        })?;
        let s = raw.server;
        let err = |field: &str, msg: &dyn fmt::Display| ConfigError::new(file, field, msg);

        let listen: SocketAddr = s.listen.parse().map_err(|_| {
            err(
                "server.listen",
                &"expected an address such as 127.0.0.1:8080",
            )
        })?;

        let url = url::Url::parse(&s.public_url)
            .map_err(|e| err("server.public_url", &format!("not an absolute URL ({e})")))?;
        if !matches!(url.scheme(), "http" | "https")
            || url.host().is_none()
            || url.query().is_some()
            || url.fragment().is_some()
            || !url.username().is_empty()
            || url.password().is_some()
        {
            return Err(err(
                "server.public_url",
                &"expected http(s)://host[:port][/path] without query, fragment or credentials",
            ));
        }
        let public_url = url.as_str().trim_end_matches('/').to_owned();
        let public_path = url.path().trim_end_matches('/').to_owned();

        let mut api_keys = s.api_keys;
        if let Some(path) = &s.api_keys_file {
            let text = crate::secrets::read(file, "server.api_keys_file", path)?;
            api_keys.extend(
                text.lines()
                    .map(str::trim)
                    .filter(|l| !l.is_empty())
                    .map(str::to_owned),
            );
        }
        if api_keys.is_empty() {
            return Err(err(
                "server.api_keys",
                &"at least one key is needed for /v1/* (api_keys or api_keys_file); \
                  `affiliate-server keygen` prints one",
            ));
        }
        for (i, k) in api_keys.iter().enumerate() {
            if k.len() < MIN_API_KEY_LEN
                || k.len() > 256
                || !k.bytes().all(|b| b.is_ascii_graphic())
            {
                return Err(err(
                    &format!("server.api_keys[{i}]"),
                    &format!(
                        "must be {MIN_API_KEY_LEN} to 256 printable characters without spaces; \
                         `affiliate-server keygen` prints one"
                    ),
                ));
            }
        }

        let mut allowed_origins = Vec::new();
        for (i, o) in s.allowed_origins.iter().enumerate() {
            let field = format!("server.allowed_origins[{i}]");
            let parsed =
                url::Url::parse(o).map_err(|e| err(&field, &format!("not an origin ({e})")))?;
            let origin = parsed.origin().ascii_serialization();
            if !matches!(parsed.scheme(), "http" | "https") || origin != o.trim_end_matches('/') {
                return Err(err(
                    &field,
                    &"expected an origin such as https://shop.example (scheme, host, optional port)",
                ));
            }
            allowed_origins.push(origin);
        }

        let cookie = CookieConfig::new()
            .secure(url.scheme() == "https")
            .domain(&s.cookie_domain)
            .map_err(|e| err("server.cookie_domain", &e))?;

        let current = raw
            .keys
            .get("current")
            .ok_or_else(|| err("keys.current", &"missing: name the key id that signs"))?;
        // `k1 = "…"` inline, or `k1_file = "path"` (container and systemd credentials).
        let mut texts: BTreeMap<String, String> = BTreeMap::new();
        for (name, value) in raw.keys.iter().filter(|(k, _)| *k != "current") {
            let field = format!("keys.{name}");
            let (kid, text) = match name.strip_suffix("_file") {
                Some(kid) => (kid, crate::secrets::read(file, &field, Path::new(value))?),
                None => (name.as_str(), value.clone()),
            };
            if texts.insert(kid.to_owned(), text).is_some() {
                return Err(err(
                    &format!("keys.{kid}"),
                    &format!("given twice: keep {kid} or {kid}_file"),
                ));
            }
        }
        let mut keys = Vec::new();
        for (kid, text) in &texts {
            // Validate one by one so the error names the key id (never the key).
            Key::from_base64(text).map_err(|e| err(&format!("keys.{kid}"), &e))?;
            keys.push((kid.as_str(), text.as_str()));
        }
        if keys.is_empty() {
            return Err(err(
                "keys",
                &"no keys: add one such as k1 = \"…\" (`affiliate-server keygen` prints one)",
            ));
        }
        let keyring = Keyring::from_base64(keys, current).map_err(|e| err("keys", &e))?;

        let store = crate::config_store::parse(file, raw.store)?;

        let data_dir = if s.data_dir.is_absolute() {
            s.data_dir
        } else {
            file.parent().unwrap_or(Path::new(".")).join(s.data_dir)
        };
        // `dir/./x` → `dir/x` (leading `..` and `.` stay).
        let data_dir: PathBuf = data_dir.components().collect();

        if !(1..=1_000_000).contains(&s.max_connections) {
            return Err(err("server.max_connections", &"must be 1 to 1000000"));
        }
        if s.shutdown_grace_seconds > 3600 {
            return Err(err(
                "server.shutdown_grace_seconds",
                &"must be at most 3600",
            ));
        }
        if !(1024 * 1024..=64 * 1024 * 1024 * 1024).contains(&s.click_buffer_bytes) {
            return Err(err("server.click_buffer_bytes", &"must be 1 MiB to 64 GiB"));
        }
        if !(1..=1_000_000).contains(&s.max_sids_per_day) {
            return Err(err("server.max_sids_per_day", &"must be 1 to 1000000"));
        }
        raw.events.proxy().map_err(|e| err("events.proxy", &e))?;
        let mut webhooks = Vec::new();
        for (i, w) in raw.webhook.iter().enumerate() {
            let field = format!("webhook[{i}].secret");
            let secret =
                crate::secrets::one_of(file, &field, w.secret.clone(), w.secret_file.as_deref())?
                    .ok_or_else(|| err(&field, &"missing: secret or secret_file"))?;
            webhooks.push(
                w.webhook(&secret)
                    .map_err(|e| err(&format!("webhook[{i}]"), &e))?,
            );
        }
        let config = Config {
            events: raw.events,
            webhooks,
            store_limits: affiliate_sdk::store::StoreLimits {
                click_buffer_bytes: s.click_buffer_bytes,
                max_sids_per_day: s.max_sids_per_day,
            },
            max_connections: s.max_connections,
            shutdown_grace: std::time::Duration::from_secs(s.shutdown_grace_seconds),
            file: file.to_owned(),
            listen,
            public_url,
            public_path,
            data_dir,
            api_keys,
            allowed_origins,
            store_url: store.url,
            store_ca: store.ca,
            click_retention_days: store.click_retention_days,
            keyring,
            cookie,
            campaigns: raw.campaign,
            partners: raw.partner,
        };
        // Campaigns and partners are checked by building a tracker over nothing.
        config.tracker(Arc::new(affiliate_sdk::MemoryStore::new()))?;
        Ok(config)
    }

    /// The link signer: links are `{public_url}/go/{campaign}/{partner}[/{ad}]?sig=…`.
    pub fn signer(&self) -> Result<LinkSigner, ConfigError> {
        LinkSigner::new(self.keyring.clone(), &format!("{}/go", self.public_url))
            .map_err(|e| ConfigError::new(&self.file, "server.public_url", e))
    }

    /// The tracker this config describes, over `store`.
    pub fn tracker(&self, store: Arc<dyn Store>) -> Result<Tracker, ConfigError> {
        let tracker = Tracker::new(self.signer()?, store).with_cookie(self.cookie.clone());
        tracker.allow_private_destinations(self.events.allow_private_destinations);
        // What the store holds (added through any server), then the file's entries.
        tracker.refresh().map_err(|e| {
            ConfigError::new(
                &self.file,
                "",
                format_args!("the store's campaigns and partners: {e}"),
            )
        })?;
        // The file's entries, checked together and written in one go; they are the
        // file's to change (the API refuses them).
        let entry_error = |e: affiliate_sdk::ConfigEntryError| match &e.entry {
            Some((kind, i, code)) => ConfigError::new(
                &self.file,
                format!("{}[{i}] ({code:?})", kind.as_str()),
                e.error,
            ),
            None => ConfigError::new(&self.file, "", e.error),
        };
        tracker
            .apply_config(&self.campaigns, &self.partners)
            .map_err(entry_error)?;
        tracker
            .apply_config_webhooks(&self.webhooks)
            .map_err(entry_error)?;
        Ok(tracker)
    }
}

pub use crate::demo::demo_toml;

#[cfg(test)]
mod tests;
