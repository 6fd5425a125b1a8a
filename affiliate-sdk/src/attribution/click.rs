//! The click plan: everything a click decides, in one stateless step over a
//! [`Catalogue`]. It verifies the link, weighs the visitor's earlier token, decides
//! uniqueness, makes the click id, the token, the cookie and the landing URL, or, for
//! a link that credits nobody, where the visitor lands instead. Recording the click is
//! the caller's: the [`Tracker`](crate::Tracker) writes it to its store, an edge
//! worker hands it to whatever keeps its clicks.

use super::decide::weigh_prior_token;
use super::deep_link::DeepTarget;
use super::redirect::Redirect;
use super::{Campaign, Catalogue};
use super::{ClickCommission, CookieConsent};
use crate::click_id::{ClickId, ClickIdGenerator};
use crate::cookie::CookieConfig;
use crate::error::{Error, Result};
use crate::link::{ClickLink, LinkSigner};
use crate::store::{BotClickRecord, ClickRecord};
use crate::token::{TokenClaims, TokenValidation};

/// What a click produced: the token to carry, the cookie to set and where to send the
/// visitor.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClickOutcome {
    /// The id of the recorded click.
    pub click_id: ClickId,
    /// The session token the visitor carries (the earlier one when a first-click
    /// campaign kept it).
    pub token: String,
    /// The `Set-Cookie` header value for the token; `None` when the campaign waits
    /// for the visitor's consent (`cookie_consent = "required"`): the token rides in
    /// the landing URL only, and the page stores it once consent is given.
    pub set_cookie: Option<String>,
    /// Where the visitor lands: the link's `to=` target when the campaign allows its
    /// host, else the campaign's destination; with `aff_token=<token>` added to its
    /// query.
    pub location: String,
    /// Whether the click counted as unique.
    pub unique: bool,
    /// Whether a first-click campaign kept the visitor's earlier token.
    pub kept_earlier: bool,
    /// Whether an invalid `sid` was dropped from the link.
    pub dropped_sid: bool,
    /// Why the link's `to=` target was not followed (the visitor landed on the
    /// destination instead), if it was not: worth logging.
    pub refused_to: Option<Error>,
}

/// A click that credits its partner: what to record and what to answer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClickPlan {
    /// The click to count (and keep, for click-id postbacks).
    pub record: ClickRecord,
    /// The token, cookie and redirect.
    pub outcome: ClickOutcome,
}

/// A click that credits nobody: why, and where the visitor lands anyway.
#[derive(Debug)]
pub struct Refusal {
    /// Why nobody is credited: the link's error (`malformed`, `invalid_signature`),
    /// `unknown_partner`, or `unknown_campaign` when the link names no known campaign.
    pub error: Error,
    /// The campaign's destination, untouched, when the link names a known campaign;
    /// `None` (answer 404) otherwise. Nothing is counted, no token or cookie is set.
    pub fallback: Option<String>,
}

impl Refusal {
    /// Credits nobody for `error`; the visitor lands on `campaign`'s destination.
    pub(crate) fn landing_on(campaign: &Campaign, error: Error) -> Refusal {
        Refusal {
            error,
            fallback: Some(campaign.destination().to_owned()),
        }
    }
}

/// Plans clicks over a catalogue: the one implementation of a click, used by the
/// [`Tracker`](crate::Tracker), the HTTP server and the JS package's edge workers.
///
/// ```
/// use affiliate_sdk::{
///     CampaignSpec, Catalogue, ClickIdGenerator, ClickPlanner, CookieConfig, Keyring,
///     LinkSigner, PartnerSpec, TokenValidation,
/// };
/// let signer = LinkSigner::new(Keyring::generate()?, "https://t.shop.example/go")?;
/// let mut catalogue = Catalogue::new("aff_token")?;
/// catalogue.add_campaign(&CampaignSpec::new("haircare", "https://shop.example/hair", "USD"))?;
/// catalogue.add_partner(&PartnerSpec::new("abc123"))?;
/// let (cookie, validation, ids) = (CookieConfig::new(), TokenValidation::default(), ClickIdGenerator::new());
/// let planner = ClickPlanner { catalogue: &catalogue, signer: &signer, cookie: &cookie, validation: &validation, ids: &ids };
///
/// let url = signer.build("haircare", "abc123", None, None)?;
/// let plan = planner.plan(&url, None, 1_700_000_000_000).unwrap();
/// assert!(plan.outcome.location.starts_with("https://shop.example/hair?aff_token=v1."));
/// assert!(plan.record.unique);
///
/// // A signed link for a partner the merchant never created credits nobody.
/// let stranger = signer.build("haircare", "stranger", None, None)?;
/// let refused = planner.plan(&stranger, None, 1_700_000_000_000).unwrap_err();
/// assert_eq!(refused.error.code(), "unknown_partner");
/// assert_eq!(refused.fallback.as_deref(), Some("https://shop.example/hair"));
/// # Ok::<(), affiliate_sdk::Error>(())
/// ```
#[derive(Debug, Clone, Copy)]
pub struct ClickPlanner<'a> {
    /// The campaigns and partners that exist.
    pub catalogue: &'a Catalogue,
    /// Verifies the link and signs the token.
    pub signer: &'a LinkSigner,
    /// Shapes the `Set-Cookie` value.
    pub cookie: &'a CookieConfig,
    /// How the visitor's earlier token is verified.
    pub validation: &'a TokenValidation,
    /// Makes click ids.
    pub ids: &'a ClickIdGenerator,
}

