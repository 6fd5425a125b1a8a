//! The [`Tracker`]: the one entry point the server and the bindings call. It ties a
//! [`LinkSigner`], a [`Catalogue`] of campaigns and partners and a [`Store`]
//! together; each decision is made by the module that owns it (the click plan, the
//! attribution checks, the catalogue's commissions) and the tracker records it.
//! Conversions are in `conversions.rs`.

mod adjustments;
mod approval;
mod bell;
mod catalogue;
mod clicks;
mod config;
mod conversions;
mod deliveries;
mod housekeeping;
mod ledger;
mod meta_map;
mod partner;
mod partner_api;
mod postback_keys;
mod privacy;
mod record;
mod refunds;
mod review;
mod traffic;
mod webhooks;

pub use config::ConfigEntryError;
pub(crate) use config::Managed;
pub use deliveries::{DeliveryRound, MAX_DELIVERY_PAGE, OutboundRequest, SendOutcome, Transport};
pub use housekeeping::{Chore, ChoresDone, Housekeeping, HousekeepingSchedule};
pub use partner::PortalSession;
pub use postback_keys::{MAX_POSTBACK_KEYS, PostbackKey, parse_postback_query};
pub use privacy::{DEFAULT_CLICK_RETENTION_DAYS, PRUNE_CLICKS_MAX};
pub use traffic::{TRAFFIC_GRACE_SECS, TrafficClosed};

use std::sync::{Arc, PoisonError, RwLock, RwLockReadGuard};

use crate::attribution::stats::{StatsPage, aggregate, page};
use crate::attribution::{Campaign, Catalogue, Partner, StatsQuery, StatsRow};
use crate::click_id::ClickIdGenerator;
use crate::clock::{Clock, SystemClock};
use crate::cookie::{CookieConfig, DEFAULT_COOKIE_NAME};
use crate::error::{Error, Result};
use crate::link::LinkSigner;
use crate::store::{Store, day_of};
use crate::token::{TokenValidation, VerifiedToken};

/// Verifies clicks, issues tokens and attributes conversions over a [`Store`].
///
/// # Blocking
///
/// What a request's hot path calls does not block: verifying tokens and links, the
/// landing step ([`Tracker::landing`], [`Tracker::set_cookie_for`]), clicks and
/// impressions (their records go to the store's buffer; a background writer makes them
/// durable), and reading the program ([`Tracker::campaign`], [`Tracker::partner`]).
/// Every method whose docs say **Blocking** waits for the store (conversions, status
/// changes, reports, payouts, events, the program's changes): from async code, call it
/// through `tokio::task::spawn_blocking`, as the `affiliate_sdk::axum` docs show (feature
/// `axum`). A `Tracker` is `Send + Sync`: share it in an `Arc`.
///
/// ```
/// use std::sync::Arc;
/// use affiliate_sdk::{
///     CampaignSpec, ConversionRequest, FixedClock, Keyring, LinkSigner, MemoryStore,
///     PartnerSpec, Tracker,
/// };
/// let signer = LinkSigner::new(Keyring::generate()?, "https://t.shop.example/go")?;
/// let clock = Arc::new(FixedClock::from_secs(1_700_000_000));
/// let tracker = Tracker::new(signer, Arc::new(MemoryStore::new())).with_clock(clock.clone());
/// let mut campaign = CampaignSpec::new("haircare", "https://shop.example/hair", "USD");
/// campaign.sale_percent = Some("10".into());
/// tracker.add_campaign(&campaign)?;
/// tracker.add_partner(&PartnerSpec::new("abc123"))?;
///
/// let url = tracker.signer().build("haircare", "abc123", None, Some("kw1"))?;
/// let click = tracker.click(&url, None)?;
/// assert!(click.location.starts_with("https://shop.example/hair?aff_token=v1."));
///
/// clock.advance_secs(3_600);
/// let mut order = ConversionRequest::sale("A-1001", "49.90", "USD");
/// order.token = Some(click.token.clone());
/// let conv = tracker.convert(&order)?;
/// assert_eq!((conv.link.partner.as_str(), conv.commission().to_string()), ("abc123", "4.99".into()));
/// assert!(tracker.convert(&order)?.duplicate);
/// # Ok::<(), affiliate_sdk::Error>(())
/// ```
pub struct Tracker {
    signer: LinkSigner,
    store: Arc<dyn Store>,
    clock: Arc<dyn Clock>,
    cookie: CookieConfig,
    validation: TokenValidation,
    ids: ClickIdGenerator,
    catalogue: RwLock<Catalogue>,
    /// Serialises changes to the program (store write, then the snapshot), so the
    /// click path only ever waits for the snapshot's swap.
    program: std::sync::Mutex<()>,
    /// The store's program version the snapshot was loaded at.
    loaded_version: std::sync::atomic::AtomicU64,
    /// The campaigns and partners the configuration file manages.
    managed: RwLock<Managed>,
    /// The partner API keys, by the SHA-256 digest of the key.
    partner_keys: RwLock<std::collections::HashMap<String, crate::portal::PartnerKey>>,
    /// The postback keys, by the SHA-256 digest of the key.
    postback_keys: RwLock<std::collections::HashMap<String, PostbackKey>>,
    /// The webhook endpoints, and those the configuration file manages.
    webhooks: RwLock<Vec<crate::outbound::Webhook>>,
    managed_webhooks: RwLock<std::collections::HashSet<String>>,
    /// Whether outbound events may go to inward addresses.
    allow_private: std::sync::atomic::AtomicBool,
    /// Per partner, up to when its portal sessions are revoked.
    revoked_sessions: RwLock<std::collections::HashMap<crate::code::Code, u64>>,
    /// Per partner moved to another parent, when.
    moves: RwLock<std::collections::HashMap<crate::code::Code, u64>>,
    /// Rung when an event is written (see [`Tracker::wait_for_events`]).
    bell: crate::outbound::Bell,
}

