//! The catalogue and the click plan of an edge worker: campaigns and partners without a
//! store, and the click decision as a `ClickPlan`.

use affiliate_sdk as core;
use wasm_bindgen::prelude::*;

use crate::{CLICK_IDS, LinkSigner, OrJs, Result, malformed, opt, secs};

/// The campaigns and partners an edge worker knows, and the click plan over them: the
/// core's `Catalogue` and `ClickPlanner`, so a worker decides a click exactly as the
/// server does.
#[wasm_bindgen]
pub struct Catalogue {
    inner: core::Catalogue,
}

#[wasm_bindgen]
impl Catalogue {
    /// An empty catalogue whose redirects and cookies use `param` (`aff_token`).
    #[wasm_bindgen(constructor)]
    pub fn new(param: &str) -> Result<Catalogue> {
        Ok(Catalogue {
            inner: core::Catalogue::new(param).js()?,
        })
    }

    /// Adds or replaces a campaign from the config file's fields (`index.js` checks
    /// their types and names): the destination as the engine's `URL` serialises it;
    /// `amounts` is `[sale_percent, sale_flat, lead_flat, click_flat,
    /// impression_per_mille]`, each empty when not set. Returns the code.
    #[wasm_bindgen(js_name = addCampaign)]
    #[allow(clippy::too_many_arguments)]
    pub fn add_campaign(
        &mut self,
        code: &str,
        destination: &str,
        currency: &str,
        cookie_days: f64,
        attribution: &str,
        min_seconds_to_convert: f64,
        amounts: Vec<String>,
        override_percents: Vec<String>,
        recurring_months: f64,
        deep_link_hosts: Vec<String>,
    ) -> Result<String> {
        let small = |field: &'static str, n: f64| -> Result<u32> {
            u32::try_from(secs(field, n)?).map_err(|_| malformed(field, "too large"))
        };
        let [
            sale_percent,
            sale_flat,
            lead_flat,
            click_flat,
            impression_per_mille,
        ] = <[String; 5]>::try_from(amounts)
            .map_err(|_| malformed("amounts", "expected five amounts"))?
            .map(|a| (!a.is_empty()).then_some(a));
        // Browser conversions are the server's: an edge worker plans clicks.
        let mut spec = core::CampaignSpec::new(code, destination, currency);
        spec.cookie_days = small("cookie_days", cookie_days)?;
        spec.attribution = attribution.parse().js()?;
        spec.min_seconds_to_convert = secs("min_seconds_to_convert", min_seconds_to_convert)?;
        spec.sale_percent = sale_percent;
        spec.sale_flat = sale_flat;
        spec.lead_flat = lead_flat;
        spec.click_flat = click_flat;
        spec.impression_per_mille = impression_per_mille;
        spec.override_percents = override_percents;
        spec.recurring_months = small("recurring_months", recurring_months)?;
        spec.deep_link_hosts = deep_link_hosts;
        Ok(self
            .inner
            .add_normalized_campaign(&spec)
            .js()?
            .code()
            .to_string())
    }

    /// Adds or replaces a partner (`parent` empty when none). Returns the code.
    #[wasm_bindgen(js_name = addPartner)]
    pub fn add_partner(
        &mut self,
        code: &str,
        parent: &str,
        coupons: Vec<String>,
    ) -> Result<String> {
        let mut spec = core::PartnerSpec::new(code);
        spec.parent = opt(parent).map(str::to_owned);
        spec.coupons = coupons;
        Ok(self.inner.add_partner(&spec).js()?.code.to_string())
    }

    /// Plans a click on `url` (see `ClickPlanner::plan`). `prior` is the visitor's
    /// token (empty when none); the cookie gets `domain` (empty for none) and `Secure`
    /// when `secure`. `bot` is decided by the caller (the user-agent patterns are left
    /// out of this module to keep it small). The answer is a [`ClickPlan`].
    #[wasm_bindgen(js_name = planClick)]
    #[allow(clippy::too_many_arguments)]
    pub fn plan_click(
        &self,
        signer: &LinkSigner,
        url: &str,
        prior: &str,
        now_ms: f64,
        domain: &str,
        secure: bool,
        skew_secs: f64,
        bot: bool,
        to_href: &str,
    ) -> Result<ClickPlan> {
        let cookie = core::CookieConfig::new()
            .name(self.inner.param())
            .js()?
            .domain(domain)
            .js()?
            .secure(secure);
        let validation = core::TokenValidation {
            skew_secs: secs("skewSecs", skew_secs)?,
        };
        let now_ms = secs("nowMs", now_ms)?;
        Ok(self.with_planner(signer, &cookie, &validation, |planner| {
            // `to_href`: the link's `to=` as the engine's `URL` serialised it (`index.js`),
            // empty when it did not parse; the core checks it as text.
            let parse_to = |_: &str| core::DeepTarget::from_href(to_href);
            match planner.plan_visit_with(url, opt(prior), bot, now_ms, parse_to) {
                Ok(core::Planned::Bot(b)) => {
                    let r = &b.record;
                    ClickPlan {
                        kind: 2,
                        location: b.location,
                        at: r.at as f64,
                        currency: r.currency.code().to_owned(),
                        ..ClickPlan::of(&r.link, b.refused_to.as_ref())
                    }
                }
                Ok(core::Planned::Click(p)) => {
                    let (o, r) = (p.outcome, &p.record);
                    ClickPlan {
                        kind: 1,
                        click_id: o.click_id.to_string(),
                        unique: o.unique,
                        kept_earlier: o.kept_earlier,
                        dropped_sid: o.dropped_sid,
                        token: o.token,
                        set_cookie: o.set_cookie,
                        location: o.location,
                        at: r.at as f64,
                        currency: r.currency.code().to_owned(),
                        commission: core::format_minor(
                            r.commission_minor.into(),
                            r.currency.exponent(),
                        ),
                        ..ClickPlan::of(&r.link, o.refused_to.as_ref())
                    }
                }
                Err(refusal) => ClickPlan::refused(refusal),
            }
        }))
    }

    /// Where a click on `url` would land, issuing and counting nothing (`HEAD`): a
    /// [`ClickPlan`] of kind 1 with only its `location`, or of kind 0.
    #[wasm_bindgen(js_name = previewClick)]
    pub fn preview_click(&self, signer: &LinkSigner, url: &str, to_href: &str) -> ClickPlan {
        let (cookie, validation) = (core::CookieConfig::new(), core::TokenValidation::default());
        self.with_planner(signer, &cookie, &validation, |planner| {
            match planner.preview_with(url, |_| core::DeepTarget::from_href(to_href)) {
                Ok(location) => ClickPlan {
                    kind: 1,
                    location,
                    ..ClickPlan::default()
                },
                Err(refusal) => ClickPlan::refused(refusal),
            }
        })
    }
}

