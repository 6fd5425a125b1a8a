//! The catalogue: the campaigns and partners a tracker knows, their coupons, and the
//! landing redirect of each campaign. It decides what needs only the catalogue: whether
//! a link's campaign and partner exist, who a coupon credits, and who earns what on a
//! conversion (the partner and its ancestors' overrides).

use std::collections::HashMap;

use super::campaign::Campaign;
use super::campaign_spec::{CampaignSpec, CampaignStatus};
use super::coupon::{Coupon, coupon_code};
use super::partner::{Partner, PartnerSpec, PartnerStatus, check_profile};
use super::redirect::Redirect;
use crate::code::Code;
use crate::error::rename;
use crate::error::{Error, Result};
use crate::link::Link;
use crate::money::{Money, Percent};
use crate::records::{Commission, Kind};

/// Campaigns, partners and coupons by code, with each campaign's landing redirect.
/// The [`Tracker`](crate::Tracker) keeps one behind a lock; an edge worker keeps one of
/// its own and plans clicks over it ([`ClickPlanner`](crate::ClickPlanner)).
///
/// ```
/// use affiliate_sdk::{CampaignSpec, Catalogue, PartnerSpec};
/// let mut catalogue = Catalogue::new("aff_token")?;
/// catalogue.add_campaign(&CampaignSpec::new("haircare", "https://shop.example/", "USD"))?;
/// catalogue.add_partner(&PartnerSpec::new("abc123"))?;
/// assert!(catalogue.campaign("haircare").is_some());
/// assert_eq!(catalogue.add_partner(&PartnerSpec::new("x").with_parent("nobody"))
///     .unwrap_err().code(), "unknown_partner");
/// # Ok::<(), affiliate_sdk::Error>(())
/// ```
#[derive(Debug, Clone, Default)]
pub struct Catalogue {
    /// The landing parameter (the cookie's name) the redirects add.
    param: String,
    /// Each campaign with its redirect, computed once.
    campaigns: HashMap<Code, (Campaign, Redirect)>,
    partners: HashMap<Code, Partner>,
    coupons: HashMap<Code, Coupon>,
}

impl Catalogue {
    /// An empty catalogue whose redirects add the token as `param` (the cookie's name,
    /// `aff_token` by default).
    pub fn new(param: &str) -> Result<Catalogue> {
        check_param(param)?;
        Ok(Catalogue {
            param: param.to_owned(),
            ..Catalogue::default()
        })
    }

    /// The landing parameter.
    #[must_use]
    pub fn param(&self) -> &str {
        &self.param
    }

    /// Uses `param` as the landing parameter from now on (every redirect is rebuilt).
    pub fn set_param(&mut self, param: &str) -> Result<()> {
        check_param(param)?;
        let redirects = self
            .campaigns
            .values()
            .map(|(c, _)| Redirect::new(c.destination(), param))
            .collect::<Result<Vec<_>>>()?;
        for ((_, redirect), new) in self.campaigns.values_mut().zip(redirects) {
            *redirect = new;
        }
        self.param = param.to_owned();
        Ok(())
    }

    /// Adds or replaces a campaign.
    pub fn add_campaign(&mut self, spec: &CampaignSpec) -> Result<Campaign> {
        self.insert_campaign(Campaign::new(spec)?)
    }

    /// Adds or replaces a campaign whose destination a WHATWG URL parser has already
    /// serialised (see [`Campaign::with_normalized_destination`]).
    pub fn add_normalized_campaign(&mut self, spec: &CampaignSpec) -> Result<Campaign> {
        self.insert_campaign(Campaign::with_normalized_destination(spec)?)
    }

    fn insert_campaign(&mut self, c: Campaign) -> Result<Campaign> {
        let redirect = Redirect::new(c.destination(), &self.param)?;
        self.campaigns.insert(c.code(), (c.clone(), redirect));
        Ok(c)
    }

    /// Adds or replaces a partner. Its parent must exist and must not descend from it;
    /// its coupons must not belong to another partner. The coupons are added to those
    /// it holds already ([`Catalogue::remove_coupon`] takes one away).
    pub fn add_partner(&mut self, spec: &PartnerSpec) -> Result<Partner> {
        let partner = self.check_partner(spec)?;
        self.insert_partner(partner.clone());
        Ok(partner)
    }

