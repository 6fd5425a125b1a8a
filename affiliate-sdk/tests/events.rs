//! Outbound events through the tracker: webhooks signed and retried, partner
//! postbacks filled in, the delivery log, retries by hand, the destination guard, and
//! two trackers sharing one outbox. The HTTP client is a recording stand-in; the
//! server's tests send real requests, verified with a Standard Webhooks library.

mod common;

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use affiliate_sdk::outbound::{DeliveryState, EventKind, RETRY_WINDOW_SECS};
use affiliate_sdk::{
    Clock, ManualConversion, MemoryStore, OutboundRequest, Status, Store, Tracker, Transport,
    WebhookRequest,
};
use common::conformance::{T0, tracker};

/// Records what it is asked to send and answers `status` (or no answer).
struct Recorder {
    sent: Mutex<Vec<OutboundRequest>>,
    answer: Mutex<Result<u16, String>>,
}

impl Recorder {
    fn new(answer: Result<u16, String>) -> Recorder {
        Recorder {
            sent: Mutex::new(Vec::new()),
            answer: Mutex::new(answer),
        }
    }
    fn answer(&self, a: Result<u16, String>) {
        *self.answer.lock().unwrap() = a;
    }
    fn take(&self) -> Vec<OutboundRequest> {
        std::mem::take(&mut *self.sent.lock().unwrap())
    }
}

impl Transport for Recorder {
    fn send(&self, req: &OutboundRequest) -> Result<u16, String> {
        self.sent.lock().unwrap().push(req.clone());
        self.answer.lock().unwrap().clone()
    }
}

fn header<'a>(r: &'a OutboundRequest, name: &str) -> &'a str {
    r.headers
        .iter()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.as_str())
        .unwrap_or_else(|| panic!("no {name} header"))
}

fn hook(url: &str) -> WebhookRequest {
    WebhookRequest {
        id: Some("crm".into()),
        url: url.into(),
        ..WebhookRequest::default()
    }
}

fn sale(t: &Tracker, order: &str, partner: &str) {
    let mut m = ManualConversion::default();
    (m.order_id, m.amount, m.currency, m.kind) =
        (order.into(), "100.00".into(), "USD".into(), "sale".into());
    (m.campaign, m.partner) = ("haircare".into(), partner.into());
    t.manual(&m).unwrap();
}

fn setup() -> (Tracker, Arc<affiliate_sdk::FixedClock>) {
    let (t, clock) = tracker(Arc::new(MemoryStore::new()));
    t.allow_private_destinations(true);
    (t, clock)
}

#[test]
fn a_conversion_is_signed_to_the_webhook_and_filled_into_the_partners_postback() {
    let (t, _clock) = setup();
    let hook = t.create_webhook(&hook("http://127.0.0.1:9/hooks")).unwrap();
    assert!(hook.secret.expose().starts_with("whsec_"));
    t.update_partner(
        "abc123",
        &serde_json::json!({"postback_url": "http://127.0.0.1:9/pb?o={order_id}&c={commission}&s={status}&e={event}&ad={ad}"}),
    )
    .unwrap();
    sale(&t, "A&B#1%", "abc123");
    let rec = Recorder::new(Ok(204));
    let round = t.deliver(&rec, 16).unwrap();
    assert_eq!((round.fanned_out, round.sent, round.delivered), (1, 2, 2));
    let mut sent = rec.take();
    sent.sort_by_key(|r| r.method);
    let (get, post) = (&sent[0], &sent[1]);
    assert_eq!(get.method, "GET");
    assert_eq!(
        get.url,
        "http://127.0.0.1:9/pb?o=A%26B%231%25&c=10.00&s=pending&e=conversion.created&ad="
    );
    assert_eq!(post.method, "POST");
    assert_eq!(post.url, "http://127.0.0.1:9/hooks");
    let body = post.body.as_deref().unwrap();
    let json: serde_json::Value = serde_json::from_str(body).unwrap();
    assert_eq!(json["type"], "conversion.created");
    assert_eq!(json["data"]["order_id"], "A&B#1%");
    assert_eq!(json["data"]["commissions"][0]["amount"], "10.00");
    assert_eq!(json["timestamp"], "2023-11-14T22:13:20Z");
    let (id, ts) = (
        header(post, "webhook-id"),
        header(post, "webhook-timestamp"),
    );
    assert!(id.starts_with("msg_"));
    assert_eq!(ts, T0.to_string());
    assert_eq!(
        header(post, "webhook-signature"),
        hook.secret.sign(id, T0, body)
    );
    assert_eq!(header(post, "content-type"), "application/json");
    // Both went once; nothing more is due.
    assert_eq!(t.deliver(&rec, 16).unwrap().sent, 0);
    let (log, next) = t.webhook_deliveries("crm", None, 10).unwrap();
    assert_eq!(next, None);
    assert_eq!(log.len(), 1);
    assert_eq!(log[0].state, DeliveryState::Delivered);
    assert_eq!(log[0].last_attempts[0].status, Some(204));
    let code = affiliate_sdk::Code::new("abc123").unwrap();
    let (pbs, _) = t.postback_deliveries(code, None, 10).unwrap();
    assert_eq!(pbs.len(), 1);
}

