//! The catalogue and the click plan of an edge worker: campaigns and partners without a
//! store, and the click decision joined in one string.

use affiliate_sdk as core;
use wasm_bindgen::prelude::*;

use crate::{CLICK_IDS, LinkSigner, OrJs, Result, SEP, malformed, opt, secs};

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
    /// when `secure`. The answer's fields are joined by `\u{1f}`: `1`, click id,
    /// campaign, partner, ad, sid, unique, kept earlier, dropped sid (flags `1`/`0`),
    /// token, `Set-Cookie` (empty when the campaign waits for consent), location, at
    /// (Unix seconds), currency, click commission; for a `bot`'s click (decided by the
    /// caller: the user-agent patterns are left out of this module to keep it small):
    /// `2`, campaign, partner, ad, sid, at, currency, location; or for a click that
    /// credits nobody: `0`, error code, message, fallback destination (empty: 404).
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
    ) -> Result<String> {
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
        let flag = |b: bool| if b { "1" } else { "0" };
        Ok(self.with_planner(signer, &cookie, &validation, |planner| {
            // `to_href`: the link's `to=` as the engine's `URL` serialised it (`index.js`),
            // empty when it did not parse; the core checks it as text.
            let parse_to = |_: &str| core::DeepTarget::from_href(to_href);
            match planner.plan_visit_with(url, opt(prior), bot, now_ms, parse_to) {
                Ok(core::Planned::Bot(b)) => {
                    let link = &b.record.link;
                    let (to_code, to_message) = refused(b.refused_to.as_ref());
                    [
                        "2",
                        link.campaign.as_str(),
                        link.partner.as_str(),
                        link.ad.as_ref().map_or("", core::Code::as_str),
                        link.sid.as_ref().map_or("", core::Sid::as_str),
                        &b.record.at.to_string(),
                        b.record.currency.code(),
                        to_code,
                        &to_message,
                        &b.location,
                    ]
                    .join(&SEP.to_string())
                }
                Ok(core::Planned::Click(p)) => {
                    let r = &p.record;
                    let (o, link) = (&p.outcome, &r.link);
                    let (to_code, to_message) = refused(o.refused_to.as_ref());
                    [
                        "1",
                        &o.click_id.to_string(),
                        link.campaign.as_str(),
                        link.partner.as_str(),
                        link.ad.as_ref().map_or("", core::Code::as_str),
                        link.sid.as_ref().map_or("", core::Sid::as_str),
                        flag(o.unique),
                        flag(o.kept_earlier),
                        flag(o.dropped_sid),
                        &o.token,
                        o.set_cookie.as_deref().unwrap_or(""),
                        &o.location,
                        &r.at.to_string(),
                        r.currency.code(),
                        &core::format_minor(r.commission_minor.into(), r.currency.exponent()),
                        to_code,
                        &to_message,
                    ]
                    .join(&SEP.to_string())
                }
                Err(refusal) => refusal_answer(&refusal),
            }
        }))
    }

    /// Where a click on `url` would land, issuing and counting nothing (`HEAD`):
    /// `1` and the destination, or `0`, error code, message and fallback destination.
    #[wasm_bindgen(js_name = previewClick)]
    pub fn preview_click(&self, signer: &LinkSigner, url: &str, to_href: &str) -> String {
        let (cookie, validation) = (core::CookieConfig::new(), core::TokenValidation::default());
        self.with_planner(signer, &cookie, &validation, |planner| {
            match planner.preview_with(url, |_| core::DeepTarget::from_href(to_href)) {
                Ok(destination) => format!("1{SEP}{destination}"),
                Err(refusal) => refusal_answer(&refusal),
            }
        })
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

/// A refused deep link's error code and message, or two empty fields.
fn refused(e: Option<&core::Error>) -> (&'static str, String) {
    e.map_or(("", String::new()), |e| {
        (e.code(), e.to_string().replace(SEP, " "))
    })
}

/// A refused click as `planClick` and `previewClick` answer it: `0`, the error's code
/// and message, and the fallback destination (empty: 404).
fn refusal_answer(refusal: &core::Refusal) -> String {
    [
        "0",
        refusal.error.code(),
        &refusal.error.to_string(),
        refusal.fallback.as_deref().unwrap_or(""),
    ]
    .join(&SEP.to_string())
}
