//! The [`Tracker`]'s conversions: attribute (from an authenticated postback, a
//! manual entry or the browser under its campaign's rules), record exactly once (with
//! a recurring customer's binding in the same write, replacing what an authenticated
//! channel replaces), and move through the statuses.

use super::Tracker;
use crate::attribution::browser::check_browser_order;
use crate::attribution::days::add_months;
use crate::attribution::decide::check_min_time;
use crate::attribution::{
    BrowserConversion, Campaign, Channel, Conversion, ConversionRequest, Evidence, Kind,
    ManualConversion, Status, attribute_token, check_id,
};
use crate::click_id::ClickId;
use crate::code::Code;
use crate::error::{ClaimsError, Error, Result};
use crate::link::Link;
use crate::money::Money;
use crate::order::OrderFields;
use crate::store::{Binding, Bindings, Inserted};
use crate::writes::StoreWrites as _;

/// Who a conversion credits and on what evidence.
struct Attributed {
    link: Link,
    click_id: Option<ClickId>,
    evidence: Evidence,
}

/// An order's checked fields.
struct Order {
    order_id: String,
    kind: Kind,
    amount: Money,
    customer_id: Option<String>,
}

impl Tracker {
    /// Attributes a conversion from a server postback (an authenticated channel) and
    /// records it exactly once. See the module docs for the rules. A replayed order id
    /// returns the first record with `duplicate` set; other values under the same
    /// order id are a `conflict`. An unsigned browser record of the order id (pending
    /// or rejected) is replaced, and so is a rejected record that credited another
    /// click or partner: the answer has `replaced` set and the old record is kept
    /// ([`Tracker::replaced_conversions`]).
    ///
    /// **Blocking**: waits for the store; from async code, call it off the runtime's
    /// workers (`tokio::task::spawn_blocking`).
    pub fn convert(&self, req: &ConversionRequest) -> Result<Conversion> {
        let order = parse_order(
            &req.order_id,
            &req.amount,
            &req.currency,
            &req.kind,
            req.customer_id.as_deref(),
        )?;
        let existing = self.store.conversion(&order.order_id)?;
        if let Some(e) = existing.as_ref().filter(|e| !e.may_be_replaced()) {
            return self.replay(e.clone(), &order);
        }
        let now = self.clock.now();
        let attributed = match self.attribute(req, &order.kind, now) {
            Ok(a) => a,
            // The evidence no longer holds (an expired token): a record the merchant
            // vouched for still answers its replay, as it did before.
            Err(e) => {
                return match existing {
                    Some(x) if x.channel.is_authenticated() && !matches!(e, Error::Store(_)) => {
                        self.replay(x, &order)
                    }
                    _ => Err(e),
                };
            }
        };
        self.record(order, attributed, Channel::Server, None, now)
    }

