//! Unit tests of deliveries' retry schedule and states (`events.rs`).

use super::*;

fn attempt(at: u64, status: Option<u16>) -> Attempt {
    Attempt {
        at,
        status,
        error: None,
        duration_ms: 1,
    }
}

#[test]
fn delays_double_within_their_jitter_and_stop_at_six_hours() {
    assert_eq!(retry_delay(1, 0), 2);
    assert_eq!(retry_delay(1, 1000), 5);
    assert_eq!(retry_delay(2, 1000), 10);
    assert_eq!(retry_delay(3, 500), 15);
    assert_eq!(retry_delay(40, 1000), 6 * 3600);
    assert_eq!(retry_delay(u32::MAX, u16::MAX), 6 * 3600);
}

#[test]
fn a_delivery_is_retried_for_three_days_then_fails() {
    let d = Delivery::new(
        "msg_1",
        EventKind::ConversionCreated,
        Target::Webhook("w".into()),
        "{}".into(),
        1000,
    )
    .unwrap();
    assert_eq!(d.due_at(), Some(1000));
    let mut cur = d.leased(1000);
    assert_eq!(cur.due_at(), Some(1000 + LEASE_SECS));
    let mut tries = 0;
    while cur.state == DeliveryState::Pending {
        let at = cur.next_at.max(1000);
        cur = cur.leased(at).after(attempt(at, Some(500)), 1000);
        tries += 1;
        assert!(tries < 100);
    }
    assert_eq!(cur.state, DeliveryState::Failed);
    assert!(cur.last_attempts.len() == KEPT_ATTEMPTS);
    assert!(cur.last_attempts.last().unwrap().at <= 1000 + RETRY_WINDOW_SECS);
    // About 12 doublings to 6 h, then 6-hourly for the rest of 3 days.
    assert!((15..=30).contains(&tries), "{tries}");
    let again = cur.retried(500_000);
    assert_eq!(again.due_at(), Some(500_000));
    let done = again.leased(500_000).after(attempt(500_000, Some(204)), 0);
    assert_eq!(done.state, DeliveryState::Delivered);
    assert_eq!(done.due_at(), None);
    assert_eq!(done.leased_until, 0);
}

#[test]
fn kinds_parse_and_print() {
    for k in EventKind::ALL {
        assert_eq!(EventKind::parse(k.as_str()).unwrap(), k);
        assert_eq!(serde_json::to_value(k).unwrap(), k.as_str());
    }
    let e = EventKind::parse("conversion.deleted").unwrap_err();
    assert!(e.to_string().contains("payout.updated"), "{e}");
}
