//! Click and impression earnings in the ledger, against the real binary on sled and on
//! PostgreSQL: a day's paid clicks and impressions become entries per beneficiary once
//! the day is over, payable after the approval period; closing again adds nothing; the
//! statistics of closed days equal the ledger; a rejected day is void before a payout
//! and clawed back after; each partner sees only its own entries.

use std::sync::Arc;

use affiliate_sdk::{CampaignSpec, Clock, FixedClock, Money, Tracker};

use super::money::{Kind, balance};
use super::*;

fn minor(v: &Value) -> u64 {
    Money::parse(v.as_str().unwrap(), "USD").unwrap().minor()
}

fn close(s: &Server) -> Value {
    let r = s.api_post("/v1/traffic/close", &json!({}));
    assert_eq!(r.status, 200, "{}", r.body);
    r.json()
}

fn traffic(s: &Server, query: &str) -> Vec<Value> {
    let r = s.api_get(&format!("/v1/traffic{query}"));
    assert_eq!(r.status, 200, "{}", r.body);
    r.json()["traffic"].as_array().unwrap().clone()
}

fn click_earnings(kind: &Kind) {
    // Before the server starts: three days ago (a tracker of this process with its clock
    // set back), 1,000 unique clicks of abc123 (whose parent is boss1) on a CPC campaign
    // paying 0.05 a click up to 800 a day with a 20% override, approved after 2 days;
    // 30 clicks of solo on one approved after 30 days, with 2,500 impressions at 1.30
    // a thousand.
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("affiliate.toml"), kind.config()).unwrap();
    let day;
    {
        let config = affiliate_server::config::Config::parse(
            &dir.path().join("affiliate.toml"),
            &kind.config(),
        )
        .unwrap();
        let then = now() - 3 * 86_400;
        // Far enough from midnight that every click falls on one day.
        let then = if then % 86_400 > 86_000 {
            then - 1_000
        } else {
            then
        };
        day = affiliate_sdk::format_day(u32::try_from(then / 86_400).unwrap());
        let clock = Arc::new(FixedClock::from_secs(then));
        let t: Tracker = config
            .tracker(kind.open(dir.path()))
            .unwrap()
            .with_clock(clock.clone() as Arc<dyn Clock>);
        let mut cpc = CampaignSpec::new("cpc", "https://shop.example/cpc", "USD");
        cpc.click_flat = Some("0.05".into());
        cpc.daily_paid_click_cap = 800;
        cpc.override_percents = vec!["20".into()];
        cpc.approve_after_days = 2;
        t.add_campaign(&cpc).unwrap();
        let mut slow = CampaignSpec::new("slow", "https://shop.example/slow", "USD");
        slow.click_flat = Some("0.10".into());
        slow.impression_per_mille = Some("1.30".into());
        slow.approve_after_days = 30;
        t.add_campaign(&slow).unwrap();
        let link = t.signer().build("cpc", "abc123", None, None).unwrap();
        for _ in 0..1_000 {
            t.click(&link, None).unwrap();
        }
        let link = t.signer().build("slow", "solo", None, None).unwrap();
        for _ in 0..30 {
            t.click(&link, None).unwrap();
        }
        for _ in 0..2_500 {
            t.impression(&link).unwrap();
        }
        t.flush().unwrap();
    }
    let s = Server::start_in(dir);

    // The day is over: abc123 earns 800 × 0.05 = 40.00, payable (2 days have passed);
    // boss1 20% of it. solo's 3.00 + 3.25 wait 30 days.
    close(&s);
    assert_eq!(balance(&s, "abc123")["payable"], "40.00");
    assert_eq!(balance(&s, "boss1")["payable"], "8.00");
    assert_eq!(balance(&s, "solo")["pending"], "6.25");
    assert_eq!(balance(&s, "solo")["payable"], "0.00");
    let listed = traffic(&s, "");
    assert_eq!(listed.len(), 3, "{listed:?}");
    let first = &listed[0];
    assert_eq!(
        (
            &first["day"],
            &first["campaign"],
            &first["partner"],
            &first["beneficiary"]
        ),
        (
            &json!(day),
            &json!("cpc"),
            &json!("abc123"),
            &json!("abc123")
        )
    );
    assert_eq!(
        (&first["amount"], &first["state"]),
        (&json!("40.00"), &json!("payable"))
    );
    assert_eq!(listed[1]["beneficiary"], "boss1");
    assert_eq!(listed[1]["level"], 1);

    // Closing again, on any server, adds nothing.
    let again = close(&s);
    assert_eq!(
        (again["written"].as_u64(), again["approved"].as_u64()),
        (Some(0), Some(0))
    );
    assert_eq!(traffic(&s, "").len(), 3);

    // The statistics of the closed day equal the ledger: per referring partner, every
    // level (as a conversion's commission counts); solo's also per beneficiary.
    let rows = s.stats(&format!("group_by=partner,campaign&from={day}&to={day}"));
    let stat = |p: &str, c: &str| {
        rows.iter()
            .find(|r| r["partner"] == p && r["campaign"] == c)
            .map_or(0, |r| minor(&r["commission"]["USD"]))
    };
    let ledger = |referrer: &str| -> u64 {
        listed
            .iter()
            .filter(|e| e["partner"] == referrer)
            .map(|e| minor(&e["amount"]))
            .sum()
    };
    assert_eq!(stat("abc123", "cpc"), 4_800);
    assert_eq!(stat("abc123", "cpc"), ledger("abc123"));
    assert_eq!(stat("solo", "slow"), 625);
    assert_eq!(stat("solo", "slow"), ledger("solo"));
    assert_eq!(stat("solo", "slow"), minor(&balance(&s, "solo")["pending"]));

    // Each partner sees only the entries it benefits from.
    let key = |code: &str| {
        let k = s
            .api_post(&format!("/v1/partners/{code}/keys"), &json!({}))
            .json()["key"]
            .as_str()
            .unwrap()
            .to_owned();
        format!("Bearer {k}")
    };
    for (who, want) in [("abc123", 1), ("boss1", 1), ("solo", 1)] {
        let auth = key(who);
        let r = s.get("/v1/partner/traffic", &[("Authorization", auth.as_str())]);
        assert_eq!(r.status, 200, "{}", r.body);
        let mine = r.json()["traffic"].as_array().unwrap().clone();
        assert_eq!(mine.len(), want, "{who}: {mine:?}");
        assert!(
            mine.iter().all(|e| e["beneficiary"] == who),
            "{who}: {mine:?}"
        );
    }
    let auth = key("solo");
    let r = s.get(
        &format!("/v1/partner/traffic?partner=abc123&from={day}"),
        &[("Authorization", auth.as_str())],
    );
    assert_eq!(r.status, 400, "an unknown parameter is refused: {}", r.body);

    // Rejected before a payout: void, nothing owed.
    let r = s.api_post(&format!("/v1/traffic/{day}/slow/solo/reject"), &json!({}));
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(r.json()["traffic"][0]["state"], "void");
    assert_eq!(balance(&s, "solo"), Value::Null, "nothing left for solo");
    // A day with no earnings, or not over yet: 404; a bad day: 400.
    let r = s.api_post(&format!("/v1/traffic/{day}/cpc/solo/reject"), &json!({}));
    assert_eq!(
        (r.status, r.code()),
        (404, "not_found".into()),
        "{}",
        r.body
    );
    let r = s.api_post("/v1/traffic/2026-13-01/cpc/abc123/reject", &json!({}));
    assert_eq!(
        (r.status, r.code()),
        (400, "malformed".into()),
        "{}",
        r.body
    );

    // Paid out, then rejected: abc123 owes 40.00 back, which its next payout nets;
    // boss1's share was not yet paid: void.
    let r = s.send(
        "POST",
        "/v1/payouts",
        &[AUTH, ("Idempotency-Key", "traffic-run")],
        &json!({"currency": "USD", "partner": "abc123"}).to_string(),
    );
    assert_eq!(r.status, 201, "{}", r.body);
    let po = r.json()["payouts"][0].clone();
    assert_eq!(po["amount"], "40.00");
    let items = s.api_get(&format!("/v1/payouts/{}", po["id"].as_str().unwrap()));
    assert_eq!(
        items.json()["items"].as_array().unwrap().len(),
        1,
        "{}",
        items.body
    );
    let paid = s.api_post(
        &format!("/v1/payouts/{}/status", po["id"].as_str().unwrap()),
        &json!({"status": "paid"}),
    );
    assert_eq!(paid.status, 200, "{}", paid.body);
    let r = s.api_post(&format!("/v1/traffic/{day}/cpc/abc123/reject"), &json!({}));
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(balance(&s, "abc123")["clawback"], "40.00");
    assert_eq!(balance(&s, "abc123")["paid"], "40.00");
    assert_eq!(balance(&s, "boss1"), Value::Null);
    // Rejecting again changes nothing.
    let r = s.api_post(&format!("/v1/traffic/{day}/cpc/abc123/reject"), &json!({}));
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(balance(&s, "abc123")["clawback"], "40.00");
    let kinds: Vec<String> = traffic(&s, "?partner=abc123")
        .iter()
        .map(|e| format!("{} {} {}", e["kind"], e["amount"], e["state"]))
        .collect();
    assert_eq!(
        kinds,
        [
            "\"traffic\" \"40.00\" \"paid\"",
            "\"clawback\" \"-40.00\" \"payable\""
        ]
    );
}

#[test]
fn click_earnings_reach_the_ledger_on_sled() {
    click_earnings(&Kind::Sled);
}

#[test]
fn click_earnings_reach_the_ledger_on_postgres() {
    click_earnings(&Kind::Postgres(common::fresh_database()));
}