    /// Attributes a conversion the browser reported (the public pixel or beacon) by its
    /// session token, under its campaign's `browser_conversions` rules: the merchant's
    /// order signature (`osig`) is required unless the campaign is `open`, and then an
    /// unsigned order is limited (currency, kind, amount, conversions per click).
    ///
    /// The token and the signature are checked before the order id is looked at, so
    /// without them the answer never depends on what is recorded. An unsigned report
    /// of an order id already recorded is a replay only when it comes from the same
    /// click with the same values; otherwise it is answered as a new conversion would
    /// be (`withheld`: nothing is recorded), so the answer never says which order ids
    /// exist. A signed one replaces an unsigned record as an authenticated channel does.
    ///
    /// ```
    /// # use std::sync::Arc;
    /// # use affiliate_sdk::*;
    /// # let tracker = Tracker::new(LinkSigner::new(Keyring::generate()?, "https://t.example/go")?,
    /// #     Arc::new(MemoryStore::new()));
    /// # let mut c = CampaignSpec::new("haircare", "https://shop.example/", "USD");
    /// # c.sale_percent = Some("10".into());
    /// # tracker.add_campaign(&c)?;
    /// # tracker.add_partner(&PartnerSpec::new("abc123"))?;
    /// # let token = tracker.click(&tracker.signer().build("haircare", "abc123", None, None)?, None)?.token;
    /// let mut order = BrowserConversion::sale("A-1", "49.90", "USD");
    /// order.token = Some(token);
    /// // The campaign takes signed orders only (the default).
    /// assert_eq!(tracker.convert_browser(&order).unwrap_err().code(), "not_attributable");
    /// order.osig = Some(tracker.signer().keyring().sign_order("A-1", "49.90", "USD", "sale")?);
    /// let conv = tracker.convert_browser(&order)?;
    /// assert_eq!((conv.link.partner.as_str(), conv.channel), ("abc123", Channel::SignedBrowser));
    /// # Ok::<(), affiliate_sdk::Error>(())
    /// ```
    ///
    /// **Blocking**: waits for the store; from async code, call it off the runtime's
    /// workers (`tokio::task::spawn_blocking`).
    pub fn convert_browser(&self, req: &BrowserConversion) -> Result<Conversion> {
        let order = parse_order(&req.order_id, &req.amount, &req.currency, &req.kind, None)?;
        let now = self.clock.now();
        let token = req
            .token
            .as_deref()
            .filter(|t| !t.is_empty())
            .ok_or_else(|| Error::NotAttributable("no session token".into()))?;
        let v = self
            .signer
            .keyring()
            .verify_token_with(token, now, &self.validation)?;
        let link = v.link();
        let rule = {
            let catalogue = self.read();
            let campaign = catalogue.check_link(&link)?;
            let fields = OrderFields {
                order_id: &order.order_id,
                amount: order.amount,
                kind: &order.kind,
            };
            let rule = check_browser_order(
                campaign,
                self.signer.keyring(),
                req.osig.as_deref(),
                &fields,
            )?;
            check_min_time(campaign.min_seconds_to_convert(), v.issued_at(), now)?;
            rule
        };
        let attributed = Attributed {
            link,
            click_id: Some(v.click_id()),
            evidence: Evidence::Token,
        };
        self.record(order, attributed, rule.channel, rule.per_click_cap, now)
    }