    /// What [`Catalogue::add_partner`] would add, checked, changing nothing.
    pub fn check_partner(&self, spec: &PartnerSpec) -> Result<Partner> {
        let code = Code::new(&spec.code).map_err(|e| rename(e, "partner code"))?;
        check_profile(spec)?;
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
        if let Some(p) = parent {
            if !self.partners.contains_key(&p) {
                return Err(Error::UnknownPartner(p.to_string()));
            }
            // Walk up from the parent: reaching this partner would close a cycle.
            let mut at = Some(p);
            let mut steps = 0;
            while let Some(a) = at {
                if a == code || steps > self.partners.len() {
                    return Err(Error::malformed("parent", "would make a cycle"));
                }
                at = self.partners.get(&a).and_then(|x| x.parent);
                steps += 1;
            }
        }
        for c in &coupons {
            if let Some(owner) = self.coupons.get(c).filter(|o| o.partner != code) {
                return Err(Error::malformed(
                    "coupons",
                    format!("coupon {c} belongs to partner {}", owner.partner),
                ));
            }
        }
        // What it holds already stays (coupons are records of their own).
        if let Some(old) = self.partners.get(&code) {
            for c in &old.coupons {
                if !coupons.contains(c) {
                    coupons.push(*c);
                }
            }
        }
        Ok(Partner {
            code,
            parent,
            coupons,
            status: spec.status,
            name: spec.name.clone(),
            email: spec.email.clone(),
            payout_details: spec.payout_details.clone(),
            postback_url: spec.postback_url.clone(),
        })
    }

    fn insert_partner(&mut self, partner: Partner) {
        for c in &partner.coupons {
            self.coupons.entry(*c).or_insert(Coupon {
                code: *c,
                partner: partner.code,
                campaign: None,
            });
        }
        self.partners.insert(partner.code, partner);
    }

    /// Gives `partner` the coupon `code`, for `campaign` only when given. Errors:
    /// `unknown_partner`, `unknown_campaign`, `malformed` for a bad code, and
    /// `conflict` when another partner holds the code.
    pub fn add_coupon(
        &mut self,
        partner: &str,
        code: &str,
        campaign: Option<&str>,
    ) -> Result<Coupon> {
        let coupon = self.check_coupon(partner, code, campaign)?;
        if let Some(p) = self.partners.get_mut(&coupon.partner)
            && !p.coupons.contains(&coupon.code)
        {
            p.coupons.push(coupon.code);
        }
        self.coupons.insert(coupon.code, coupon);
        Ok(coupon)
    }

    /// What [`Catalogue::add_coupon`] would add, checked, changing nothing.
    pub fn check_coupon(
        &self,
        partner: &str,
        code: &str,
        campaign: Option<&str>,
    ) -> Result<Coupon> {
        let partner = Code::new(partner).map_err(|e| rename(e, "partner code"))?;
        if !self.partners.contains_key(&partner) {
            return Err(Error::UnknownPartner(partner.to_string()));
        }
        let code = coupon_code(code)?;
        let campaign = campaign
            .map(|c| Code::new(c).map_err(|e| rename(e, "campaign")))
            .transpose()?;
        if let Some(c) = campaign
            && !self.campaigns.contains_key(&c)
        {
            return Err(Error::UnknownCampaign(c.to_string()));
        }
        if let Some(owner) = self.coupons.get(&code).filter(|o| o.partner != partner) {
            return Err(Error::Exists(format!(
                "coupon {code} belongs to partner {}",
                owner.partner
            )));
        }
        Ok(Coupon {
            code,
            partner,
            campaign,
        })
    }

    /// Takes the coupon `code` away from its partner; `not_found` when nobody holds it.
    pub fn remove_coupon(&mut self, code: &str) -> Result<Coupon> {
        let code = coupon_code(code)?;
        let coupon = self
            .coupons
            .remove(&code)
            .ok_or_else(|| Error::NotFound(format!("coupon {code}")))?;
        if let Some(p) = self.partners.get_mut(&coupon.partner) {
            p.coupons.retain(|c| *c != code);
        }
        Ok(coupon)
    }