impl std::fmt::Debug for Tracker {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Tracker")
            .field("signer", &self.signer)
            .finish_non_exhaustive()
    }
}

impl Tracker {
    /// A tracker signing with `signer` and recording into `store`, on the system clock,
    /// with the default cookie and a 60 s skew allowance.
    #[must_use]
    pub fn new(signer: LinkSigner, store: Arc<dyn Store>) -> Tracker {
        Tracker {
            signer,
            store,
            clock: Arc::new(SystemClock),
            cookie: CookieConfig::new(),
            validation: TokenValidation::default(),
            ids: ClickIdGenerator::new(),
            catalogue: RwLock::new(Catalogue::new(DEFAULT_COOKIE_NAME).unwrap_or_default()),
            program: std::sync::Mutex::new(()),
            loaded_version: std::sync::atomic::AtomicU64::new(0),
            managed: RwLock::new(Managed::default()),
            partner_keys: RwLock::default(),
            postback_keys: RwLock::default(),
            webhooks: RwLock::default(),
            managed_webhooks: RwLock::default(),
            allow_private: std::sync::atomic::AtomicBool::new(false),
            revoked_sessions: RwLock::default(),
            moves: RwLock::default(),
            bell: crate::outbound::Bell::default(),
        }
    }

    /// Uses `clock` for every time decision.
    #[must_use]
    pub fn with_clock(mut self, clock: Arc<dyn Clock>) -> Tracker {
        self.clock = clock;
        self
    }

    /// Uses `cookie` for the `Set-Cookie` values. The landing parameter is the
    /// cookie's name.
    #[must_use]
    pub fn with_cookie(mut self, cookie: CookieConfig) -> Tracker {
        let catalogue = self
            .catalogue
            .get_mut()
            .unwrap_or_else(PoisonError::into_inner);
        // A cookie name is a valid landing parameter (both are 1–64 token bytes).
        if catalogue.set_param(cookie.cookie_name()).is_ok() {
            self.cookie = cookie;
        }
        self
    }

    /// Uses `validation` for tokens.
    #[must_use]
    pub fn with_validation(mut self, validation: TokenValidation) -> Tracker {
        self.validation = validation;
        self
    }

    /// The link signer (to build links).
    #[must_use]
    pub fn signer(&self) -> &LinkSigner {
        &self.signer
    }

    /// The store.
    #[must_use]
    pub fn store(&self) -> &Arc<dyn Store> {
        &self.store
    }

    /// The cookie settings.
    #[must_use]
    pub fn cookie_config(&self) -> &CookieConfig {
        &self.cookie
    }

