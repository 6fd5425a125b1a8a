//! The [`Tracker`]: the one entry point the server and the bindings call.

use std::collections::HashMap;
use std::sync::{Arc, PoisonError, RwLock};

use super::decide::{check_min_time, decide_prior_token};
use super::stats::{add_months, aggregate};
use super::{
    Campaign, CampaignSpec, Commission, Conversion, ConversionRequest, Evidence, Kind,
    ManualConversion, Partner, PartnerSpec, StatsQuery, StatsRow, Status, check_id, coupon_code,
};
use crate::click_id::{ClickId, ClickIdGenerator};
use crate::clock::{Clock, SystemClock};
use crate::code::Code;
use crate::cookie::CookieConfig;
use crate::error::{ClaimsError, Error, Result};
use crate::link::{Link, LinkSigner};
use crate::money::Money;
use crate::store::{Binding, ClickRecord, ImpressionRecord, Inserted, StatusChange, Store, day_of};
use crate::token::{TokenClaims, TokenValidation, VerifiedToken};

/// What a click produced: the token to carry, the cookie to set and where to send the
/// visitor.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClickOutcome {
    /// The id of the recorded click.
    pub click_id: ClickId,
    /// The session token the visitor carries (the earlier one when a first-click
    /// campaign kept it).
    pub token: String,
    /// The `Set-Cookie` header value for the token.
    pub set_cookie: String,
    /// The campaign's destination with `aff_token=<token>` added to its query.
    pub location: String,
    /// Whether the click counted as unique.
    pub unique: bool,
    /// Whether a first-click campaign kept the visitor's earlier token.
    pub kept_earlier: bool,
    /// Whether an invalid `sid` was dropped from the link.
    pub dropped_sid: bool,
}

#[derive(Default)]
struct Config {
    campaigns: HashMap<Code, Campaign>,
    /// Each campaign's redirect, computed once.
    redirects: HashMap<Code, Arc<Redirect>>,
    partners: HashMap<Code, Partner>,
    coupons: HashMap<Code, Code>,
}

/// Where a campaign's clicks land, computed once: the destination with any landing
/// parameter removed from its query, up to `aff_token=`, then the fragment. A token is
/// `[A-Za-z0-9._~-]` only, so it goes between them unescaped.
#[derive(Debug)]
struct Redirect {
    prefix: String,
    suffix: String,
}

impl Redirect {
    fn new(destination: &str, param: &str) -> Result<Redirect> {
        let mut url = url::Url::parse(destination)
            .map_err(|e| Error::malformed("destination", e.to_string()))?;
        let suffix = url.fragment().map(|f| format!("#{f}")).unwrap_or_default();
        url.set_fragment(None);
        if url.query_pairs().any(|(k, _)| k == param) {
            let kept: Vec<(String, String)> = url
                .query_pairs()
                .filter(|(k, _)| *k != param)
                .map(|(k, v)| (k.into_owned(), v.into_owned()))
                .collect();
            url.set_query(None);
            if !kept.is_empty() {
                url.query_pairs_mut().extend_pairs(kept);
            }
        }
        let has_query = url.query().is_some_and(|q| !q.is_empty());
        let mut prefix = String::from(url);
        if has_query {
            prefix.push('&');
        } else {
            prefix = prefix.trim_end_matches('?').to_owned();
            prefix.push('?');
        }
        prefix.extend(url::form_urlencoded::byte_serialize(param.as_bytes()));
        prefix.push('=');
        Ok(Redirect { prefix, suffix })
    }

