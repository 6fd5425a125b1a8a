//! The [`Tracker`]'s conversions: attribute, record exactly once (with a recurring
//! customer's binding in the same write), and move through the statuses.

use super::Tracker;
use crate::attribution::days::add_months;
use crate::attribution::decide::check_min_time;
use crate::attribution::{
    Campaign, Conversion, ConversionRequest, Evidence, Kind, ManualConversion, Status,
    attribute_token, check_id,
};
use crate::click_id::ClickId;
use crate::error::{ClaimsError, Error, Result};
use crate::link::Link;
use crate::money::Money;
use crate::store::{Binding, Inserted, StatusChange};

/// Who a conversion credits and on what evidence.
struct Attributed {
    link: Link,
    click_id: Option<ClickId>,
    evidence: Evidence,
}

impl Tracker {
    /// Attributes a conversion from a pixel, beacon or postback and records it exactly
    /// once. See the module docs for the rules. A replayed order id returns the first
    /// record with `duplicate` set; other values under the same order id are a
    /// `conflict`.
    pub fn convert(&self, req: &ConversionRequest) -> Result<Conversion> {
        let (amount, kind) = parse_order(
            &req.order_id,
            &req.amount,
            &req.currency,
            &req.kind,
            req.customer_id.as_deref(),
        )?;
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
        let (amount, kind) = parse_order(
            &req.order_id,
            &req.amount,
            &req.currency,
            &req.kind,
            req.customer_id.as_deref(),
        )?;
        let link = Link::parse(
            &req.campaign,
            &req.partner,
            req.ad.as_deref(),
            req.sid.as_deref(),
        )?;
        self.read().check_link(&link)?;
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
        let (recurring, commissions) = {
            let catalogue = self.read();
            let campaign = catalogue.check_link(&attributed.link)?;
            let commissions =
                catalogue.commissions(campaign, &attributed.link.partner, &kind, amount);
            (campaign.recurring_months() > 0, commissions)
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
            (Kind::Sale, Some(_)) if recurring && conversion.evidence != Evidence::Customer => {
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
        // The campaign and partner must exist; the campaign sets the minimum time.
        let v = attribute_token(self.signer.keyring(), token, now, &self.validation, |v| {
            Ok(self.read().check_link(&v.link())?.min_seconds_to_convert())
        })?;
        Ok(Attributed {
            link: v.link(),
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
        let (window, min_seconds) = {
            let catalogue = self.read();
            let campaign = catalogue.check_link(&click.link)?;
            (campaign.window_secs(), campaign.min_seconds_to_convert())
        };
        let ends = click.at.saturating_add(window);
        if now >= ends.saturating_add(self.validation.skew_secs) {
            return Err(ClaimsError::Expired { expired_at: ends }.into());
        }
        check_min_time(min_seconds, click.at, now)?;
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
}

/// Checks an order's ids and parses its amount and kind.
fn parse_order(
    order_id: &str,
    amount: &str,
    currency: &str,
    kind: &str,
    customer_id: Option<&str>,
) -> Result<(Money, Kind)> {
    check_id("order_id", order_id)?;
    let amount = Money::parse(amount, currency)?;
    let kind: Kind = kind.parse()?;
    if let Some(c) = customer_id {
        check_id("customer_id", c)?;
    }
    Ok((amount, kind))
}

fn same_or_conflict(mut existing: Conversion, amount: Money, kind: &Kind) -> Result<Conversion> {
    if existing.amount == amount && existing.kind == *kind {
        existing.duplicate = true;
        Ok(existing)
    } else {
        Err(Error::Conflict(existing.order_id))
    }
}
