//! Outbound events on the tracker: the fan-out of the store's outbox into deliveries,
//! sending them, and the delivery logs (see [`crate::outbound`]; the endpoints are in
//! `webhooks.rs`).

use std::time::Instant;

use super::Tracker;
use crate::attribution::PartnerSpec;
use crate::error::{Error, Result, cut};
use crate::outbound::{
    Attempt, Delivery, DeliveryFilter, DeliveryState, Event, EventObject, PostbackTemplate,
    PostbackValues, Target, Webhook, check_destination, new_message_id, random_jitter,
    resolve_system, webhook_body,
};

/// A delivery waiting for an earlier one about the same conversion is looked at again
/// at least this often, in seconds.
pub const ORDER_RECHECK_SECS: u64 = 5;

/// Most deliveries a page of the delivery log holds.
pub const MAX_DELIVERY_PAGE: usize = 1000;

/// A request to send: a delivery the caller now holds (leased), and what to send.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OutboundRequest {
    /// The delivery, as leased.
    pub delivery: Delivery,
    /// `POST` (webhooks) or `GET` (postbacks).
    pub method: &'static str,
    /// Where.
    pub url: String,
    /// The headers: for a webhook `content-type`, `webhook-id`, `webhook-timestamp`
    /// and `webhook-signature`; always `user-agent`.
    pub headers: Vec<(String, String)>,
    /// A webhook's body.
    pub body: Option<String>,
}

/// Sends requests: the HTTP client of the program embedding the tracker. It must not
/// follow redirects, must give up after 10 seconds, and should connect only to the
/// addresses the destination guard allowed.
pub trait Transport: Sync {
    /// Sends `req`; the status code the destination answered, or why there was no
    /// answer.
    fn send(&self, req: &OutboundRequest) -> std::result::Result<u16, String>;

    /// Runs `work` for each of `n` requests, at once where it can, and answers in
    /// order. The default starts a thread per request (one request runs on the
    /// caller's thread); a transport with threads of its own may use them instead.
    fn run_all(&self, n: usize, work: &(dyn Fn(usize) -> SendOutcome + Sync)) -> Vec<SendOutcome> {
        if n <= 1 {
            return (0..n).map(work).collect();
        }
        std::thread::scope(|s| {
            // Small stacks: a request needs little, and threads start faster.
            let handles: Vec<_> = (0..n)
                .map(|i| {
                    std::thread::Builder::new()
                        .stack_size(256 * 1024)
                        .spawn_scoped(s, move || work(i))
                })
                .collect();
            handles
                .into_iter()
                .map(|h| match h.map(|h| h.join()) {
                    Ok(Ok(outcome)) => outcome,
                    Ok(Err(_)) => (Err("the sending thread panicked".to_owned()), 0, 0),
                    Err(e) => (Err(format!("no thread to send with: {e}")), 0, 0),
                })
                .collect()
        })
    }
}

/// What sending one request came to: the status or why there was none, when it
/// started (Unix seconds) and how long it took (milliseconds).
pub type SendOutcome = (std::result::Result<u16, String>, u64, u64);

/// What one round of [`Tracker::deliver`] did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct DeliveryRound {
    /// Events fanned out into deliveries.
    pub fanned_out: usize,
    /// Deliveries sent.
    pub sent: usize,
    /// Of those, answered 2xx.
    pub delivered: usize,
    /// Of those, failed for good (retried again only by hand).
    pub failed: usize,
}

impl Tracker {
    /// The API's JSON of an event's object.
    fn event_data(&self, event: &Event) -> serde_json::Value {
        match &event.object {
            EventObject::Conversion(c) => c.to_json(),
            EventObject::Payout(p) => p.to_json(),
            EventObject::Partner(record) => {
                let spec: Option<PartnerSpec> = serde_json::from_str(record).ok();
                match spec.and_then(|s| self.partner(&s.code)) {
                    Some(p) => crate::answers::to_value(&self.partner_answer(&p)),
                    None => serde_json::from_str(record).unwrap_or_default(),
                }
            }
        }
    }