impl ClickPlanner<'_> {
    /// Plans a click on `url` at `now_ms` (Unix milliseconds). `prior_token` is the
    /// token the visitor already carries (from its cookie), if any: an invalid one
    /// counts as none; a valid one decides uniqueness and, for first-click campaigns,
    /// is kept. A bad `sid` is dropped and the click still credits.
    ///
    /// A `to=` parameter lands the visitor there instead of the destination when the
    /// campaign's `deep_link_hosts` allow its host, decided on the URL standard's parse
    /// ([`DeepTarget::parse`]); else on the destination, with the reason in
    /// [`ClickOutcome::refused_to`].
    pub fn plan(
        &self,
        url: &str,
        prior_token: Option<&str>,
        now_ms: u64,
    ) -> std::result::Result<ClickPlan, Refusal> {
        self.plan_with(url, prior_token, now_ms, DeepTarget::parse)
    }

    fn plan_with(
        &self,
        url: &str,
        prior_token: Option<&str>,
        now_ms: u64,
        parse_to: impl FnOnce(&str) -> Result<DeepTarget>,
    ) -> std::result::Result<ClickPlan, Refusal> {
        let (clicked, campaign, redirect) = self.check(url)?;
        let (target, refused_to) = deep_target(&clicked.to, campaign, parse_to);
        let link = clicked.link;
        let refuse = |error| Refusal::landing_on(campaign, error);
        let now = now_ms / 1000;
        let (decision, prior) = weigh_prior_token(
            self.signer.keyring(),
            prior_token,
            &link,
            campaign.attribution(),
            now,
            self.validation,
        );
        let click_id = self.ids.next(now_ms).map_err(refuse)?;
        let (token, expires_at) = match (&prior, prior_token) {
            (Some(v), Some(text)) if decision.keep_earlier => (text.to_owned(), v.expires_at()),
            _ => {
                let claims = TokenClaims::new(click_id, link, now, campaign.window_secs());
                let token = self.signer.keyring().issue_token(&claims).map_err(refuse)?;
                (token, claims.expires_at)
            }
        };
        // The token is well formed by construction (issued here or verified above).
        let set_cookie = (campaign.spec().cookie_consent != CookieConsent::Required)
            .then(|| self.cookie.build(&token, expires_at.saturating_sub(now)));
        let spec = campaign.spec();
        let commission_minor = match spec.click_commission {
            ClickCommission::Every => campaign.click_flat().minor(),
            ClickCommission::Unique if decision.unique => campaign.click_flat().minor(),
            ClickCommission::Unique => 0,
        };
        Ok(ClickPlan {
            record: ClickRecord {
                click_id,
                link,
                at: now,
                unique: decision.unique,
                currency: campaign.currency(),
                commission_minor,
                paid_cap: spec.daily_paid_click_cap,
            },
            outcome: ClickOutcome {
                click_id,
                location: match target {
                    // The catalogue's landing parameter is never empty, the one thing
                    // `Redirect::new` refuses: the fallback is never taken.
                    Some(t) => Redirect::new(t.href(), self.catalogue.param())
                        .map_or_else(|_| redirect.location(&token), |r| r.location(&token)),
                    None => redirect.location(&token),
                },
                token,
                set_cookie,
                unique: decision.unique,
                kept_earlier: decision.keep_earlier,
                dropped_sid: clicked.dropped_sid.is_some(),
                refused_to,
            },
        })
    }

    /// Plans a visit to `url`: a `bot`'s (a bot, crawler or link preview, see
    /// `is_bot`) lands on the destination with no token and counts as a bot click;
    /// anyone else's is [`ClickPlanner::plan`]. A link that credits nobody is refused
    /// for bots as for people, counting nothing.
    pub fn plan_visit(
        &self,
        url: &str,
        prior_token: Option<&str>,
        bot: bool,
        now_ms: u64,
    ) -> std::result::Result<Planned, Refusal> {
        self.plan_visit_with(url, prior_token, bot, now_ms, DeepTarget::parse)
    }

    /// [`ClickPlanner::plan_visit`] with the link's `to=` read by `parse_to` instead
    /// of [`DeepTarget::parse`]: the JS package passes its engine's WHATWG parse
    /// through [`DeepTarget::from_href`], so the module carries no URL parser. The
    /// campaign's `deep_link_hosts` decide on the result all the same.
    pub fn plan_visit_with(
        &self,
        url: &str,
        prior_token: Option<&str>,
        bot: bool,
        now_ms: u64,
        parse_to: impl FnOnce(&str) -> Result<DeepTarget>,
    ) -> std::result::Result<Planned, Refusal> {
        if !bot {
            return self
                .plan_with(url, prior_token, now_ms, parse_to)
                .map(Planned::Click);
        }
        let (clicked, campaign, _) = self.check(url)?;
        let (target, refused_to) = deep_target(&clicked.to, campaign, parse_to);
        Ok(Planned::Bot(BotPlan {
            record: BotClickRecord {
                link: clicked.link,
                at: now_ms / 1000,
                currency: campaign.currency(),
            },
            location: tokenless_location(target, campaign),
            refused_to,
        }))
    }

    /// Where a click on `url` would land, deciding as [`ClickPlanner::plan`] does but
    /// issuing nothing: for a link that credits, its allowed `to=` target or the
    /// campaign's destination, without a token (what `HEAD` answers); otherwise the
    /// refusal.
    pub fn preview(&self, url: &str) -> std::result::Result<String, Refusal> {
        self.preview_with(url, DeepTarget::parse)
    }

    /// [`ClickPlanner::preview`] with the link's `to=` read by `parse_to` (see
    /// [`ClickPlanner::plan_visit_with`]).
    pub fn preview_with(
        &self,
        url: &str,
        parse_to: impl FnOnce(&str) -> Result<DeepTarget>,
    ) -> std::result::Result<String, Refusal> {
        let (clicked, campaign, _) = self.check(url)?;
        let (target, _) = deep_target(&clicked.to, campaign, parse_to);
        Ok(tokenless_location(target, campaign))
    }

    /// Verifies the link and finds its campaign, partner and redirect. A link that
    /// credits nobody lands on the destination of the campaign it names, if known.
    fn check(&self, url: &str) -> std::result::Result<(ClickLink, &Campaign, &Redirect), Refusal> {
        let verified = self.signer.verify_click(url);
        let code = match &verified {
            Ok(clicked) => clicked.link.campaign.as_str(),
            Err(_) => self.signer.campaign_segment(url).unwrap_or(""),
        };
        let Some(named) = self.catalogue.campaign(code) else {
            return Err(Refusal {
                error: Error::UnknownCampaign(code.to_owned()),
                fallback: None,
            });
        };
        let refuse = |error| Refusal::landing_on(named, error);
        let clicked = verified.map_err(refuse)?;
        let (campaign, redirect) = self.catalogue.landing(&clicked.link).map_err(refuse)?;
        Ok((clicked, campaign, redirect))
    }
}