/// A click as the core's planner decided it. `kind`: 1, a person's click (a token and
/// the click's record); 2, a bot's click (its record, no token); 0, a click that
/// credits nobody (`errorCode`, `errorMessage`, and the `fallback` destination, or
/// none: 404). For kinds 1 and 2, `errorCode` and `errorMessage` say why the link's
/// `to=` page was not followed (empty when it was, or there was none). Fields that do
/// not apply to a kind are empty (or `false`, `0`).
#[wasm_bindgen(getter_with_clone)]
#[derive(Default)]
pub struct ClickPlan {
    pub kind: u8,
    #[wasm_bindgen(js_name = clickId)]
    pub click_id: String,
    pub campaign: String,
    pub partner: String,
    pub ad: Option<String>,
    pub sid: Option<String>,
    pub unique: bool,
    #[wasm_bindgen(js_name = keptEarlier)]
    pub kept_earlier: bool,
    #[wasm_bindgen(js_name = droppedSid)]
    pub dropped_sid: bool,
    pub token: String,
    #[wasm_bindgen(js_name = setCookie)]
    pub set_cookie: Option<String>,
    pub location: String,
    /// Unix seconds.
    pub at: f64,
    pub currency: String,
    /// The click's commission, a decimal string.
    pub commission: String,
    #[wasm_bindgen(js_name = errorCode)]
    pub error_code: String,
    #[wasm_bindgen(js_name = errorMessage)]
    pub error_message: String,
    pub fallback: Option<String>,
}

impl ClickPlan {
    /// The link's codes and a refused deep link's error (kinds 1 and 2).
    fn of(link: &core::Link, refused_to: Option<&core::Error>) -> ClickPlan {
        ClickPlan {
            campaign: link.campaign.to_string(),
            partner: link.partner.to_string(),
            ad: link.ad.map(|a| a.to_string()),
            sid: link.sid.map(|s| s.to_string()),
            error_code: refused_to.map_or("", core::Error::code).to_owned(),
            error_message: refused_to.map(ToString::to_string).unwrap_or_default(),
            ..ClickPlan::default()
        }
    }

    /// A click that credits nobody: kind 0.
    fn refused(refusal: core::Refusal) -> ClickPlan {
        ClickPlan {
            kind: 0,
            error_code: refusal.error.code().to_owned(),
            error_message: refusal.error.to_string(),
            fallback: refusal.fallback,
            ..ClickPlan::default()
        }
    }
}

impl Catalogue {
    /// Runs `f` with the core's click planner over this catalogue.
    fn with_planner<T>(
        &self,
        signer: &LinkSigner,
        cookie: &core::CookieConfig,
        validation: &core::TokenValidation,
        f: impl FnOnce(&core::ClickPlanner<'_>) -> T,
    ) -> T {
        CLICK_IDS.with(|ids| {
            f(&core::ClickPlanner {
                catalogue: &self.inner,
                signer: &signer.inner,
                cookie,
                validation,
                ids: &ids.borrow(),
            })
        })
    }
}
