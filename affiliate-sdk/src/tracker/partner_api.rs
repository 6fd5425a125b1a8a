//! What a signed-in partner may see and do, always within its subtree (itself and its
//! descendants): its profile, links for itself or a descendant, its ads, reports and
//! conversions of the subtree (with only the commissions of partners in it), its own
//! balance and payouts. Every partner named in a request outside the subtree is
//! `forbidden`; an ad, order or payout of another partner is `not_found`.
//!
//! Records are scoped to the partners who earned on them: a conversion shows to every
//! partner with a commission on it (an old parent keeps seeing the orders it holds
//! overrides on after its child moved away), and otherwise to the ancestors of its
//! partner only from the time the relation held: a partner moved to a new parent
//! brings none of its earlier clicks, sids, ads or conversions along.

use std::collections::HashMap;
use std::sync::PoisonError;

use super::Tracker;
use crate::answers::{PartnerConversion, PartnerConversionPage, PartnerMe};
use crate::attribution::listing::{ConversionQuery, conversions_page};
use crate::attribution::stats::{StatsPage, aggregate, page};
use crate::attribution::{AdSpec, Catalogue, StatsQuery, merge_patch};
use crate::code::Code;
use crate::error::{Error, Result};
use crate::ledger::{Balance, Payout};
use crate::money::Currency;

/// The fields a partner may change on itself.
const SELF_FIELDS: [&str; 3] = ["name", "payout_details", "postback_url"];

/// Whether `partner` is `root` or one of its descendants, walking up from `partner`;
/// `memo` keeps what earlier walks found.
fn within(
    catalogue: &Catalogue,
    partner: Code,
    root: Code,
    memo: &mut HashMap<Code, Option<u64>>,
) -> bool {
    seen_since(catalogue, &HashMap::new(), partner, root, memo).is_some()
}

/// Since when (Unix seconds) `root` sees the records of `partner`: `Some(0)` for itself,
/// for a descendant the latest move on the way up from it (each move starts the new
/// ancestors' view afresh), `None` outside the subtree.
fn seen_since(
    catalogue: &Catalogue,
    moves: &HashMap<Code, u64>,
    partner: Code,
    root: Code,
    memo: &mut HashMap<Code, Option<u64>>,
) -> Option<u64> {
    if let Some(known) = memo.get(&partner) {
        return *known;
    }
    let mut at = Some(partner);
    let mut since = 0;
    let mut found = None;
    for _ in 0..10_000 {
        let Some(p) = at else { break };
        if p == root {
            found = Some(since);
            break;
        }
        since = since.max(moves.get(&p).copied().unwrap_or(0));
        at = catalogue.partner(p.as_str()).and_then(|x| x.parent);
    }
    memo.insert(partner, found);
    found
}

/// Whether `caller` sees conversion `c`: it earned on it, or `c`'s partner is in its
/// subtree and was when `c` was made.
fn sees_conversion(
    catalogue: &Catalogue,
    moves: &HashMap<Code, u64>,
    c: &crate::records::Conversion,
    caller: Code,
    memo: &mut HashMap<Code, Option<u64>>,
) -> bool {
    c.link.partner == caller
        || c.commissions.iter().any(|k| k.partner == caller)
        || seen_since(catalogue, moves, c.link.partner, caller, memo)
            // Strictly after: a move and a sale in one second count the sale before.
            .is_some_and(|since| since == 0 || c.converted_at > since)
}

fn outside(partner: &str) -> Error {
    Error::Forbidden(format!(
        "partner {partner} is not you or one of your descendants"
    ))
}

impl Tracker {
    /// Checks that `partner` is `caller` or one of its descendants.
    pub fn check_in_subtree(&self, caller: Code, partner: &str) -> Result<Code> {
        let code = Code::new(partner)?;
        let catalogue = self.read();
        if catalogue.partner(partner).is_none()
            || !within(&catalogue, code, caller, &mut HashMap::new())
        {
            return Err(outside(partner));
        }
        Ok(code)
    }

    /// The caller's profile as its API shows it: code, name, parent, status, email,
    /// payout details, postback URL, its children, and the active campaigns with
    /// their plans.
    pub fn partner_me(&self, caller: Code) -> Result<PartnerMe> {
        let catalogue = self.read();
        let me = catalogue
            .partner(caller.as_str())
            .ok_or_else(|| Error::UnknownPartner(caller.to_string()))?;
        let mut children: Vec<Code> = catalogue
            .partner_refs()
            .iter()
            .filter(|p| p.parent == Some(caller))
            .map(|p| p.code)
            .collect();
        children.sort_unstable();
        let mut campaigns: Vec<serde_json::Value> = catalogue
            .campaigns()
            .iter()
            .filter(|c| c.status() == crate::attribution::CampaignStatus::Active)
            .map(|c| {
                let mut plan = serde_json::to_value(c.spec()).unwrap_or_default();
                if let Some(o) = plan.as_object_mut() {
                    // The merchant's settings stay the merchant's.
                    for k in ["status", "max_browser_amount", "browser_conversions"] {
                        o.remove(k);
                    }
                }
                plan
            })
            .collect();
        campaigns.sort_by(|a, b| a["code"].as_str().cmp(&b["code"].as_str()));
        Ok(PartnerMe {
            code: me.code,
            name: me.name.clone(),
            parent: me.parent,
            status: me.status,
            email: me.email.clone(),
            payout_details: me.payout_details.clone(),
            postback_url: me.postback_url.clone(),
            children,
            campaigns,
        })
    }