#[test]
fn events_go_to_the_webhooks_that_want_them_and_only_to_the_credited_partner() {
    let (t, clock) = setup();
    let mut only_payouts = hook("http://127.0.0.1:9/payouts");
    only_payouts.id = Some("erp".into());
    only_payouts.events = vec!["payout.created".into(), "payout.updated".into()];
    t.create_webhook(&only_payouts).unwrap();
    t.create_webhook(&hook("http://127.0.0.1:9/all")).unwrap();
    // The parent has a postback; the sale is its child's: the parent's override is
    // not posted back (postbacks are for the level-0 partner).
    t.update_partner(
        "mid",
        &serde_json::json!({"postback_url": "http://127.0.0.1:9/mid?o={order_id}"}),
    )
    .unwrap();
    sale(&t, "S-1", "abc123");
    t.set_status("S-1", Status::Approved).unwrap();
    let spec = affiliate_sdk::ledger::PayoutRunSpec {
        currency: "USD".into(),
        up_to: None,
        min_amount: None,
        partner: Some("abc123".into()),
    };
    t.create_payouts("k1", &spec).unwrap();
    t.create_partner(&affiliate_sdk::PartnerSpec::new("newbie"))
        .unwrap();
    let rec = Recorder::new(Ok(200));
    // A conversion's update goes once its creation is delivered: a second later.
    assert_eq!(t.deliver(&rec, 100).unwrap().sent, 4);
    assert_eq!(t.deliver(&rec, 100).unwrap().sent, 0);
    clock.advance_secs(1);
    assert_eq!(t.deliver(&rec, 100).unwrap().sent, 1);
    let mut by_url: HashMap<String, Vec<String>> = HashMap::new();
    for r in rec.take() {
        let kind = r
            .body
            .as_deref()
            .map(|b| {
                serde_json::from_str::<serde_json::Value>(b).unwrap()["type"]
                    .as_str()
                    .unwrap()
                    .to_owned()
            })
            .unwrap_or_else(|| "postback".into());
        by_url.entry(r.url).or_default().push(kind);
    }
    for v in by_url.values_mut() {
        v.sort();
    }
    assert_eq!(by_url["http://127.0.0.1:9/payouts"], ["payout.created"]);
    assert_eq!(
        by_url["http://127.0.0.1:9/all"],
        [
            "conversion.created",
            "conversion.updated",
            "partner.created",
            "payout.created"
        ]
    );
    assert_eq!(by_url.len(), 2, "{by_url:?}");
}