    /// The deliveries of `event`: one per webhook that wants its kind, and for a
    /// conversion event the postback of the credited partner (level 0), if it has one.
    fn plan(&self, event: &Event, seq: u64, now: u64) -> Result<Vec<Delivery>> {
        let msg = new_message_id()?;
        let subject = event.subject();
        let mut out = Vec::new();
        let hooks: Vec<Webhook> = self
            .webhooks()
            .into_iter()
            .filter(|w| w.wants(event.kind))
            .collect();
        if !hooks.is_empty() {
            let body = webhook_body(event.kind, event.at, self.event_data(event));
            for w in hooks {
                out.push(
                    Delivery::new(&msg, event.kind, Target::Webhook(w.id), body.clone(), now)?
                        .about(subject.clone(), seq),
                );
            }
        }
        if let EventObject::Conversion(c) = &event.object
            && let Some(partner) = self.partner(c.link.partner.as_str())
            && let Some(template) = partner.postback_url.as_deref()
            && let Ok(template) = PostbackTemplate::parse(template)
        {
            let url = template.render(&PostbackValues::of(event.kind.as_str(), c));
            out.push(
                Delivery::new(&msg, event.kind, Target::Postback(partner.code), url, now)?
                    .about(subject, seq),
            );
        }
        Ok(out)
    }

    /// Fans out up to `max` events of the store's outbox into deliveries (see
    /// [`crate::outbound`]); returns how many events this tracker took.
    ///
    /// **Blocking**: waits for the store; from async code, call it off the runtime's
    /// workers (`tokio::task::spawn_blocking`).
    pub fn fan_out(&self, max: usize) -> Result<usize> {
        let events = self.store.outbox(max)?;
        if events.is_empty() {
            return Ok(0);
        }
        let now = self.clock.now();
        let mut planned = Vec::with_capacity(events.len());
        for (seq, e) in &events {
            planned.push((*seq, self.plan(e, *seq, now)?));
        }
        self.store.fan_out(&planned)
    }

    /// Takes up to `max` due deliveries for this tracker to send (each leased for
    /// [`LEASE_SECS`](crate::outbound::LEASE_SECS): another tracker takes it over if
    /// this one dies), with what to send. A webhook is signed now; a delivery whose
    /// webhook was removed fails at once.
    ///
    /// Events about one conversion (or payout) reach each destination in order: a due
    /// delivery waits while one of an earlier event about the same subject to the same
    /// destination is pending: while that one is due or being sent, it is looked at
    /// again a second later; while that one waits for its retry, when it is next due,
    /// and at least every 5 s.
    ///
    /// **Blocking**: waits for the store; from async code, call it off the runtime's
    /// workers (`tokio::task::spawn_blocking`).
    pub fn lease_deliveries(&self, max: usize) -> Result<Vec<OutboundRequest>> {
        let now = self.clock.now();
        let mut swaps: Vec<(Delivery, Delivery)> = Vec::new();
        let mut waiting: Vec<(Delivery, Delivery)> = Vec::new();
        let mut pending: std::collections::HashMap<String, Vec<Delivery>> =
            std::collections::HashMap::new();
        for d in self.store.due_deliveries(now, max)? {
            let earlier = match &d.subject {
                Some(subject) if d.may_wait() => {
                    if !pending.contains_key(subject) {
                        pending.insert(subject.clone(), self.store.pending_about(subject)?);
                    }
                    pending
                        .get(subject)
                        .into_iter()
                        .flatten()
                        .filter(|e| d.waits_for(e))
                        .map(|e| (e.next_at, e.leased_until))
                        .min()
                }
                _ => None,
            };
            match earlier {
                None => {
                    let leased = d.leased(now);
                    swaps.push((d, leased));
                }
                // Due now or being sent: looked at again in a second; waiting for its
                // retry: then, or sooner. (Never left due: a head of waiting
                // deliveries would starve the rest.)
                Some((next_at, leased_until)) => {
                    let again = if next_at <= now || leased_until > now {
                        now + 1
                    } else {
                        next_at.min(now + ORDER_RECHECK_SECS)
                    };
                    let later = Delivery {
                        next_at: again,
                        ..d.clone()
                    };
                    waiting.push((d, later));
                }
            }
        }
        if !waiting.is_empty() {
            self.store.swap_deliveries(&waiting)?;
        }
        let taken = self.store.swap_deliveries(&swaps)?;
        let agent = format!("affiliate-sdk/{}", env!("CARGO_PKG_VERSION"));
        let mut out = Vec::new();
        let mut gone = Vec::new();
        // Those another tracker took meanwhile are left to it.
        for ((_, leased), _) in swaps.into_iter().zip(taken).filter(|(_, t)| *t) {
            match &leased.target {
                Target::Webhook(id) => {
                    let Ok(hook) = self.webhook(id) else {
                        let attempt = Attempt {
                            at: now,
                            status: None,
                            error: Some("the webhook endpoint was removed".into()),
                            duration_ms: 0,
                        };
                        let mut done = leased.after(attempt, 0);
                        done.state = DeliveryState::Failed;
                        gone.push((leased, done));
                        continue;
                    };
                    let sig = hook.secret.sign(&leased.message_id, now, &leased.request);
                    out.push(OutboundRequest {
                        method: "POST",
                        url: hook.url,
                        headers: vec![
                            ("content-type".into(), "application/json".into()),
                            ("user-agent".into(), agent.clone()),
                            ("webhook-id".into(), leased.message_id.clone()),
                            ("webhook-timestamp".into(), now.to_string()),
                            ("webhook-signature".into(), sig),
                        ],
                        body: Some(leased.request.clone()),
                        delivery: leased,
                    });
                }
                Target::Postback(_) => out.push(OutboundRequest {
                    method: "GET",
                    url: leased.request.clone(),
                    headers: vec![("user-agent".into(), agent.clone())],
                    body: None,
                    delivery: leased,
                }),
            }
        }
        if !gone.is_empty() {
            self.store.swap_deliveries(&gone)?;
        }
        Ok(out)
    }

