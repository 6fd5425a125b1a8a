//! The [`Tracker`]: the one entry point the server and the bindings call. It ties a
//! [`LinkSigner`], a [`Catalogue`] of campaigns and partners and a [`Store`]
//! together; each decision is made by the module that owns it (the click plan, the
//! attribution checks, the catalogue's commissions) and the tracker records it.

use std::sync::{Arc, PoisonError, RwLock, RwLockReadGuard};

use super::click::{ClickOutcome, ClickPlanner, Refusal};
use super::days::add_months;
use super::decide::{attribute_token, check_min_time};
use super::stats::aggregate;
use super::{
    Campaign, CampaignSpec, Catalogue, Conversion, ConversionRequest, Evidence, Kind,
    ManualConversion, Partner, PartnerSpec, StatsQuery, StatsRow, Status, check_id,
};
use crate::click_id::{ClickId, ClickIdGenerator};
use crate::clock::{Clock, SystemClock};
use crate::cookie::{CookieConfig, DEFAULT_COOKIE_NAME};
use crate::error::{ClaimsError, Error, Result};
use crate::link::{Link, LinkSigner};
use crate::money::Money;
use crate::store::{Binding, ImpressionRecord, Inserted, StatusChange, Store, day_of};
use crate::token::{TokenValidation, UntrustedToken, VerifiedToken};

/// Who a conversion credits and on what evidence.
struct Attributed {
    link: Link,
    click_id: Option<ClickId>,
    evidence: Evidence,
}