#[test]
fn a_failing_destination_is_retried_with_backoff_for_three_days_then_failed_and_retried_by_hand() {
    let (t, clock) = setup();
    t.create_webhook(&hook("http://127.0.0.1:9/down")).unwrap();
    sale(&t, "R-1", "solo");
    let rec = Recorder::new(Err("connection refused".into()));
    assert_eq!(t.deliver(&rec, 16).unwrap().sent, 1);
    let first = rec.take().remove(0);
    let (log, _) = t.webhook_deliveries("crm", None, 10).unwrap();
    let d = &log[0];
    assert_eq!(d.state, DeliveryState::Pending);
    assert!(
        (T0 + 2..=T0 + 5).contains(&d.next_at),
        "first retry after 2.5 to 5 s: {}",
        d.next_at
    );
    assert_eq!(
        d.last_attempts[0].error.as_deref(),
        Some("connection refused")
    );
    // Not due before its time.
    assert_eq!(t.deliver(&rec, 16).unwrap().sent, 0);
    // A 500 answer is a failure too; the message id stays, the timestamp moves.
    rec.answer(Ok(500));
    let mut attempts = 1;
    let mut gaps = Vec::new();
    loop {
        let (log, _) = t.webhook_deliveries("crm", None, 10).unwrap();
        let d = log[0].clone();
        if d.state != DeliveryState::Pending {
            assert_eq!(d.state, DeliveryState::Failed);
            break;
        }
        gaps.push(d.next_at - clock.now());
        clock.set_secs(d.next_at);
        assert_eq!(t.deliver(&rec, 16).unwrap().sent, 1);
        attempts += 1;
        let again = rec.take().remove(0);
        assert_eq!(header(&again, "webhook-id"), header(&first, "webhook-id"));
        assert_eq!(header(&again, "webhook-timestamp"), clock.now().to_string());
        assert!(attempts < 60);
    }
    assert!(clock.now() <= T0 + RETRY_WINDOW_SECS);
    assert!(clock.now() > T0 + RETRY_WINDOW_SECS - 6 * 3600);
    assert!(gaps.windows(2).take(8).all(|w| w[1] >= w[0]), "{gaps:?}");
    assert!(gaps.iter().all(|g| *g <= 6 * 3600));
    let (log, _) = t.webhook_deliveries("crm", None, 10).unwrap();
    assert_eq!(
        log[0].last_attempts.len(),
        affiliate_sdk::outbound::KEPT_ATTEMPTS
    );
    assert_eq!(
        log[0].last_attempts.last().unwrap().error.as_deref(),
        Some("answered 500")
    );
    // Nothing more happens by itself.
    clock.advance_secs(30 * 86_400);
    assert_eq!(t.deliver(&rec, 16).unwrap().sent, 0);
    // By hand: sent again, now.
    let again = t.retry_delivery("crm", &log[0].id).unwrap();
    assert_eq!(again.state, DeliveryState::Pending);
    rec.answer(Ok(200));
    assert_eq!(t.deliver(&rec, 16).unwrap().delivered, 1);
    // Retry checks whose delivery it is.
    let other = t
        .create_webhook(&WebhookRequest {
            id: Some("other".into()),
            url: "http://127.0.0.1:9/o".into(),
            ..WebhookRequest::default()
        })
        .unwrap();
    assert_eq!(
        t.retry_delivery(&other.id, &log[0].id).unwrap_err().code(),
        "not_found"
    );
    assert_eq!(
        t.retry_delivery("crm", "dlv_nope").unwrap_err().code(),
        "not_found"
    );
    assert_eq!(
        t.retry_delivery("nope", &log[0].id).unwrap_err().code(),
        "not_found"
    );
}