    /// The coupon with this code (matched without regard to case).
    #[must_use]
    pub fn coupon(&self, code: &str) -> Option<Coupon> {
        self.coupons.get(&coupon_code(code).ok()?).copied()
    }

    /// Every coupon of `partner` (every coupon when `None`), by code.
    #[must_use]
    pub fn coupons(&self, partner: Option<&Code>) -> Vec<Coupon> {
        let mut v: Vec<Coupon> = match partner {
            // The partner's own list: no scan of every coupon.
            Some(p) => self.partners.get(p).map_or_else(Vec::new, |p| {
                p.coupons
                    .iter()
                    .filter_map(|c| self.coupons.get(c).copied())
                    .collect()
            }),
            None => self.coupons.values().copied().collect(),
        };
        v.sort_by_key(|c| c.code);
        v
    }

    /// The campaign with this code.
    #[must_use]
    pub fn campaign(&self, code: &str) -> Option<&Campaign> {
        self.campaign_by_code(&Code::new(code).ok()?)
    }

    /// The campaign with this code, by code.
    #[must_use]
    pub fn campaign_by_code(&self, code: &Code) -> Option<&Campaign> {
        self.campaigns.get(code).map(|(c, _)| c)
    }

    /// Every campaign, by code.
    #[must_use]
    pub fn campaigns(&self) -> Vec<Campaign> {
        let mut v: Vec<_> = self.campaigns.values().map(|(c, _)| c.clone()).collect();
        v.sort_by_key(Campaign::code);
        v
    }

    /// The partner with this code.
    #[must_use]
    pub fn partner(&self, code: &str) -> Option<&Partner> {
        self.partners.get(&Code::new(code).ok()?)
    }

    /// Every partner, in no order.
    pub(crate) fn partner_refs(&self) -> Vec<&Partner> {
        self.partners.values().collect()
    }

    /// Every partner, by code.
    #[must_use]
    pub fn partners(&self) -> Vec<Partner> {
        let mut v: Vec<_> = self.partners.values().cloned().collect();
        v.sort_by_key(|p| p.code);
        v
    }

    /// The campaign of a link whose partner is known too; `unknown_campaign` or
    /// `unknown_partner` otherwise, and `not_attributable` for a suspended partner
    /// (what a conversion checks: a paused campaign still attributes its tokens).
    pub fn check_link(&self, link: &Link) -> Result<&Campaign> {
        self.find(link).map(|(c, _)| c)
    }

    fn find(&self, link: &Link) -> Result<(&Campaign, &Redirect)> {
        let (campaign, redirect) = self
            .campaigns
            .get(&link.campaign)
            .ok_or_else(|| Error::UnknownCampaign(link.campaign.to_string()))?;
        let partner = self
            .partners
            .get(&link.partner)
            .ok_or_else(|| Error::UnknownPartner(link.partner.to_string()))?;
        if partner.status == PartnerStatus::Suspended {
            return Err(Error::NotAttributable(
                format!("partner {} is suspended", link.partner).into(),
            ));
        }
        Ok((campaign, redirect))
    }

    /// What a new click or impression checks: [`Catalogue::check_link`], and
    /// `not_attributable` for a paused campaign; with the campaign's landing redirect.
    pub(crate) fn landing(&self, link: &Link) -> Result<(&Campaign, &Redirect)> {
        let (campaign, redirect) = self.find(link)?;
        if campaign.status() == CampaignStatus::Paused {
            return Err(Error::NotAttributable(
                format!("campaign {} is paused", link.campaign).into(),
            ));
        }
        Ok((campaign, redirect))
    }

    /// The partner's commission on a conversion of `kind` and `amount` in `campaign`,
    /// and its ancestors' overrides.
    #[must_use]
    pub fn commissions(
        &self,
        campaign: &Campaign,
        partner: &Code,
        kind: &Kind,
        amount: Money,
    ) -> Vec<Commission> {
        self.with_overrides(campaign, partner, campaign.base_commission(kind, amount))
    }