/// Verifies clicks, issues tokens and attributes conversions over a [`Store`].
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

    /// Adds or replaces a campaign.
    pub fn add_campaign(&self, spec: &CampaignSpec) -> Result<Campaign> {
        self.catalogue
            .write()
            .unwrap_or_else(PoisonError::into_inner)
            .add_campaign(spec)
    }

    /// Adds or replaces a partner. Its parent must exist and must not descend from it;
    /// its coupons must not belong to another partner.
    pub fn add_partner(&self, spec: &PartnerSpec) -> Result<Partner> {
        self.catalogue
            .write()
            .unwrap_or_else(PoisonError::into_inner)
            .add_partner(spec)
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

    /// The `Set-Cookie` value that keeps a verified `token` until its expiry: what a
    /// shop's landing route sends when the visitor arrives with `aff_token` in the URL,
    /// so the cookie is written by the server (Safari caps script-written cookies at 7
    /// days). Errors as [`Tracker::verify_token`].
    ///
    /// ```
    /// # use std::sync::Arc;
    /// # use affiliate_sdk::*;
    /// # let tracker = Tracker::new(LinkSigner::new(Keyring::generate()?, "https://t.example/go")?,
    /// #     Arc::new(MemoryStore::new()));
    /// # let mut c = CampaignSpec::new("haircare", "https://shop.example/", "USD");
    /// # c.cookie_days = 28;
    /// # tracker.add_campaign(&c)?;
    /// # tracker.add_partner(&PartnerSpec::new("abc123"))?;
    /// let url = tracker.signer().build("haircare", "abc123", None, None)?;
    /// let token = tracker.click(&url, None)?.token;
    /// let header = tracker.set_cookie_for(&token)?;
    /// assert!(header.starts_with("aff_token=v1.") && header.ends_with("Max-Age=2419200"));
    /// assert_eq!(tracker.set_cookie_for("v1.forged").unwrap_err().code(), "malformed");
    /// # Ok::<(), affiliate_sdk::Error>(())
    /// ```
    pub fn set_cookie_for(&self, token: &str) -> Result<String> {
        let now = self.clock.now();
        let v = self
            .signer
            .keyring()
            .verify_token_with(token, now, &self.validation)?;
        Ok(self.cookie.build(token, v.expires_at().saturating_sub(now)))
    }

    /// A visitor clicked `url`. Verifies the link (a bad `sid` is dropped, the click
    /// still counts), counts the click, and issues the token, cookie and redirect.
    /// `prior_token` is the token the visitor already carries (from its cookie), if
    /// any: it decides uniqueness and, for first-click campaigns, is kept.
    ///
    /// Errors: `malformed` or `invalid_signature` for a bad link of a known campaign,
    /// `unknown_campaign` for a link that names none, `unknown_partner`; nothing is
    /// counted. [`Tracker::land`] also says where such a visitor lands.
    pub fn click(&self, url: &str, prior_token: Option<&str>) -> Result<ClickOutcome> {
        self.land(url, prior_token).map_err(|r| r.error)
    }

    /// [`Tracker::click`], and for a link that credits nobody, where the visitor lands
    /// instead (the campaign's destination, or nowhere for an unknown campaign): what
    /// an HTTP click handler answers.
    pub fn land(
        &self,
        url: &str,
        prior_token: Option<&str>,
    ) -> std::result::Result<ClickOutcome, Refusal> {
        let plan = {
            let catalogue = self.read();
            self.planner(&catalogue)
                .plan(url, prior_token, self.clock.now_millis())?
        };
        match self.store.record_click(&plan.record) {
            Ok(()) => Ok(plan.outcome),
            // The store failed: nothing is credited, the visitor still lands.
            Err(error) => Err(Refusal {
                error,
                fallback: self
                    .read()
                    .campaign_by_code(&plan.record.link.campaign)
                    .map(|c| c.destination().to_owned()),
            }),
        }
    }

    /// Where a click on `url` would land, issuing and counting nothing (`HEAD`): the
    /// campaign's destination for a link that credits, the refusal otherwise.
    pub fn preview_click(&self, url: &str) -> std::result::Result<String, Refusal> {
        let catalogue = self.read();
        self.planner(&catalogue).preview(url)
    }

    fn planner<'a>(&'a self, catalogue: &'a Catalogue) -> ClickPlanner<'a> {
        ClickPlanner {
            catalogue,
            signer: &self.signer,
            cookie: &self.cookie,
            validation: &self.validation,
            ids: &self.ids,
        }
    }

    /// Verifies an impression link and finds its campaign and partner, counting
    /// nothing (what `HEAD` on an impression answers).
    pub fn check_impression(&self, url: &str) -> Result<Link> {
        let link = self.signer.verify_click(url)?.link;
        self.read().check_link(&link)?;
        Ok(link)
    }

    /// An impression of the link `url` was served: verifies it and counts it.
    pub fn impression(&self, url: &str) -> Result<()> {
        let link = self.signer.verify_click(url)?.link;
        let (currency, per_mille_minor) = {
            let catalogue = self.read();
            let c = catalogue.check_link(&link)?;
            (c.currency(), c.impression_per_mille().minor())
        };
        self.store.record_impression(&ImpressionRecord {
            link,
            at: self.clock.now(),
            currency,
            per_mille_minor,
        })
    }

    fn campaign_of(&self, link: &Link) -> Result<Campaign> {
        self.read().check_link(link).cloned()
    }

    /// Attributes a conversion from a pixel, beacon or postback and records it exactly
    /// once. See the module docs for the rules. A replayed order id returns the first
    /// record with `duplicate` set; other values under the same order id are a
    /// `conflict`.
    pub fn convert(&self, req: &ConversionRequest) -> Result<Conversion> {
        check_id("order_id", &req.order_id)?;
        let amount = Money::parse(&req.amount, &req.currency)?;
        let kind: Kind = req.kind.parse()?;
        if let Some(c) = &req.customer_id {
            check_id("customer_id", c)?;
        }
        if let Some(existing) = self.replay(&req.order_id, amount, &kind)? {
            return Ok(existing);
        }
        let now = self.clock.now();
        let attributed = self.attribute(req, &kind, now)?;
        self.record(
            req.order_id.clone(),
            kind,
            amount,
            attributed,
            req.customer_id.clone(),
            now,
        )
    }

    /// Records a conversion entered by hand for a named campaign and partner.
    pub fn manual(&self, req: &ManualConversion) -> Result<Conversion> {
        check_id("order_id", &req.order_id)?;
        let amount = Money::parse(&req.amount, &req.currency)?;
        let kind: Kind = req.kind.parse()?;
        if let Some(c) = &req.customer_id {
            check_id("customer_id", c)?;
        }
        let link = Link::parse(
            &req.campaign,
            &req.partner,
            req.ad.as_deref(),
            req.sid.as_deref(),
        )?;
        self.campaign_of(&link)?;
        if let Some(existing) = self.replay(&req.order_id, amount, &kind)? {
            return Ok(existing);
        }
        let attributed = Attributed {
            link,
            click_id: None,
            evidence: Evidence::Manual,
        };
        self.record(
            req.order_id.clone(),
            kind,
            amount,
            attributed,
            req.customer_id.clone(),
            self.clock.now(),
        )
    }

    /// The answer to a replayed order id, or `None` if it is new.
    fn replay(&self, order_id: &str, amount: Money, kind: &Kind) -> Result<Option<Conversion>> {
        match self.store.conversion(order_id)? {
            None => Ok(None),
            Some(existing) => {
                // It may have been written by a call that has not flushed yet: make
                // it durable before acknowledging it.
                self.store.flush()?;
                same_or_conflict(existing, amount, kind).map(Some)
            }
        }
    }

    fn record(
        &self,
        order_id: String,
        kind: Kind,
        amount: Money,
        attributed: Attributed,
        customer_id: Option<String>,
        now: u64,
    ) -> Result<Conversion> {
        let (campaign, commissions) = {
            let catalogue = self.read();
            let campaign = catalogue.check_link(&attributed.link)?.clone();
            let commissions =
                catalogue.commissions(&campaign, &attributed.link.partner, &kind, amount);
            (campaign, commissions)
        };
        let conversion = Conversion {
            order_id,
            kind,
            amount,
            link: attributed.link,
            click_id: attributed.click_id,
            evidence: attributed.evidence,
            customer_id,
            status: Status::Pending,
            converted_at: now,
            commissions,
            duplicate: false,
        };
        // A first attributed sale of a recurring campaign binds its customer, in the
        // same atomic write as the conversion.
        let binding = match (&conversion.kind, &conversion.customer_id) {
            (Kind::Sale, Some(_))
                if campaign.recurring_months() > 0 && conversion.evidence != Evidence::Customer =>
            {
                Some(Binding {
                    link: conversion.link,
                    bound_at: now,
                })
            }
            _ => None,
        };
        match self
            .store
            .insert_conversion(&conversion, binding.as_ref())?
        {
            Inserted::Existing(existing) => same_or_conflict(*existing, amount, &conversion.kind),
            Inserted::New => Ok(conversion),
        }
    }

    /// Picks who to credit: a bound customer first, then the strongest evidence that
    /// holds; if none holds, the strongest evidence's error.
    fn attribute(&self, req: &ConversionRequest, kind: &Kind, now: u64) -> Result<Attributed> {
        if let (Kind::Sale, Some(customer)) = (kind, &req.customer_id)
            && let Some(b) = self.store.customer(customer)?
        {
            let months = self
                .read()
                .campaign_by_code(&b.link.campaign)
                .map_or(0, Campaign::recurring_months);
            if months > 0 && now < add_months(b.bound_at, months) {
                return Ok(Attributed {
                    link: b.link,
                    click_id: None,
                    evidence: Evidence::Customer,
                });
            }
        }
        let mut first_error = None;
        let mut tries: Vec<Box<dyn Fn() -> Result<Attributed> + '_>> = Vec::new();
        if let Some(t) = &req.token {
            tries.push(Box::new(move || self.by_token(t, now)));
        }
        if let Some(id) = &req.click_id {
            tries.push(Box::new(move || self.by_click_id(id, now)));
        }
        if let Some(c) = &req.coupon {
            tries.push(Box::new(move || {
                Ok(Attributed {
                    link: self.read().coupon_link(c, req.campaign.as_deref())?,
                    click_id: None,
                    evidence: Evidence::Coupon,
                })
            }));
        }
        for attempt in tries {
            match attempt() {
                Ok(a) => return Ok(a),
                Err(e @ Error::Store(_)) => return Err(e),
                Err(e) => {
                    first_error.get_or_insert(e);
                }
            }
        }
        Err(first_error
            .unwrap_or_else(|| Error::NotAttributable("no token, click id or coupon".into())))
    }

    fn by_token(&self, token: &str, now: u64) -> Result<Attributed> {
        // The campaign sets the minimum time from click to conversion; it is read from
        // the token unverified only to pick that number, and checked once verified.
        let min_seconds = UntrustedToken::parse(token)
            .ok()
            .and_then(|u| {
                self.read()
                    .campaign(u.campaign())
                    .map(Campaign::min_seconds_to_convert)
            })
            .unwrap_or(0);
        let v = attribute_token(
            self.signer.keyring(),
            token,
            now,
            min_seconds,
            &self.validation,
        )?;
        let link = v.link();
        self.campaign_of(&link)?;
        Ok(Attributed {
            link,
            click_id: Some(v.click_id()),
            evidence: Evidence::Token,
        })
    }

    fn by_click_id(&self, id: &str, now: u64) -> Result<Attributed> {
        let id: ClickId = id.parse()?;
        let click = self
            .store
            .click(id)?
            .ok_or_else(|| Error::NotAttributable("unknown click id".into()))?;
        let campaign = self.campaign_of(&click.link)?;
        let ends = click.at.saturating_add(campaign.window_secs());
        if now >= ends.saturating_add(self.validation.skew_secs) {
            return Err(ClaimsError::Expired { expired_at: ends }.into());
        }
        check_min_time(campaign.min_seconds_to_convert(), click.at, now)?;
        Ok(Attributed {
            link: click.link,
            click_id: Some(id),
            evidence: Evidence::ClickId,
        })
    }

    /// Moves a conversion to `status` if the lifecycle allows it.
    pub fn set_status(&self, order_id: &str, status: Status) -> Result<Conversion> {
        check_id("order_id", order_id)?;
        // A concurrent change between the read and the swap is retried against the
        // new status; each retry is a fresh check of the lifecycle.
        for _ in 0..16 {
            let current = self
                .store
                .conversion(order_id)?
                .ok_or_else(|| Error::NotFound(format!("conversion {order_id:?}")))?;
            if !current.status.can_become(status) {
                return Err(Error::InvalidTransition {
                    from: current.status.as_str(),
                    to: status.as_str(),
                });
            }
            match self.store.set_status(order_id, current.status, status)? {
                StatusChange::Changed(c) => return Ok(c),
                StatusChange::Unchanged(_) => {}
                StatusChange::Missing => {
                    return Err(Error::NotFound(format!("conversion {order_id:?}")));
                }
            }
        }
        Err(Error::Store("status kept changing; try again".into()))
    }

    /// The conversion recorded under `order_id`.
    pub fn conversion(&self, order_id: &str) -> Result<Conversion> {
        check_id("order_id", order_id)?;
        self.store
            .conversion(order_id)?
            .ok_or_else(|| Error::NotFound(format!("conversion {order_id:?}")))
    }

    /// A report; see [`StatsQuery`].
    pub fn stats(&self, query: &StatsQuery) -> Result<Vec<StatsRow>> {
        let from = query.from_day.unwrap_or(0);
        let to = query
            .to_day
            .unwrap_or_else(|| day_of(self.clock.now()).saturating_add(1));
        if from > to {
            return Err(Error::malformed("date", "from is after to"));
        }
        let counters = self.store.counters(from, to, query.campaign.as_ref())?;
        let conversions = self.store.conversions(from, to)?;
        let mut q = query.clone();
        q.from_day = Some(from);
        q.to_day = Some(to);
        Ok(aggregate(&q, &counters, &conversions))
    }

    /// Makes buffered clicks and impressions durable (call before shutting down).
    pub fn flush(&self) -> Result<()> {
        self.store.flush()
    }
}

fn same_or_conflict(mut existing: Conversion, amount: Money, kind: &Kind) -> Result<Conversion> {
    if existing.amount == amount && existing.kind == *kind {
        existing.duplicate = true;
        Ok(existing)
    } else {
        Err(Error::Conflict(existing.order_id))
    }
}