    /// The clock.
    #[must_use]
    pub fn clock(&self) -> &Arc<dyn Clock> {
        &self.clock
    }

    fn read(&self) -> RwLockReadGuard<'_, Catalogue> {
        self.catalogue
            .read()
            .unwrap_or_else(PoisonError::into_inner)
    }

    fn write(&self) -> std::sync::RwLockWriteGuard<'_, Catalogue> {
        self.catalogue
            .write()
            .unwrap_or_else(PoisonError::into_inner)
    }

    /// The campaign with this code.
    #[must_use]
    pub fn campaign(&self, code: &str) -> Option<Campaign> {
        self.read().campaign(code).cloned()
    }

    /// Every campaign, by code.
    #[must_use]
    pub fn campaigns(&self) -> Vec<Campaign> {
        self.read().campaigns()
    }

    /// The partner with this code.
    #[must_use]
    pub fn partner(&self, code: &str) -> Option<Partner> {
        self.read().partner(code).cloned()
    }

    /// Every partner, by code.
    #[must_use]
    pub fn partners(&self) -> Vec<Partner> {
        self.read().partners()
    }

    /// Verifies a session token now.
    pub fn verify_token<'t>(&self, token: &'t str) -> Result<VerifiedToken<'t>> {
        self.signer
            .keyring()
            .verify_token_with(token, self.clock.now(), &self.validation)
    }

    /// The visitor's token from its `Cookie` headers: the first value of the token
    /// cookie whose signature verifies and whose window holds, whatever else the
    /// headers carry (a sibling subdomain's cookie of the same name, other cookies, a
    /// header over 8 KiB). `None` when no value verifies.
    ///
    /// ```
    /// # use std::sync::Arc;
    /// # use affiliate_sdk::*;
    /// # let tracker = Tracker::new(LinkSigner::new(Keyring::generate()?, "https://t.example/go")?,
    /// #     Arc::new(MemoryStore::new()));
    /// # tracker.add_campaign(&CampaignSpec::new("haircare", "https://shop.example/", "USD"))?;
    /// # tracker.add_partner(&PartnerSpec::new("abc123"))?;
    /// let token = tracker.click(&tracker.signer().build("haircare", "abc123", None, None)?, None)?.token;
    /// let header = format!("aff_token=v1.other.subdomain; big={}; aff_token={token}", "x".repeat(9000));
    /// assert_eq!(tracker.token_from_cookies([header.as_str()]), Some(token.as_str()));
    /// assert_eq!(tracker.token_from_cookies(["aff_token=v1.forged"]), None);
    /// # Ok::<(), affiliate_sdk::Error>(())
    /// ```
    pub fn token_from_cookies<'h>(
        &self,
        headers: impl IntoIterator<Item = &'h str>,
    ) -> Option<&'h str> {
        let now = self.clock.now();
        let keyring = self.signer.keyring();
        headers
            .into_iter()
            .flat_map(|h| self.cookie.candidates(h))
            .find(|t| keyring.verify_token_with(t, now, &self.validation).is_ok())
    }

    /// The `Set-Cookie` value that keeps a verified `token` until its expiry: what a
    /// shop's landing route sends when the visitor arrives with `aff_token` in the URL,
    /// so the cookie is written by the server (Safari caps script-written cookies at 7
    /// days). Errors as [`Tracker::verify_token`], and `expired` for a token issued
    /// more than [`LANDING_SECS`](crate::LANDING_SECS) (10 minutes) ago: a landing
    /// comes straight from a click, so an older token in a URL is a shared or posted
    /// link, and is ignored rather than stuffed into every visitor's cookie.
    ///
    /// ```
    /// # use std::sync::Arc;
    /// # use affiliate_sdk::*;
    /// # let clock = Arc::new(FixedClock::from_secs(1_700_000_000));
    /// # let tracker = Tracker::new(LinkSigner::new(Keyring::generate()?, "https://t.example/go")?,
    /// #     Arc::new(MemoryStore::new())).with_clock(clock.clone());
    /// # let mut c = CampaignSpec::new("haircare", "https://shop.example/", "USD");
    /// # c.cookie_days = 28;
    /// # tracker.add_campaign(&c)?;
    /// # tracker.add_partner(&PartnerSpec::new("abc123"))?;
    /// let url = tracker.signer().build("haircare", "abc123", None, None)?;
    /// let token = tracker.click(&url, None)?.token;
    /// let header = tracker.set_cookie_for(&token)?;
    /// assert!(header.starts_with("aff_token=v1.") && header.ends_with("Max-Age=2419200"));
    /// assert_eq!(tracker.set_cookie_for("v1.forged").unwrap_err().code(), "malformed");
    /// clock.advance_secs(11 * 60); // the same URL, opened later: ignored
    /// assert_eq!(tracker.set_cookie_for(&token).unwrap_err().code(), "expired");
    /// # Ok::<(), affiliate_sdk::Error>(())
    /// ```
    pub fn set_cookie_for(&self, token: &str) -> Result<String> {
        crate::attribution::landing::landing_cookie(
            self.signer.keyring(),
            &self.validation,
            &self.cookie,
            self.clock.now(),
            token,
        )
    }

    /// The days a report or listing covers: `from` (default the first) to `to`
    /// (default tomorrow, so a clock a little behind the store's loses nothing).
    fn day_range(&self, from: Option<u32>, to: Option<u32>) -> Result<(u32, u32)> {
        let from = from.unwrap_or(0);
        let to = to.unwrap_or_else(|| day_of(self.clock.now()).saturating_add(1));
        if from > to {
            return Err(Error::malformed("date", "from is after to"));
        }
        Ok((from, to))
    }

    /// A report; see [`StatsQuery`].
    ///
    /// **Blocking**: waits for the store; from async code, call it off the runtime's
    /// workers (`tokio::task::spawn_blocking`).
    pub fn stats(&self, query: &StatsQuery) -> Result<Vec<StatsRow>> {
        let (from, to) = self.day_range(query.from_day, query.to_day)?;
        let counters = self.store.counters(from, to, query.campaign.as_ref())?;
        let conversions = self.store.conversions(from, to)?;
        let mut q = query.clone();
        q.from_day = Some(from);
        q.to_day = Some(to);
        let catalogue = self.read();
        let overrides = |campaign: &crate::code::Code, partner: &crate::code::Code| {
            catalogue.traffic_overrides(campaign, partner, |_| true)
        };
        Ok(aggregate(&q, &counters, &conversions, &overrides))
    }

    /// One page of a report: at most `limit` rows (1 to
    /// [`MAX_STATS_LIMIT`](crate::MAX_STATS_LIMIT)) after `cursor`, the `next_cursor`
    /// of the page before (`None` for the first).
    ///
    /// ```
    /// # use std::sync::Arc;
    /// # use affiliate_sdk::*;
    /// # let tracker = Tracker::new(LinkSigner::new(Keyring::generate()?, "https://t.example/go")?,
    /// #     Arc::new(MemoryStore::new()));
    /// # tracker.add_campaign(&CampaignSpec::new("haircare", "https://shop.example/", "USD"))?;
    /// # tracker.add_partner(&PartnerSpec::new("abc123"))?;
    /// for sid in ["a", "b", "c"] {
    ///     tracker.click(&tracker.signer().build("haircare", "abc123", None, Some(sid))?, None)?;
    /// }
    /// let q = StatsQuery::new(&[Dimension::Sid]);
    /// let first = tracker.stats_page(&q, 2, None)?;
    /// assert_eq!(first.rows.len(), 2);
    /// let second = tracker.stats_page(&q, 2, first.next_cursor.as_deref())?;
    /// assert_eq!((second.rows.len(), second.next_cursor), (1, None));
    /// # Ok::<(), affiliate_sdk::Error>(())
    /// ```
    ///
    /// **Blocking**: waits for the store; from async code, call it off the runtime's
    /// workers (`tokio::task::spawn_blocking`).
    pub fn stats_page(
        &self,
        query: &StatsQuery,
        limit: usize,
        cursor: Option<&str>,
    ) -> Result<StatsPage> {
        page(self.stats(query)?, limit, cursor)
    }

    /// Makes buffered clicks and impressions durable (call before shutting down).
    ///
    /// **Blocking**: waits for the store; from async code, call it off the runtime's
    /// workers (`tokio::task::spawn_blocking`).
    pub fn flush(&self) -> Result<()> {
        self.store.flush()
    }
}