    /// `base`, the referring partner's commission in `campaign`, and its ancestors'
    /// overrides (each its plan's percentage of `base`).
    #[must_use]
    pub fn with_overrides(
        &self,
        campaign: &Campaign,
        partner: &Code,
        base: Money,
    ) -> Vec<Commission> {
        let mut out = vec![Commission {
            partner: *partner,
            level: 0,
            amount: base,
        }];
        out.extend(self.override_chain(campaign, partner).into_iter().map(
            |(level, ancestor, pct)| Commission {
                partner: ancestor,
                level,
                amount: pct.of(base),
            },
        ));
        out
    }

    /// The ancestors of `partner` that earn an override in `campaign`: level,
    /// ancestor, percentage of the partner's commission. A suspended ancestor earns no
    /// override; the levels above it still do.
    #[must_use]
    pub fn override_chain(&self, campaign: &Campaign, partner: &Code) -> Vec<(u8, Code, Percent)> {
        let mut out = Vec::new();
        let mut at = self.partners.get(partner).and_then(|p| p.parent);
        for (level, pct) in (1u8..).zip(campaign.override_percents()) {
            let Some(ancestor) = at else { break };
            let above = self.partners.get(&ancestor);
            if above.is_none_or(|p| p.status == PartnerStatus::Active) {
                out.push((level, ancestor, *pct));
            }
            at = above.and_then(|p| p.parent);
        }
        out
    }

    /// A day's traffic commissions of `partner` in `campaign` (the referring partner's
    /// `base` and its ancestors' overrides, as the ledger writes them); `base` alone
    /// for a campaign no longer in the program.
    #[must_use]
    pub fn traffic_commissions(
        &self,
        campaign: &Code,
        partner: &Code,
        base: Money,
    ) -> Vec<Commission> {
        match self.campaign_by_code(campaign) {
            Some(c) => self.with_overrides(c, partner, base),
            None => vec![Commission {
                partner: *partner,
                level: 0,
                amount: base,
            }],
        }
    }

    /// The overrides `partner`'s traffic in `campaign` pays its ancestors, as
    /// percentages of its own earnings: those whose beneficiary `shown` keeps; none for a
    /// campaign no longer in the program.
    pub(crate) fn traffic_overrides(
        &self,
        campaign: &Code,
        partner: &Code,
        shown: impl Fn(&Code) -> bool,
    ) -> Vec<Percent> {
        self.campaign_by_code(campaign).map_or_else(Vec::new, |c| {
            self.override_chain(c, partner)
                .into_iter()
                .filter(|(_, ancestor, _)| shown(ancestor))
                .map(|(_, _, pct)| pct)
                .collect()
        })
    }

    /// The link a coupon credits: its partner, in `campaign` (needed when several
    /// campaigns exist).
    pub fn coupon_link(&self, coupon: &str, campaign: Option<&str>) -> Result<Link> {
        let coupon = coupon_code(coupon)?;
        let held = self
            .coupons
            .get(&coupon)
            .ok_or_else(|| Error::NotAttributable("unknown coupon".into()))?;
        let partner = held.partner;
        if let Some(only) = held.campaign {
            // A coupon for one campaign credits that campaign only.
            if campaign.is_some_and(|c| c != only.as_str()) {
                return Err(Error::NotAttributable(
                    format!("coupon {coupon} is for campaign {only}").into(),
                ));
            }
            return Ok(Link::new(only, partner));
        }
        let campaign = match campaign {
            Some(c) => {
                let c = Code::new(c).map_err(|e| rename(e, "campaign"))?;
                if !self.campaigns.contains_key(&c) {
                    return Err(Error::UnknownCampaign(c.to_string()));
                }
                c
            }
            None => {
                let mut codes = self.campaigns.keys();
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
        Ok(Link::new(campaign, partner))
    }
}

fn check_param(param: &str) -> Result<()> {
    if param.is_empty() || param.len() > 64 {
        return Err(Error::malformed(
            "landing parameter",
            "must be 1 to 64 bytes",
        ));
    }
    Ok(())
}