    /// Records a conversion entered by hand for a named campaign and partner (an
    /// authenticated channel: it replaces records as [`Tracker::convert`] does).
    ///
    /// **Blocking**: waits for the store; from async code, call it off the runtime's
    /// workers (`tokio::task::spawn_blocking`).
    pub fn manual(&self, req: &ManualConversion) -> Result<Conversion> {
        let order = parse_order(
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
        if let Some(existing) = self.store.conversion(&order.order_id)?
            && !existing.may_be_replaced()
        {
            return self.replay(existing, &order);
        }
        let attributed = Attributed {
            link,
            click_id: None,
            evidence: Evidence::Manual,
        };
        self.record(order, attributed, Channel::Manual, None, self.clock.now())
    }

    /// The records replaced under `order_id`, oldest first: what an unsigned browser
    /// report or a rejected attribution said before an authenticated channel replaced
    /// it.
    ///
    /// **Blocking**: waits for the store; from async code, call it off the runtime's
    /// workers (`tokio::task::spawn_blocking`).
    pub fn replaced_conversions(&self, order_id: &str) -> Result<Vec<Conversion>> {
        check_id("order_id", order_id)?;
        self.store.replaced_conversions(order_id)
    }

    /// The answer to a replayed order id: its record, made durable first (it may have
    /// been written by a call that has not flushed yet).
    fn replay(&self, existing: Conversion, order: &Order) -> Result<Conversion> {
        self.store.flush()?;
        same_or_conflict(existing, order.amount, &order.kind)
    }

    fn record(
        &self,
        order: Order,
        attributed: Attributed,
        channel: Channel,
        per_click_cap: Option<u32>,
        now: u64,
    ) -> Result<Conversion> {
        let (recurring, commissions) = {
            let catalogue = self.read();
            let campaign = catalogue.check_link(&attributed.link)?;
            let commissions = catalogue.commissions(
                campaign,
                &attributed.link.partner,
                &order.kind,
                order.amount,
            );
            (campaign.recurring_months() > 0, commissions)
        };
        let mut conversion = Conversion {
            order_id: order.order_id,
            kind: order.kind,
            amount: order.amount,
            link: attributed.link,
            click_id: attributed.click_id,
            evidence: attributed.evidence,
            customer_id: order.customer_id,
            status: Status::Pending,
            converted_at: now,
            commissions,
            channel,
            duplicate: false,
            replaced: false,
            withheld: false,
            refunds: Vec::new(),
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
        let inserted =
            self.store
                .insert_conversion(&conversion, binding.as_ref(), per_click_cap)?;
        if matches!(inserted, Inserted::New | Inserted::Replaced(_)) {
            self.events_written();
        }
        match inserted {
            Inserted::New => Ok(conversion),
            Inserted::Replaced(_) => {
                conversion.replaced = true;
                Ok(conversion)
            }
            Inserted::Existing(existing) if channel.is_authenticated() => {
                same_or_conflict(*existing, conversion.amount, &conversion.kind)
            }
            // An unsigned report learns nothing about an order it did not make.
            Inserted::Existing(existing)
                if existing.click_id == conversion.click_id
                    && existing.amount == conversion.amount
                    && existing.kind == conversion.kind =>
            {
                same_or_conflict(*existing, conversion.amount, &conversion.kind)
            }
            // Answered as a new one would be, recording nothing: the public beacon
            // must not say which order ids exist.
            Inserted::Existing(_) => {
                conversion.withheld = true;
                Ok(conversion)
            }
            Inserted::CapReached => Err(Error::NotAttributable(
                format!(
                    "this click has made its {} unsigned browser conversions",
                    per_click_cap.unwrap_or_default()
                )
                .into(),
            )),
        }
    }

    /// Picks who to credit: the strongest evidence that holds (token, click id,
    /// coupon), unless the customer is bound in that evidence's campaign (a recurring
    /// campaign's later sales stay with its first partner); with no evidence that
    /// holds, the customer's binding in the named campaign, or its one binding. A
    /// binding past its campaign's `recurring_months`, of a suspended partner or a
    /// paused campaign is passed over. If nothing holds, the strongest evidence's
    /// error.
    fn attribute(&self, req: &ConversionRequest, kind: &Kind, now: u64) -> Result<Attributed> {
        let bindings = match (kind, &req.customer_id) {
            (Kind::Sale, Some(customer)) => self.store.customer(customer)?,
            _ => Bindings::default(),
        };
        let live = |b: &Binding| {
            let catalogue = self.read();
            let months = catalogue
                .campaign_by_code(&b.link.campaign)
                .map_or(0, Campaign::recurring_months);
            months > 0 && now < add_months(b.bound_at, months) && catalogue.landing(&b.link).is_ok()
        };
        let bound = |b: &Binding| Attributed {
            link: b.link,
            click_id: None,
            evidence: Evidence::Customer,
        };
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
                Ok(a) => {
                    return Ok(match bindings.of(&a.link.campaign).filter(|b| live(b)) {
                        Some(b) => bound(b),
                        None => a,
                    });
                }
                Err(e @ Error::Store(_)) => return Err(e),
                Err(e) => {
                    first_error.get_or_insert(e);
                }
            }
        }
        let named = req.campaign.as_deref().map(Code::new).transpose()?;
        let mut candidates = bindings
            .iter()
            .filter(|b| named.is_none_or(|n| b.link.campaign == n) && live(b));
        match (candidates.next(), candidates.next()) {
            (Some(b), None) => return Ok(bound(b)),
            (Some(_), Some(_)) if first_error.is_none() => {
                return Err(Error::NotAttributable(
                    "the customer is bound in several recurring campaigns: name the campaign"
                        .into(),
                ));
            }
            _ => {}
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

    /// The conversion recorded under `order_id`.
    ///
    /// **Blocking**: waits for the store; from async code, call it off the runtime's
    /// workers (`tokio::task::spawn_blocking`).
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
) -> Result<Order> {
    check_id("order_id", order_id)?;
    let kind: Kind = kind.parse()?;
    let amount = crate::attribution::order_amount(amount, currency, &kind)?;
    if let Some(c) = customer_id {
        check_id("customer_id", c)?;
    }
    Ok(Order {
        order_id: order_id.to_owned(),
        kind,
        amount,
        customer_id: customer_id.map(str::to_owned),
    })
}

fn same_or_conflict(mut existing: Conversion, amount: Money, kind: &Kind) -> Result<Conversion> {
    if existing.amount == amount && existing.kind == *kind {
        existing.duplicate = true;
        Ok(existing)
    } else {
        Err(Error::Conflict(existing.order_id))
    }
}