/// The allowed target of a link's `to=` (none without one), or why it is refused.
fn deep_target(
    to: &Option<String>,
    campaign: &Campaign,
    parse_to: impl FnOnce(&str) -> Result<DeepTarget>,
) -> (Option<DeepTarget>, Option<Error>) {
    let Some(to) = to else {
        return (None, None);
    };
    match parse_to(to).and_then(|t| campaign.check_deep_link(&t).map(|()| t)) {
        Ok(t) => (Some(t), None),
        Err(e) => (None, Some(e)),
    }
}

/// Where a visit that gets no token lands (a bot's, a `HEAD` preview's): the link's
/// allowed `to=` target, else the campaign's destination.
fn tokenless_location(target: Option<DeepTarget>, campaign: &Campaign) -> String {
    target.map_or_else(
        || campaign.destination().to_owned(),
        |t| t.href().to_owned(),
    )
}
/// A bot's click: what to count and where it lands (the campaign's destination, with
/// no token).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BotPlan {
    /// What to add to the day's `bot_clicks`.
    pub record: BotClickRecord,
    /// Where the bot lands: the link's allowed `to=` target or the campaign's
    /// destination, with no token.
    pub location: String,
    /// Why the link's `to=` target was not followed, if it was not.
    pub refused_to: Option<crate::Error>,
}

/// What a visit plans: a person's click, or a bot's.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Planned {
    /// A person's click: counted, credited, with its token.
    Click(ClickPlan),
    /// A bot's click: counted in `bot_clicks`, no token.
    Bot(BotPlan),
}

/// Where a visitor lands, once the visit is recorded.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Landing {
    /// A person's click, with its token, cookie and redirect.
    Click(ClickOutcome),
    /// A bot: it lands on `location` with no token or cookie.
    Bot {
        /// The link's allowed `to=` target or the campaign's destination.
        location: String,
        /// Why the link's `to=` target was not followed, if it was not.
        refused_to: Option<crate::Error>,
    },
}

impl Landing {
    /// Where the visitor is redirected.
    #[must_use]
    pub fn location(&self) -> &str {
        match self {
            Landing::Click(c) => &c.location,
            Landing::Bot { location, .. } => location,
        }
    }
}