#[test]
fn a_removed_webhooks_pending_deliveries_fail_and_the_log_pages() {
    let (t, _clock) = setup();
    t.create_webhook(&hook("http://127.0.0.1:9/h")).unwrap();
    for i in 0..5 {
        sale(&t, &format!("P-{i}"), "solo");
    }
    t.fan_out(100).unwrap();
    let (first, next) = t.webhook_deliveries("crm", None, 2).unwrap();
    assert_eq!(first.len(), 2);
    let (second, next) = t.webhook_deliveries("crm", next.as_deref(), 2).unwrap();
    let (third, next) = t.webhook_deliveries("crm", next.as_deref(), 2).unwrap();
    assert_eq!((second.len(), third.len(), next), (2, 1, None));
    let mut ids: Vec<_> = first
        .iter()
        .chain(&second)
        .chain(&third)
        .map(|d| d.id.clone())
        .collect();
    ids.sort();
    ids.dedup();
    assert_eq!(ids.len(), 5);
    for bad in ["x", "1.", "abc.dlv", &format!("1.{}", "a".repeat(100))] {
        assert_eq!(
            t.webhook_deliveries("crm", Some(bad), 2)
                .unwrap_err()
                .code(),
            "malformed",
            "{bad}"
        );
    }
    assert_eq!(
        t.webhook_deliveries("crm", None, 0).unwrap_err().code(),
        "malformed"
    );
    assert_eq!(
        t.webhook_deliveries("crm", None, 1001).unwrap_err().code(),
        "malformed"
    );
    t.delete_webhook("crm").unwrap();
    assert_eq!(t.delete_webhook("crm").unwrap_err().code(), "not_found");
    let rec = Recorder::new(Ok(200));
    t.deliver(&rec, 16).unwrap();
    assert!(
        rec.take().is_empty(),
        "nothing is sent to a removed webhook"
    );
    let store = t.store();
    let d = store.delivery(&ids[0]).unwrap().unwrap();
    assert_eq!(d.state, DeliveryState::Failed);
    assert_eq!(
        d.last_attempts[0].error.as_deref(),
        Some("the webhook endpoint was removed")
    );
}

#[test]
fn bad_webhooks_are_refused_and_change_nothing() {
    let (t, _clock) = tracker(Arc::new(MemoryStore::new()));
    let cases: &[(WebhookRequest, &str)] = &[
        (hook("ftp://hooks.example/x"), "malformed"),
        (hook("not a url"), "malformed"),
        (hook("https://user:pw@hooks.example/"), "malformed"),
        (hook("http://127.0.0.1:8080/h"), "forbidden"),
        (hook("http://localhost/h"), "forbidden"),
        (hook("http://10.1.2.3/h"), "forbidden"),
        (hook("http://169.254.169.254/latest/meta-data"), "forbidden"),
        (hook("http://100.64.0.1/h"), "forbidden"),
        (hook("http://[::1]/h"), "forbidden"),
        (hook("http://[::ffff:127.0.0.1]/h"), "forbidden"),
        (hook("http://2130706433/h"), "forbidden"),
        (hook("http://0177.0.0.1/h"), "forbidden"),
        (hook("http://0x7f.1/h"), "forbidden"),
        (hook("http://0.0.0.0/h"), "forbidden"),
        (hook("http://224.0.0.1/h"), "forbidden"),
        (
            WebhookRequest {
                id: Some("Bad Id".into()),
                ..hook("https://hooks.example/")
            },
            "malformed",
        ),
        (
            WebhookRequest {
                events: vec!["conversion.deleted".into()],
                ..hook("https://hooks.example/")
            },
            "malformed",
        ),
        (
            WebhookRequest {
                description: Some("x".repeat(257)),
                ..hook("https://hooks.example/")
            },
            "malformed",
        ),
    ];
    for (req, code) in cases {
        let e = t.create_webhook(req).unwrap_err();
        assert_eq!(e.code(), *code, "{req:?}: {e}");
    }
    assert!(t.webhooks().is_empty());
    assert!(
        t.store()
            .records(affiliate_sdk::store::RecordKind::Webhook)
            .unwrap()
            .is_empty()
    );
    // A name that does not resolve (yet) may be saved; it is checked when sent.
    t.create_webhook(&hook("https://hooks.example/in")).unwrap();
    assert_eq!(
        t.create_webhook(&hook("https://hooks.example/in"))
            .unwrap_err()
            .code(),
        "conflict"
    );
    // A postback template pointing inward is refused too, and the partner unchanged.
    let e = t
        .update_partner(
            "abc123",
            &serde_json::json!({"postback_url": "http://192.168.1.1/pb?o={order_id}"}),
        )
        .unwrap_err();
    assert_eq!(e.code(), "forbidden", "{e}");
    assert_eq!(t.partner("abc123").unwrap().postback_url, None);
}