    /// Changes the caller's own `name`, `payout_details` or `postback_url` (a merge
    /// patch); any other field is `forbidden`. Answers the profile.
    ///
    /// **Blocking**: waits for the store; from async code, call it off the runtime's
    /// workers (`tokio::task::spawn_blocking`).
    pub fn update_partner_me(&self, caller: Code, patch: &serde_json::Value) -> Result<PartnerMe> {
        let fields = patch
            .as_object()
            .ok_or_else(|| Error::malformed("body", "expected a JSON object"))?;
        if let Some(k) = fields.keys().find(|k| !SELF_FIELDS.contains(&k.as_str())) {
            let shown: String = k.chars().take(40).collect();
            return Err(Error::Forbidden(format!(
                "a partner may change name, payout_details and postback_url, not {shown:?}"
            )));
        }
        self.update_partner(caller.as_str(), patch)?;
        self.partner_me(caller)
    }

    /// A signed link to `campaign` for `partner` (the caller when `None`, else one of
    /// its descendants), with one of that partner's ads, a sid and a deep-link target
    /// `to` on one of the campaign's `deep_link_hosts` (see [`Tracker::link`]).
    ///
    /// **Blocking**: waits for the store; from async code, call it off the runtime's
    /// workers (`tokio::task::spawn_blocking`).
    pub fn partner_link(
        &self,
        caller: Code,
        campaign: &str,
        partner: Option<&str>,
        ad: Option<&str>,
        sid: Option<&str>,
        to: Option<&str>,
    ) -> Result<String> {
        let partner = match partner {
            Some(p) => self.check_in_subtree(caller, p)?,
            None => caller,
        };
        if let Some(ad) = ad {
            let ads = self.ads(partner.as_str())?;
            if !ads.iter().any(|a| a.code == ad) {
                let shown: String = ad.chars().take(64).collect();
                return Err(Error::NotFound(format!(
                    "ad {shown:?} of partner {partner}"
                )));
            }
        }
        self.link(campaign, partner.as_str(), ad, sid, to)
    }

    /// The ads of the caller, or of `partner`, one of its descendants (to make links
    /// for it), by code.
    ///
    /// **Blocking**: waits for the store; from async code, call it off the runtime's
    /// workers (`tokio::task::spawn_blocking`).
    pub fn partner_ads(&self, caller: Code, partner: Option<&str>) -> Result<Vec<AdSpec>> {
        let whose = match partner {
            Some(p) => self.check_in_subtree(caller, p)?,
            None => caller,
        };
        self.ads(whose.as_str())
    }

    /// Adds an ad of the caller's (`partner` in the spec, when given, must be the
    /// caller); `conflict` when it has one with this code.
    ///
    /// **Blocking**: waits for the store; from async code, call it off the runtime's
    /// workers (`tokio::task::spawn_blocking`).
    pub fn create_partner_ad(&self, caller: Code, mut ad: AdSpec) -> Result<AdSpec> {
        if !ad.partner.is_empty() && ad.partner != caller.as_str() {
            return Err(Error::Forbidden("an ad is made for yourself".into()));
        }
        ad.partner = caller.to_string();
        let code = ad.check()?.0;
        if self
            .partner_ads(caller, None)?
            .iter()
            .any(|a| a.code == code.as_str())
        {
            return Err(Error::Exists(format!("ad {code}")));
        }
        self.add_ad(&ad)
    }

    /// Changes one of the caller's ads (a merge patch; its code and partner stay);
    /// `not_found` for an ad it does not have.
    ///
    /// **Blocking**: waits for the store; from async code, call it off the runtime's
    /// workers (`tokio::task::spawn_blocking`).
    pub fn update_partner_ad(
        &self,
        caller: Code,
        code: &str,
        patch: &serde_json::Value,
    ) -> Result<AdSpec> {
        let current = self
            .partner_ads(caller, None)?
            .into_iter()
            .find(|a| a.code == code)
            .ok_or_else(|| {
                let shown: String = code.chars().take(64).collect();
                Error::NotFound(format!("ad {shown:?}"))
            })?;
        if patch.get("code").is_some() || patch.get("partner").is_some() {
            return Err(Error::malformed("body", "an ad's code and partner stay"));
        }
        let mut json = serde_json::to_value(&current).map_err(|e| Error::Store(e.to_string()))?;
        merge_patch(&mut json, patch);
        let ad: AdSpec =
            serde_json::from_value(json).map_err(|e| Error::malformed("body", e.to_string()))?;
        self.add_ad(&ad)
    }