    fn location(&self, token: &str) -> String {
        let mut s = String::with_capacity(self.prefix.len() + token.len() + self.suffix.len());
        s.push_str(&self.prefix);
        s.push_str(token);
        s.push_str(&self.suffix);
        s
    }
}

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
    config: RwLock<Config>,
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
            config: RwLock::new(Config::default()),
        }
    }

    /// Uses `clock` for every time decision.
    #[must_use]
    pub fn with_clock(mut self, clock: Arc<dyn Clock>) -> Tracker {
        self.clock = clock;
        self
    }

    /// Uses `cookie` for the `Set-Cookie` values.
    #[must_use]
    pub fn with_cookie(mut self, cookie: CookieConfig) -> Tracker {
        self.cookie = cookie;
        // The landing parameter is the cookie's name: redo the redirects.
        let cfg = self
            .config
            .get_mut()
            .unwrap_or_else(PoisonError::into_inner);
        for (code, c) in &cfg.campaigns {
            if let Ok(r) = Redirect::new(c.destination(), self.cookie.cookie_name()) {
                cfg.redirects.insert(*code, Arc::new(r));
            }
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

    fn read(&self) -> std::sync::RwLockReadGuard<'_, Config> {
        self.config.read().unwrap_or_else(PoisonError::into_inner)
    }

    /// Adds or replaces a campaign.
    pub fn add_campaign(&self, spec: &CampaignSpec) -> Result<Campaign> {
        let c = Campaign::new(spec)?;
        let redirect = Arc::new(Redirect::new(c.destination(), self.cookie.cookie_name())?);
        let mut cfg = self.config.write().unwrap_or_else(PoisonError::into_inner);
        cfg.redirects.insert(c.code(), redirect);
        cfg.campaigns.insert(c.code(), c.clone());
        Ok(c)
    }

    /// Adds or replaces a partner. Its parent must exist and must not descend from it;
    /// its coupons must not belong to another partner.
    pub fn add_partner(&self, spec: &PartnerSpec) -> Result<Partner> {
        let code = Code::new(&spec.code).map_err(|e| rename(e, "partner code"))?;
        let parent = spec
            .parent
            .as_deref()
            .map(|p| Code::new(p).map_err(|e| rename(e, "parent")))
            .transpose()?;
        let mut coupons = Vec::new();
        for c in &spec.coupons {
            let c = coupon_code(c)?;
            if !coupons.contains(&c) {
                coupons.push(c);
            }
        }
        let mut cfg = self.config.write().unwrap_or_else(PoisonError::into_inner);
        if let Some(p) = parent {
            if !cfg.partners.contains_key(&p) {
                return Err(Error::UnknownPartner(p.to_string()));
            }
            // Walk up from the parent: reaching this partner would close a cycle.
            let mut at = Some(p);
            let mut steps = 0;
            while let Some(a) = at {
                if a == code || steps > cfg.partners.len() {
                    return Err(Error::malformed("parent", "would make a cycle"));
                }
                at = cfg.partners.get(&a).and_then(|x| x.parent);
                steps += 1;
            }
        }
        for c in &coupons {
            if let Some(owner) = cfg.coupons.get(c).filter(|o| **o != code) {
                return Err(Error::malformed(
                    "coupons",
                    format!("coupon {c} belongs to partner {owner}"),
                ));
            }
        }
        if let Some(old) = cfg.partners.get(&code).cloned() {
            for c in &old.coupons {
                cfg.coupons.remove(c);
            }
        }
        for c in &coupons {
            cfg.coupons.insert(*c, code);
        }
        let partner = Partner {
            code,
            parent,
            coupons,
        };
        cfg.partners.insert(code, partner.clone());
        Ok(partner)
    }

    /// The campaign with this code.
    #[must_use]
    pub fn campaign(&self, code: &str) -> Option<Campaign> {
        let code = Code::new(code).ok()?;
        self.read().campaigns.get(&code).cloned()
    }

    /// Every campaign, by code.
    #[must_use]
    pub fn campaigns(&self) -> Vec<Campaign> {
        let mut v: Vec<_> = self.read().campaigns.values().cloned().collect();
        v.sort_by_key(Campaign::code);
        v
    }

    /// The partner with this code.
    #[must_use]
    pub fn partner(&self, code: &str) -> Option<Partner> {
        let code = Code::new(code).ok()?;
        self.read().partners.get(&code).cloned()
    }

    /// Every partner, by code.
    #[must_use]
    pub fn partners(&self) -> Vec<Partner> {
        let mut v: Vec<_> = self.read().partners.values().cloned().collect();
        v.sort_by_key(|p| p.code);
        v
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
    /// Errors: `malformed` or `invalid_signature` for a bad link (nothing is counted),
    /// `unknown_campaign`, `unknown_partner`.
    pub fn click(&self, url: &str, prior_token: Option<&str>) -> Result<ClickOutcome> {
        let clicked = self.signer.verify_click(url)?;
        let link = clicked.link;
        // Only what a click needs, under the read lock: no clones on this hot path.
        let (currency, click_flat, attribution, window, redirect) = {
            let cfg = self.read();
            let (Some(c), Some(redirect)) = (
                cfg.campaigns.get(&link.campaign),
                cfg.redirects.get(&link.campaign),
            ) else {
                return Err(Error::UnknownCampaign(link.campaign.to_string()));
            };
            if !cfg.partners.contains_key(&link.partner) {
                return Err(Error::UnknownPartner(link.partner.to_string()));
            }
            (
                c.currency(),
                c.click_flat().minor(),
                c.attribution(),
                c.window_secs(),
                redirect.clone(),
            )
        };
        let now_ms = self.clock.now_millis();
        let now = now_ms / 1000;
        let prior = prior_token.and_then(|t| {
            self.signer
                .keyring()
                .verify_token_with(t, now, &self.validation)
                .ok()
                .map(|v| (t, v))
        });
        let decision = decide_prior_token(prior.as_ref().map(|(_, v)| v), &link, attribution, now);
        let click_id = self.ids.next(now_ms)?;
        self.store.record_click(&ClickRecord {
            click_id,
            link,
            at: now,
            unique: decision.unique,
            currency,
            commission_minor: click_flat,
        })?;
        let kept = match prior {
            Some((t, v)) if decision.keep_earlier => Some((t, v.expires_at())),
            _ => None,
        };
        let (token, expires_at) = match kept {
            Some((t, expires_at)) => (t.to_owned(), expires_at),
            None => {
                let claims = TokenClaims::new(click_id, link, now, window);
                (
                    self.signer.keyring().issue_token(&claims)?,
                    claims.expires_at,
                )
            }
        };
        // The token is well formed by construction (issued here or verified above).
        let set_cookie = self.cookie.build(&token, expires_at.saturating_sub(now));
        Ok(ClickOutcome {
            click_id,
            location: redirect.location(&token),
            token,
            set_cookie,
            unique: decision.unique,
            kept_earlier: kept.is_some(),
            dropped_sid: clicked.dropped_sid.is_some(),
        })
    }

    /// An impression of the link `url` was served: verifies it and counts it.
    pub fn impression(&self, url: &str) -> Result<()> {
        let link = self.signer.verify_click(url)?.link;
        let (campaign, _) = self.campaign_and_partner(&link)?;
        self.store.record_impression(&ImpressionRecord {
            link,
            at: self.clock.now(),
            currency: campaign.currency(),
            per_mille_minor: campaign.impression_per_mille().minor(),
        })
    }

    fn campaign_and_partner(&self, link: &Link) -> Result<(Campaign, Partner)> {
        let cfg = self.read();
        let campaign = cfg
            .campaigns
            .get(&link.campaign)
            .cloned()
            .ok_or_else(|| Error::UnknownCampaign(link.campaign.to_string()))?;
        let partner = cfg
            .partners
            .get(&link.partner)
            .cloned()
            .ok_or_else(|| Error::UnknownPartner(link.partner.to_string()))?;
        Ok((campaign, partner))
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
        self.campaign_and_partner(&link)?;
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
        let (campaign, _) = self.campaign_and_partner(&attributed.link)?;
        let commissions = self.commissions(&campaign, &attributed.link.partner, &kind, amount);
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
        match self.store.insert_conversion(&conversion)? {
            Inserted::Existing(existing) => same_or_conflict(*existing, amount, &conversion.kind),
            Inserted::New => {
                if let (Kind::Sale, Some(customer)) = (&conversion.kind, &conversion.customer_id)
                    && campaign.recurring_months() > 0
                    && attributed.evidence != Evidence::Customer
                {
                    self.store.bind_customer(
                        customer,
                        &Binding {
                            link: conversion.link,
                            bound_at: now,
                        },
                    )?;
                }
                Ok(conversion)
            }
        }
    }

    /// The partner's commission and its ancestors' overrides.
    fn commissions(
        &self,
        campaign: &Campaign,
        partner: &Code,
        kind: &Kind,
        amount: Money,
    ) -> Vec<Commission> {
        let base = campaign.base_commission(kind, amount);
        let mut out = vec![Commission {
            partner: *partner,
            level: 0,
            amount: base,
        }];
        let cfg = self.read();
        let mut at = cfg.partners.get(partner).and_then(|p| p.parent);
        for (level, pct) in (1u8..).zip(campaign.override_percents()) {
            let Some(ancestor) = at else { break };
            out.push(Commission {
                partner: ancestor,
                level,
                amount: pct.of(base),
            });
            at = cfg.partners.get(&ancestor).and_then(|p| p.parent);
        }
        out
    }

    /// Picks who to credit: a bound customer first, then the strongest evidence that
    /// holds; if none holds, the strongest evidence's error.
    fn attribute(&self, req: &ConversionRequest, kind: &Kind, now: u64) -> Result<Attributed> {
        if let (Kind::Sale, Some(customer)) = (kind, &req.customer_id)
            && let Some(b) = self.store.customer(customer)?
        {
            let months = self
                .read()
                .campaigns
                .get(&b.link.campaign)
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
            tries.push(Box::new(move || self.by_coupon(c, req.campaign.as_deref())));
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
        let v = self
            .signer
            .keyring()
            .verify_token_with(token, now, &self.validation)?;
        let link = v.link();
        let (campaign, _) = self.campaign_and_partner(&link)?;
        check_min_time(campaign.min_seconds_to_convert(), v.issued_at(), now)?;
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
        let (campaign, _) = self.campaign_and_partner(&click.link)?;
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

    fn by_coupon(&self, coupon: &str, campaign: Option<&str>) -> Result<Attributed> {
        let coupon = coupon_code(coupon)?;
        let cfg = self.read();
        let partner = *cfg
            .coupons
            .get(&coupon)
            .ok_or_else(|| Error::NotAttributable("unknown coupon".into()))?;
        let campaign = match campaign {
            Some(c) => {
                let c = Code::new(c).map_err(|e| rename(e, "campaign"))?;
                if !cfg.campaigns.contains_key(&c) {
                    return Err(Error::UnknownCampaign(c.to_string()));
                }
                c
            }
            None => {
                let mut codes = cfg.campaigns.keys();
                match (codes.next(), codes.next()) {
                    (Some(c), None) => *c,
                    _ => {
                        return Err(Error::NotAttributable(
                            "a coupon needs the campaign when several exist".into(),
                        ));
                    }
                }
            }
        };
        Ok(Attributed {
            link: Link::new(campaign, partner),
            click_id: None,
            evidence: Evidence::Coupon,
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

fn rename(e: Error, field: &'static str) -> Error {
    match e {
        Error::Malformed { reason, .. } => Error::Malformed { field, reason },
        other => other,
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

#[cfg(test)]
mod redirect_tests {
    use super::Redirect;

    #[test]
    fn the_token_lands_in_the_query_before_the_fragment() {
        let at = |dest: &str| {
            Redirect::new(dest, "aff_token")
                .unwrap()
                .location("v1.k1.T~x")
        };
        assert_eq!(
            at("https://shop.example"),
            "https://shop.example/?aff_token=v1.k1.T~x"
        );
        assert_eq!(
            at("https://shop.example/a?"),
            "https://shop.example/a?aff_token=v1.k1.T~x"
        );
        assert_eq!(
            at("https://shop.example/a?x=1%202#top"),
            "https://shop.example/a?x=1%202&aff_token=v1.k1.T~x#top"
        );
        // A stale landing parameter in the destination is replaced, not doubled.
        assert_eq!(
            at("https://shop.example/a?aff_token=old&b=2"),
            "https://shop.example/a?b=2&aff_token=v1.k1.T~x"
        );
        assert_eq!(
            at("https://shop.example/a?aff_token=old"),
            "https://shop.example/a?aff_token=v1.k1.T~x"
        );
    }
}