#[test]
fn the_destination_is_checked_again_when_sent() {
    let (t, _clock) = setup();
    t.create_webhook(&hook("http://127.0.0.1:9/h")).unwrap();
    sale(&t, "G-1", "solo");
    // Private destinations allowed when saved, no longer when sent.
    t.allow_private_destinations(false);
    let rec = Recorder::new(Ok(200));
    assert_eq!(t.deliver(&rec, 16).unwrap().sent, 1);
    assert!(rec.take().is_empty(), "the transport was never asked");
    let (log, _) = t.webhook_deliveries("crm", None, 1).unwrap();
    let err = log[0].last_attempts[0].error.as_deref().unwrap();
    assert!(err.starts_with("refused by the destination guard"), "{err}");
    assert_eq!(log[0].state, DeliveryState::Pending);
    // A name that resolves inward, and a partner's postback, are refused the same way.
    t.allow_private_destinations(true);
    t.delete_webhook("crm").unwrap();
    t.create_webhook(&hook("http://localhost:9/h")).unwrap();
    t.update_partner(
        "abc123",
        &serde_json::json!({"postback_url": "http://[::ffff:10.1.2.3]/pb?o={order_id}"}),
    )
    .unwrap();
    sale(&t, "G-2", "abc123");
    t.allow_private_destinations(false);
    assert_eq!(t.deliver(&rec, 16).unwrap().sent, 2);
    assert!(rec.take().is_empty(), "the transport was never asked");
    let (log, _) = t.webhook_deliveries("crm", None, 1).unwrap();
    let err = log[0].last_attempts[0].error.as_deref().unwrap();
    assert!(err.contains("points inward"), "{err}");
    let code = affiliate_sdk::Code::new("abc123").unwrap();
    let (pbs, _) = t.postback_deliveries(code, None, 1).unwrap();
    let err = pbs[0].last_attempts[0].error.as_deref().unwrap();
    assert!(err.contains("points inward"), "{err}");
}

#[test]
fn two_trackers_on_one_store_send_each_delivery_once() {
    two_trackers_send_once(Arc::new(MemoryStore::new()));
}

/// On sled, with several senders racing for the same deliveries (a swap that lost the
/// race once deadlocked here).
#[test]
fn two_trackers_on_one_sled_store_send_each_delivery_once() {
    let dir = tempfile::tempdir().unwrap();
    two_trackers_send_once(Arc::new(
        affiliate_sdk::SledStore::open(dir.path()).unwrap(),
    ));
}

fn two_trackers_send_once(store: Arc<dyn Store>) {
    let (a, _) = tracker(store.clone());
    let (b, _) = tracker(store.clone());
    for t in [&a, &b] {
        t.allow_private_destinations(true);
    }
    a.create_webhook(&hook("http://127.0.0.1:9/h")).unwrap();
    b.refresh().unwrap();
    for i in 0..200 {
        sale(if i % 2 == 0 { &a } else { &b }, &format!("T-{i}"), "solo");
    }
    let rec = Recorder::new(Ok(200));
    std::thread::scope(|s| {
        for t in [&a, &b, &a, &b] {
            let rec = &rec;
            s.spawn(
                move || {
                    while t.deliver(rec, 8).unwrap().sent > 0 || store_has_work(t) {}
                },
            );
        }
    });
    let sent = rec.take();
    let mut ids: Vec<&str> = sent.iter().map(|r| header(r, "webhook-id")).collect();
    assert_eq!(ids.len(), 200);
    ids.sort_unstable();
    ids.dedup();
    assert_eq!(ids.len(), 200, "no delivery sent twice");
    let kinds: Vec<EventKind> = store
        .outbox(10)
        .unwrap()
        .into_iter()
        .map(|(_, e)| e.kind)
        .collect();
    assert!(kinds.is_empty());
}