    /// The merchant's report restricted to the caller's subtree: only its partners'
    /// clicks and conversions, and of each conversion's commissions only those of
    /// partners in the subtree (a child never sees its parent's override). A
    /// `partner` filter outside the subtree is `forbidden`.
    ///
    /// **Blocking**: waits for the store; from async code, call it off the runtime's
    /// workers (`tokio::task::spawn_blocking`).
    pub fn partner_stats(
        &self,
        caller: Code,
        query: &StatsQuery,
    ) -> Result<Vec<crate::attribution::StatsRow>> {
        if let Some(p) = query.partner {
            self.check_in_subtree(caller, p.as_str())?;
        }
        let (from, to) = self.day_range(query.from_day, query.to_day)?;
        let mut counters = self.store.counters(from, to, query.campaign.as_ref())?;
        let mut conversions = self.store.conversions(from, to)?;
        let catalogue = self.read();
        let moves = self.moves.read().unwrap_or_else(PoisonError::into_inner);
        let mut seen = HashMap::new();
        // A day's counters show from the day of the move on.
        counters.retain(|k, _| {
            seen_since(&catalogue, &moves, k.link.partner, caller, &mut seen)
                .is_some_and(|since| k.day >= crate::store::day_of(since))
        });
        conversions.retain(|c| sees_conversion(&catalogue, &moves, c, caller, &mut seen));
        let mut memo = HashMap::new();
        for c in &mut conversions {
            c.commissions
                .retain(|k| within(&catalogue, k.partner, caller, &mut memo));
        }
        let memo = std::cell::RefCell::new(memo);
        // The levels of the caller's subtree only, as for a conversion.
        let overrides = |campaign: &crate::code::Code, partner: &crate::code::Code| {
            catalogue.traffic_overrides(campaign, partner, |c| {
                within(&catalogue, *c, caller, &mut memo.borrow_mut())
            })
        };
        let mut q = query.clone();
        q.from_day = Some(from);
        q.to_day = Some(to);
        Ok(aggregate(&q, &counters, &conversions, &overrides))
    }

    /// One page of [`Tracker::partner_stats`].
    ///
    /// **Blocking**: waits for the store; from async code, call it off the runtime's
    /// workers (`tokio::task::spawn_blocking`).
    pub fn partner_stats_page(
        &self,
        caller: Code,
        query: &StatsQuery,
        limit: usize,
        cursor: Option<&str>,
    ) -> Result<StatsPage> {
        page(self.partner_stats(caller, query)?, limit, cursor)
    }

    /// One page of the subtree's conversions, newest first, as the partner API shows
    /// them: order id, time, campaign, partner, ad, sid, kind, amount, currency,
    /// status and `commission`, the caller's own commission on it. Never the customer.
    /// A `partner` filter outside the subtree is `forbidden`.
    ///
    /// **Blocking**: waits for the store; from async code, call it off the runtime's
    /// workers (`tokio::task::spawn_blocking`).
    pub fn partner_conversions_page(
        &self,
        caller: Code,
        query: &ConversionQuery,
        limit: usize,
        cursor: Option<&str>,
    ) -> Result<PartnerConversionPage> {
        if let Some(p) = query.partner {
            self.check_in_subtree(caller, p.as_str())?;
        }
        let (from, to) = self.day_range(query.from_day, query.to_day)?;
        let mut all = self.store.conversions(from, to)?;
        {
            let catalogue = self.read();
            let moves = self.moves.read().unwrap_or_else(PoisonError::into_inner);
            let mut seen = HashMap::new();
            all.retain(|c| sees_conversion(&catalogue, &moves, c, caller, &mut seen));
        }
        let page = conversions_page(all, query, limit, cursor)?;
        Ok(PartnerConversionPage {
            conversions: page
                .conversions
                .iter()
                .map(|c| PartnerConversion::new(c, caller))
                .collect(),
            next_cursor: page.next_cursor,
        })
    }

    /// The caller's balance per currency.
    ///
    /// **Blocking**: waits for the store; from async code, call it off the runtime's
    /// workers (`tokio::task::spawn_blocking`).
    pub fn partner_balance(&self, caller: Code) -> Result<Vec<(Code, Currency, Balance)>> {
        self.balances(Some(caller.as_str()), None)
    }

    /// The caller's payouts, newest first.
    ///
    /// **Blocking**: waits for the store; from async code, call it off the runtime's
    /// workers (`tokio::task::spawn_blocking`).
    pub fn partner_payouts(&self, caller: Code) -> Result<Vec<Payout>> {
        self.payouts(Some(caller.as_str()), None, None)
    }
}
