//! Events about one conversion reach each destination in order, on every store: a
//! later event's delivery waits while an earlier one's to the same destination is
//! pending (retrying), and other conversions' deliveries do not wait for it.

use std::sync::{Arc, Mutex};

use affiliate_sdk::outbound::DeliveryState;
use affiliate_sdk::{
    Clock, ManualConversion, OutboundRequest, Status, Store, Tracker, Transport, WebhookRequest,
};

use super::conformance::tracker;

/// Records what it is asked to send (event and order, per destination) and answers
/// `answer`.
struct Recorder {
    sent: Mutex<Vec<(String, String)>>,
    answer: Mutex<Result<u16, String>>,
}

impl Transport for Recorder {
    fn send(&self, req: &OutboundRequest) -> Result<u16, String> {
        let what = match &req.body {
            Some(body) => {
                let v: serde_json::Value = serde_json::from_str(body).unwrap();
                format!(
                    "hook {} {}",
                    v["type"].as_str().unwrap(),
                    v["data"]["order_id"]
                )
            }
            None => format!("postback {}", req.url.split('?').nth(1).unwrap()),
        };
        self.sent
            .lock()
            .unwrap()
            .push((what, req.delivery.id.clone()));
        self.answer.lock().unwrap().clone()
    }
}

impl Recorder {
    fn take(&self) -> Vec<String> {
        let mut out: Vec<String> = std::mem::take(&mut *self.sent.lock().unwrap())
            .into_iter()
            .map(|(what, _)| what)
            .collect();
        out.sort();
        out
    }
}

fn sale(t: &Tracker, order: &str) {
    let mut m = ManualConversion::default();
    (m.order_id, m.amount, m.currency, m.kind) =
        (order.into(), "100.00".into(), "USD".into(), "sale".into());
    (m.campaign, m.partner) = ("haircare".into(), "abc123".into());
    t.manual(&m).unwrap();
}

/// The conformance case: see the module's docs.
pub fn events_about_one_conversion_reach_each_destination_in_order(store: Arc<dyn Store>) {
    let (t, clock) = tracker(store);
    t.allow_private_destinations(true);
    t.create_webhook(&WebhookRequest {
        id: Some("crm".into()),
        url: "http://127.0.0.1:9/hooks".into(),
        ..WebhookRequest::default()
    })
    .unwrap();
    t.update_partner(
        "abc123",
        &serde_json::json!({"postback_url": "http://127.0.0.1:9/pb?e={event}&o={order_id}&s={status}"}),
    )
    .unwrap();
    let rec = Recorder {
        sent: Mutex::new(Vec::new()),
        answer: Mutex::new(Err("connection refused".into())),
    };
    // The sale's deliveries fail: they wait for their retry.
    sale(&t, "ORD-1");
    assert_eq!(t.deliver(&rec, 16).unwrap().sent, 2);
    rec.take();
    // The approval's deliveries are due now, but the sale's are pending: nothing goes.
    t.set_status("ORD-1", Status::Approved).unwrap();
    let round = t.deliver(&rec, 16).unwrap();
    assert_eq!((round.fanned_out, round.sent), (1, 0), "{:?}", rec.take());
    // Another order does not wait for ORD-1.
    *rec.answer.lock().unwrap() = Ok(204);
    sale(&t, "ORD-2");
    assert_eq!(t.deliver(&rec, 16).unwrap().sent, 2, "ORD-2 goes at once");
    assert_eq!(
        rec.take(),
        [
            "hook conversion.created \"ORD-2\"",
            "postback e=conversion.created&o=ORD-2&s=pending",
        ]
    );
    // Each round sends what is due, the sale's first, the approval's after them.
    let mut sent = Vec::new();
    for _ in 0..20 {
        clock.advance_secs(5);
        t.deliver(&rec, 16).unwrap();
        sent.extend(rec.take());
        if sent.len() >= 4 {
            break;
        }
    }
    assert_eq!(
        sent,
        [
            "hook conversion.created \"ORD-1\"",
            "postback e=conversion.created&o=ORD-1&s=pending",
            "hook conversion.updated \"ORD-1\"",
            "postback e=conversion.updated&o=ORD-1&s=approved",
        ]
    );
    let (log, _) = t.webhook_deliveries("crm", None, 10).unwrap();
    assert!(log.iter().all(|d| d.state == DeliveryState::Delivered));
    assert_eq!(log.len(), 3);
    let _ = clock.now();
}
