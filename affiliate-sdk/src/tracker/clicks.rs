//! Clicks, landings and impressions: the tracker's side of the click path (the plan is
//! `attribution::click`; the store only counts).

use super::Tracker;
use crate::attribution::Catalogue;
use crate::attribution::click::{ClickOutcome, ClickPlanner, Landing, Planned, Refusal};
use crate::error::{Error, Result};
use crate::link::Link;
use crate::store::ImpressionRecord;

impl Tracker {
    /// The landing step of a shop's own server, for one request: `method`, its `path`
    /// and its raw `query` (no `?`). A `GET` or `HEAD` whose query carries a fresh,
    /// valid token in the landing parameter (`aff_token`) gets
    /// `Some(`[`LandingRedirect`](crate::LandingRedirect)`)`: a `302` to the same path and query without the
    /// token, with the `Set-Cookie` of [`Tracker::set_cookie_for`], so the cookie is
    /// first-party and set by the shop's own response. `None` when there is no token
    /// (or another method): the request goes on unchanged. An error (as
    /// [`Tracker::set_cookie_for`]: a forged, stale or mangled token; `malformed` for a
    /// path that does not start with `/`) changes nothing either: the shop serves the
    /// page as asked and sets no cookie. Reads no store.
    ///
    /// ```
    /// # use affiliate_sdk::*;
    /// # let tracker = Tracker::new(LinkSigner::new(Keyring::generate()?, "https://t.example/go")?,
    /// #     std::sync::Arc::new(MemoryStore::new()));
    /// # tracker.add_campaign(&CampaignSpec::new("haircare", "https://shop.example/", "USD"))?;
    /// # tracker.add_partner(&PartnerSpec::new("abc123"))?;
    /// # let token = tracker.click(&tracker.signer().build("haircare", "abc123", None, None)?, None)?.token;
    /// let query = format!("color=red&aff_token={token}");
    /// let landing = tracker.landing("GET", "/products/shampoo", &query)?.expect("a landing");
    /// assert_eq!(landing.location, "/products/shampoo?color=red");
    /// assert!(landing.set_cookie.starts_with("aff_token=v1.") && landing.set_cookie.contains("HttpOnly"));
    /// assert!(tracker.landing("GET", "/products/shampoo", "color=red")?.is_none());
    /// assert!(tracker.landing("GET", "/", "aff_token=v1.forged").is_err());
    /// # Ok::<(), affiliate_sdk::Error>(())
    /// ```
    pub fn landing(
        &self,
        method: &str,
        path: &str,
        query: &str,
    ) -> Result<Option<crate::attribution::LandingRedirect>> {
        crate::attribution::decide_landing(
            self.signer.keyring(),
            &self.validation,
            &self.cookie,
            self.clock.now(),
            method,
            path,
            query,
        )
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
            Err(error) => Err(self.refusal_after(&plan.record.link, error)),
        }
    }

    /// A visit of `url` by a client with this `User-Agent` (`None` when there is no
    /// request to read one from): a bot ([`is_bot`](crate::is_bot)) lands on the
    /// campaign's destination with no token or cookie and counts in `bot_clicks`;
    /// anyone else's click is [`Tracker::land`]. What an HTTP click handler calls.
    #[cfg(feature = "bots")]
    pub fn visit(
        &self,
        url: &str,
        prior_token: Option<&str>,
        user_agent: Option<&str>,
    ) -> std::result::Result<Landing, Refusal> {
        self.visit_as(url, prior_token, user_agent.is_some_and(crate::is_bot))
    }

    /// [`Tracker::visit`] with the bot decided by the caller (`bot`).
    pub fn visit_as(
        &self,
        url: &str,
        prior_token: Option<&str>,
        bot: bool,
    ) -> std::result::Result<Landing, Refusal> {
        let planned = {
            let catalogue = self.read();
            self.planner(&catalogue)
                .plan_visit(url, prior_token, bot, self.clock.now_millis())?
        };
        let (recorded, link, landing) = match planned {
            Planned::Click(plan) => (
                self.store.record_click(&plan.record),
                plan.record.link,
                Landing::Click(plan.outcome),
            ),
            Planned::Bot(bot) => (
                self.store.record_bot_click(&bot.record),
                bot.record.link,
                Landing::Bot {
                    location: bot.location,
                    refused_to: bot.refused_to,
                },
            ),
        };
        match recorded {
            Ok(()) => Ok(landing),
            Err(error) => Err(self.refusal_after(&link, error)),
        }
    }

    /// A click the store failed to record: nothing is credited, the visitor still
    /// lands on the campaign's destination.
    fn refusal_after(&self, link: &Link, error: Error) -> Refusal {
        match self.read().campaign_by_code(&link.campaign) {
            Some(campaign) => Refusal::landing_on(campaign, error),
            None => Refusal {
                error,
                fallback: None,
            },
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
        self.impression_of(url).map(|i| i.link)
    }

    /// An impression of the link `url` was served: verifies it and counts it.
    pub fn impression(&self, url: &str) -> Result<()> {
        self.store.record_impression(&self.impression_of(url)?)
    }

    /// The impression a served link counts, once verified against the catalogue.
    fn impression_of(&self, url: &str) -> Result<ImpressionRecord> {
        let link = self.signer.verify_click(url)?.link;
        let catalogue = self.read();
        let (campaign, _) = catalogue.landing(&link)?;
        Ok(ImpressionRecord {
            link,
            at: self.clock.now(),
            currency: campaign.currency(),
            per_mille_minor: campaign.impression_per_mille().minor(),
            paid_cap: campaign.spec().daily_paid_impression_cap,
        })
    }
}