    /// Records the outcome of sending `req` (started at `at`, taking `duration_ms`):
    /// delivered on a 2xx, else retried later or failed. Returns the delivery as
    /// stored (unchanged when another tracker took it over meanwhile).
    ///
    /// **Blocking**: waits for the store; from async code, call it off the runtime's
    /// workers (`tokio::task::spawn_blocking`).
    pub fn finish_delivery(
        &self,
        req: &OutboundRequest,
        outcome: std::result::Result<u16, String>,
        at: u64,
        duration_ms: u64,
    ) -> Result<Delivery> {
        let next = req
            .delivery
            .after(attempt_of(outcome, at, duration_ms), random_jitter()?);
        if self.store.swap_delivery(&req.delivery, &next)? {
            return Ok(next);
        }
        self.store
            .delivery(&req.delivery.id)?
            .ok_or_else(|| Error::NotFound(format!("delivery {}", req.delivery.id)))
    }

    /// Sends `req` through `transport`, after checking its destination again (a
    /// refused one is a failed attempt), and records the outcome.
    ///
    /// **Blocking**: waits for the store; from async code, call it off the runtime's
    /// workers (`tokio::task::spawn_blocking`).
    pub fn send_delivery(
        &self,
        transport: &dyn Transport,
        req: &OutboundRequest,
    ) -> Result<Delivery> {
        let (outcome, at, ms) = self.try_send(transport, req);
        self.finish_delivery(req, outcome, at, ms)
    }

    /// Checks the destination and sends: the outcome, when it started and how long it
    /// took.
    fn try_send(&self, transport: &dyn Transport, req: &OutboundRequest) -> SendOutcome {
        let at = self.clock.now();
        let started = Instant::now();
        let outcome = match check_destination(&req.url, self.private_allowed(), resolve_system) {
            Ok(_) => transport.send(req),
            Err(e) => Err(format!("refused by the destination guard: {e}")),
        };
        let ms = u64::try_from(started.elapsed().as_millis()).unwrap_or(u64::MAX);
        (outcome, at, ms)
    }

    /// One round of delivery: fans out the outbox, then sends up to `max` due
    /// deliveries at once through `transport` and records each outcome. Blocks for
    /// as long as the slowest request (at most the transport's timeout).
    ///
    /// **Blocking**: waits for the store; from async code, call it off the runtime's
    /// workers (`tokio::task::spawn_blocking`).
    pub fn deliver(&self, transport: &dyn Transport, max: usize) -> Result<DeliveryRound> {
        let fanned_out = self.fan_out(500)?;
        Ok(DeliveryRound {
            fanned_out,
            ..self.send_due(transport, max)?
        })
    }

    /// [`Tracker::deliver`] without the fan-out: sends up to `max` due deliveries. Several
    /// threads may call it at once (each delivery is leased by one), while one of them
    /// fans out.
    ///
    /// **Blocking**: waits for the store; from async code, call it off the runtime's
    /// workers (`tokio::task::spawn_blocking`).
    pub fn send_due(&self, transport: &dyn Transport, max: usize) -> Result<DeliveryRound> {
        let mut round = DeliveryRound::default();
        let reqs = self.lease_deliveries(max)?;
        let outcomes = transport.run_all(reqs.len(), &|i| self.try_send(transport, &reqs[i]));
        // Every outcome in one write.
        let mut swaps = Vec::with_capacity(reqs.len());
        for (req, (outcome, at, ms)) in reqs.iter().zip(outcomes) {
            let next = req
                .delivery
                .after(attempt_of(outcome, at, ms), random_jitter()?);
            swaps.push((req.delivery.clone(), next));
        }
        let done = self.store.swap_deliveries(&swaps)?;
        for ((_, d), _) in swaps.iter().zip(done).filter(|(_, ok)| *ok) {
            round.sent += 1;
            round.delivered += usize::from(d.state == DeliveryState::Delivered);
            round.failed += usize::from(d.state == DeliveryState::Failed);
        }
        Ok(round)
    }