fn store_has_work(t: &Tracker) -> bool {
    !t.store().outbox(1).unwrap().is_empty()
        || !t
            .store()
            .due_deliveries(u64::MAX / 2, 1)
            .unwrap()
            .is_empty()
}

#[test]
fn deliveries_over_for_thirty_days_leave_the_log_and_pending_ones_stay() {
    let (t, clock) = setup();
    t.create_webhook(&hook("http://127.0.0.1:9/h")).unwrap();
    sale(&t, "O-1", "solo");
    sale(&t, "O-2", "solo");
    let rec = Recorder::new(Ok(200));
    t.deliver(&rec, 1).unwrap(); // one delivered, one still pending
    clock.advance_secs(affiliate_sdk::outbound::DELIVERY_RETENTION_SECS - 1);
    assert_eq!(t.prune_deliveries(100).unwrap(), 0, "not old enough");
    clock.advance_secs(2);
    assert_eq!(t.prune_deliveries(100).unwrap(), 1);
    let (log, _) = t.webhook_deliveries("crm", None, 10).unwrap();
    assert_eq!(log.len(), 1);
    assert_eq!(log[0].state, DeliveryState::Pending);
}

/// A refund sends `conversion.refunded` with the conversion's refunds to the webhook
/// and the credited partner's postback; a replayed refund sends nothing; the whole
/// amount also sends `conversion.updated` (`reversed`).
#[test]
fn a_refund_reaches_the_webhook_and_the_partners_postback() {
    let (t, clock) = setup();
    t.create_webhook(&hook("http://127.0.0.1:9/all")).unwrap();
    t.update_partner(
        "abc123",
        &serde_json::json!({"postback_url": "http://127.0.0.1:9/pb?e={event}&s={status}&o={order_id}"}),
    )
    .unwrap();
    sale(&t, "RF-1", "abc123");
    let rec = Recorder::new(Ok(200));
    t.deliver(&rec, 100).unwrap();
    rec.take();
    let refund = affiliate_sdk::RefundRequest::new("re_1", "30.00");
    t.refund("RF-1", &refund).unwrap();
    assert!(t.refund("RF-1", &refund).unwrap().duplicate);
    t.deliver(&rec, 100).unwrap();
    let sent = rec.take();
    let hooks: Vec<serde_json::Value> = sent
        .iter()
        .filter_map(|r| r.body.as_deref())
        .map(|b| serde_json::from_str(b).unwrap())
        .collect();
    assert_eq!(hooks.len(), 1, "one event for one refund: {hooks:?}");
    assert_eq!(hooks[0]["type"], "conversion.refunded");
    assert_eq!(hooks[0]["data"]["refunded"], "30.00");
    assert_eq!(
        hooks[0]["data"]["refunds"][0]["refund_id"],
        serde_json::json!("re_1")
    );
    let pb: Vec<&str> = sent
        .iter()
        .filter(|r| r.method == "GET")
        .map(|r| r.url.as_str())
        .collect();
    assert_eq!(
        pb,
        ["http://127.0.0.1:9/pb?e=conversion.refunded&s=pending&o=RF-1"]
    );
    // The rest: refunded, then updated (reversed).
    t.refund("RF-1", &affiliate_sdk::RefundRequest::new("re_2", "70.00"))
        .unwrap();
    // Refunded, then (a second later, once that one is delivered) updated: to the
    // webhook and the postback each.
    assert_eq!(t.deliver(&rec, 100).unwrap().sent, 2);
    assert_eq!(t.deliver(&rec, 100).unwrap().sent, 0);
    clock.advance_secs(1);
    assert_eq!(t.deliver(&rec, 100).unwrap().sent, 2);
    let mut kinds: Vec<String> = rec
        .take()
        .iter()
        .filter_map(|r| r.body.as_deref())
        .map(|b| {
            serde_json::from_str::<serde_json::Value>(b).unwrap()["type"]
                .as_str()
                .unwrap()
                .to_owned()
        })
        .collect();
    kinds.sort();
    assert_eq!(kinds, ["conversion.refunded", "conversion.updated"]);
}