    /// Removes from the logs the deliveries that are over (delivered or failed) and
    /// older than [`DELIVERY_RETENTION_SECS`](crate::outbound::DELIVERY_RETENTION_SECS),
    /// up to `max` at a time; returns how many. Pending ones stay.
    ///
    /// **Blocking**: waits for the store; from async code, call it off the runtime's
    /// workers (`tokio::task::spawn_blocking`).
    pub fn prune_deliveries(&self, max: usize) -> Result<usize> {
        let before = self
            .clock
            .now()
            .saturating_sub(crate::outbound::DELIVERY_RETENTION_SECS);
        self.store.prune_deliveries(before, max)
    }

    /// The delivery log of webhook `id`, newest first: at most `limit` (1 to 1000)
    /// deliveries after `cursor` (from the previous page), and the next page's cursor.
    ///
    /// **Blocking**: waits for the store; from async code, call it off the runtime's
    /// workers (`tokio::task::spawn_blocking`).
    pub fn webhook_deliveries(
        &self,
        id: &str,
        cursor: Option<&str>,
        limit: usize,
    ) -> Result<(Vec<Delivery>, Option<String>)> {
        self.webhook(id)?;
        self.deliveries_page(Target::Webhook(id.to_owned()), cursor, limit)
    }

    /// A partner's postback log, newest first, as [`Tracker::webhook_deliveries`].
    ///
    /// **Blocking**: waits for the store; from async code, call it off the runtime's
    /// workers (`tokio::task::spawn_blocking`).
    pub fn postback_deliveries(
        &self,
        partner: crate::code::Code,
        cursor: Option<&str>,
        limit: usize,
    ) -> Result<(Vec<Delivery>, Option<String>)> {
        self.deliveries_page(Target::Postback(partner), cursor, limit)
    }

    fn deliveries_page(
        &self,
        target: Target,
        cursor: Option<&str>,
        limit: usize,
    ) -> Result<(Vec<Delivery>, Option<String>)> {
        if !(1..=MAX_DELIVERY_PAGE).contains(&limit) {
            return Err(Error::malformed("limit", "expected 1 to 1000"));
        }
        let before = cursor
            .map(|c| {
                c.split_once('.')
                    .and_then(|(t, id)| Some((t.parse::<u64>().ok()?, id.to_owned())))
                    .filter(|(_, id)| id.starts_with("dlv_") && id.len() <= 64)
                    .ok_or_else(|| Error::malformed("cursor", "not a cursor this API gave"))
            })
            .transpose()?;
        let filter = DeliveryFilter {
            target,
            before,
            limit: limit + 1,
        };
        let mut page = self.store.deliveries(&filter)?;
        let next = (page.len() > limit).then(|| {
            page.truncate(limit);
            page.last()
                .map(|d| format!("{}.{}", d.created, d.id))
                .unwrap_or_default()
        });
        Ok((page, next))
    }

    /// Sends delivery `delivery` of webhook `webhook` again, now, and for another 3
    /// days of retries; `not_found` when it is not one of that webhook's, `conflict`
    /// while a tracker is sending it.
    ///
    /// **Blocking**: waits for the store; from async code, call it off the runtime's
    /// workers (`tokio::task::spawn_blocking`).
    pub fn retry_delivery(&self, webhook: &str, delivery: &str) -> Result<Delivery> {
        self.webhook(webhook)?;
        let missing = || Error::NotFound(format!("delivery {:?}", cut(delivery, 64)));
        if delivery.len() > 64 {
            return Err(missing());
        }
        let d = self.store.delivery(delivery)?.ok_or_else(missing)?;
        if d.target != Target::Webhook(webhook.to_owned()) {
            return Err(missing());
        }
        let now = self.clock.now();
        if d.state == DeliveryState::Pending && d.leased_until > now {
            return Err(Error::Exists("the delivery is being sent now".into()));
        }
        let again = d.retried(now);
        if !self.store.swap_delivery(&d, &again)? {
            return Err(Error::Exists(
                "the delivery changed meanwhile; try again".into(),
            ));
        }
        Ok(again)
    }
}

/// The attempt an outcome makes.
fn attempt_of(outcome: std::result::Result<u16, String>, at: u64, duration_ms: u64) -> Attempt {
    let (status, error) = match outcome {
        Ok(s) if (200..300).contains(&s) => (Some(s), None),
        Ok(s) => (Some(s), Some(format!("answered {s}"))),
        Err(e) => (None, Some(cut(&e, 256).to_owned())),
    };
    Attempt {
        at,
        status,
        error,
        duration_ms,
    }
}
