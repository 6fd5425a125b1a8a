//! The money red-team cases, replayed against the real binary on sled and on
//! PostgreSQL: a commission set `paid` by hand while a payout holds it is never paid
//! twice; a failed payout reopens only approved orders; a customer's binding holds only
//! its own campaign's sales and is passed over while its partner is suspended; unsigned
//! open-mode sales wait for a person; an oversized amount is refused at the door.

use std::sync::Arc;

use affiliate_sdk::{
    BrowserConversion, CampaignSpec, Clock, FixedClock, ManualConversion, Store, Tracker,
};

use super::*;

/// A store of the kind `cfg` names, opened by this process (before the server starts
/// on it, or beside it on PostgreSQL).
pub(crate) enum Kind {
    Sled,
    Postgres(String),
}

impl Kind {
    pub(crate) fn config(&self) -> String {
        match self {
            Kind::Sled => config(""),
            Kind::Postgres(db) => config(&format!("\n[store]\nurl = \"{db}\"")),
        }
    }

    pub(crate) fn open(&self, dir: &std::path::Path) -> Arc<dyn Store> {
        match self {
            Kind::Sled => Arc::new(affiliate_sdk::SledStore::open(dir.join("data/sled")).unwrap()),
            Kind::Postgres(db) => Arc::new(affiliate_sdk::PostgresStore::open(db).unwrap()),
        }
    }
}

fn manual(s: &Server, order: &str, amount: &str, campaign: &str, partner: &str) -> Value {
    let r = s.api_post(
        "/v1/conversions/manual",
        &json!({"order_id": order, "amount": amount, "currency": "USD", "kind": "sale",
                "campaign": campaign, "partner": partner}),
    );
    assert_eq!(r.status, 201, "{}", r.body);
    r.json()
}

fn status(s: &Server, order: &str, to: &str) -> common::Resp {
    s.api_post(
        &format!("/v1/conversions/{order}/status"),
        &json!({"status": to}),
    )
}

fn payout_run(s: &Server, key: &str, partner: &str) -> Vec<Value> {
    let r = s.send(
        "POST",
        "/v1/payouts",
        &[AUTH, ("Idempotency-Key", key)],
        &json!({"currency": "USD", "partner": partner}).to_string(),
    );
    assert_eq!(r.status, 201, "{}", r.body);
    r.json()["payouts"].as_array().unwrap().clone()
}

fn settle(s: &Server, id: &str, to: &str) {
    let r = s.api_post(&format!("/v1/payouts/{id}/status"), &json!({"status": to}));
    assert_eq!(r.status, 200, "{}", r.body);
}

pub(crate) fn balance(s: &Server, partner: &str) -> Value {
    s.api_get(&format!("/v1/balances?partner={partner}&currency=USD"))
        .json()["rows"][0]
        .clone()
}

/// Every case on one server of `kind`.
fn red_team(kind: &Kind) {
    // Before the server starts: a campaign approving after 2 days whose sales, one
    // vouched for and one unsigned, were made 3 days ago (a tracker of this process
    // with its clock set back).
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("affiliate.toml"), kind.config()).unwrap();
    {
        let config = affiliate_server::config::Config::parse(
            &dir.path().join("affiliate.toml"),
            &kind.config(),
        )
        .unwrap();
        let clock = Arc::new(FixedClock::from_secs(now() - 3 * 86_400));
        let t: Tracker = config
            .tracker(kind.open(dir.path()))
            .unwrap()
            .with_clock(clock.clone() as Arc<dyn Clock>);
        let mut open = CampaignSpec::new("opennet", "https://shop.example/open", "USD");
        open.sale_percent = Some("10".into());
        open.browser_conversions = affiliate_sdk::BrowserConversions::Open;
        open.max_browser_amount = Some("100.00".into());
        open.approve_after_days = 2;
        t.add_campaign(&open).unwrap();
        t.manual(&ManualConversion::sale(
            "OPEN-vouched",
            "100.00",
            "USD",
            "opennet",
            "solo",
        ))
        .unwrap();
        let click = t
            .click(
                &t.signer().build("opennet", "solo", None, None).unwrap(),
                None,
            )
            .unwrap();
        let mut unsigned = BrowserConversion::sale("OPEN-unsigned", "100.00", "USD");
        unsigned.token = Some(click.token);
        assert_eq!(
            t.convert_browser(&unsigned).unwrap().channel,
            affiliate_sdk::Channel::Browser
        );
    }
    let s = Server::start_in(dir);

    // Unsigned open-mode sales are not approved by the period.
    let r = s.api_post("/v1/conversions/approve-due", &json!({}));
    assert_eq!(r.status, 200, "{}", r.body);
    let status_of = |o: &str| s.api_get(&format!("/v1/conversions/{o}")).json()["status"].clone();
    assert_eq!(status_of("OPEN-vouched"), "approved");
    assert_eq!(status_of("OPEN-unsigned"), "pending");

    // `paid` by hand while a payout holds the commission: refused, and paid once.
    manual(&s, "HAND-1", "100.00", "haircare", "abc123");
    assert_eq!(status(&s, "HAND-1", "approved").status, 200);
    let run = payout_run(&s, "hand-run-1", "abc123");
    assert_eq!(run.len(), 1);
    assert_eq!(run[0]["amount"], "10.00");
    let po = run[0]["id"].as_str().unwrap().to_owned();
    let r = status(&s, "HAND-1", "paid");
    assert_eq!((r.status, r.code()), (409, "conflict".into()), "{}", r.body);
    assert!(
        r.body.contains(&po),
        "the answer names the payout: {}",
        r.body
    );
    assert_eq!(status_of("HAND-1"), "approved", "nothing changed");
    settle(&s, &po, "failed");
    let again = payout_run(&s, "hand-run-2", "abc123");
    assert_eq!(again.len(), 1);
    assert_eq!(again[0]["amount"], "10.00");
    settle(&s, again[0]["id"].as_str().unwrap(), "paid");
    // Its parent's override paid too: the conversion reads paid.
    assert_eq!(status_of("HAND-1"), "approved");
    let parent = payout_run(&s, "hand-run-boss", "boss1");
    settle(&s, parent[0]["id"].as_str().unwrap(), "paid");
    assert_eq!(status_of("HAND-1"), "paid");
    assert!(
        payout_run(&s, "hand-run-3", "abc123").is_empty(),
        "paid once"
    );
    let b = balance(&s, "abc123");
    assert_eq!(
        (b["paid"].clone(), b["payable"].clone()),
        (json!("10.00"), json!("0.00"))
    );

    // A failed payout reopens only approved orders: F-1 reversed while held.
    manual(&s, "F-1", "100.00", "haircare", "abc123");
    assert_eq!(status(&s, "F-1", "approved").status, 200);
    let run = payout_run(&s, "fail-run-1", "abc123");
    assert_eq!(run[0]["amount"], "10.00");
    assert_eq!(status(&s, "F-1", "reversed").status, 200);
    settle(&s, run[0]["id"].as_str().unwrap(), "failed");
    assert!(
        payout_run(&s, "fail-run-2", "abc123").is_empty(),
        "no +10/-10 items for an order that earned nothing"
    );
    let b = balance(&s, "abc123");
    assert_eq!(
        (
            b["payable"].clone(),
            b["clawback"].clone(),
            b["paid"].clone()
        ),
        (json!("0.00"), json!("0.00"), json!("10.00"))
    );

    // Bindings per campaign: cust-1 bound to e3 in the recurring campaign `rec`.
    let rec = json!({"code": "rec", "destination": "https://shop.example/rec",
        "currency": "USD", "sale_percent": "20", "recurring_months": 12});
    assert_eq!(s.api_post("/v1/campaigns", &rec).status, 201);
    assert_eq!(
        s.api_post("/v1/partners", &json!({"code": "e3"})).status,
        201
    );
    let r = s.api_post(
        "/v1/conversions/manual",
        &json!({"order_id": "REC-1", "amount": "100.00", "currency": "USD", "kind": "sale",
                "campaign": "rec", "partner": "e3", "customer_id": "cust-1"}),
    );
    assert_eq!(r.status, 201, "{}", r.body);
    // A haircare sale by abc123's coupon credits abc123 at haircare's 10 %.
    let hair = json!({"order_id": "REC-2", "amount": "100.00", "currency": "USD",
        "coupon": "ABC10", "campaign": "haircare", "customer_id": "cust-1"});
    let r = s.api_post("/v1/postback", &hair);
    assert_eq!(r.status, 201, "{}", r.body);
    let c = r.json();
    assert_eq!(
        (
            c["campaign"].clone(),
            c["partner"].clone(),
            c["commissions"][0]["amount"].clone()
        ),
        (json!("haircare"), json!("abc123"), json!("10.00")),
        "{c}"
    );
    // A rec sale by abc123's coupon stays with e3 (the recurring rule)…
    let in_rec = |order: &str| {
        json!({"order_id": order, "amount": "100.00", "currency": "USD",
            "coupon": "ABC10", "campaign": "rec", "customer_id": "cust-1"})
    };
    let r = s.api_post("/v1/postback", &in_rec("REC-3"));
    assert_eq!(
        (r.status, r.json()["partner"].clone()),
        (201, json!("e3")),
        "{}",
        r.body
    );
    // …until e3 is suspended: then abc123's coupon counts (not a 422).
    let r = s.send(
        "PATCH",
        "/v1/partners/e3",
        &[AUTH, ("content-type", "application/merge-patch+json")],
        &json!({"status": "suspended"}).to_string(),
    );
    assert_eq!(r.status, 200, "{}", r.body);
    let r = s.api_post("/v1/postback", &in_rec("REC-4"));
    assert_eq!(r.status, 201, "{}", r.body);
    assert_eq!(r.json()["partner"], "abc123");

    // An oversized amount is refused at the door, and nothing is recorded.
    let huge = json!({"order_id": "HUGE-1", "amount": "1000000000.01", "currency": "USD",
        "kind": "sale", "campaign": "haircare", "partner": "abc123"});
    let r = s.api_post("/v1/conversions/manual", &huge);
    assert_eq!(
        (r.status, r.code()),
        (400, "malformed".into()),
        "{}",
        r.body
    );
    assert!(r.body.contains("at most 1000000000"), "{}", r.body);
    assert_eq!(s.api_get("/v1/conversions/HUGE-1").status, 404);

    refunds(&s);
    adjustments(&s);
}

fn refund(s: &Server, order: &str, id: &str, amount: &str) -> common::Resp {
    s.api_post(
        &format!("/v1/conversions/{order}/refunds"),
        &json!({"refund_id": id, "amount": amount}),
    )
}

/// `(payable, clawback, paid)` of `partner` in USD.
fn owed(s: &Server, partner: &str) -> (String, String, String) {
    let b = balance(s, partner);
    let f = |k: &str| b[k].as_str().unwrap_or("none").to_owned();
    (f("payable"), f("clawback"), f("paid"))
}

/// Partial refunds: the worked example of the docs, a replay, a refund after payout, odd
/// amounts, and refunds reported by a postback (POST and GET).
fn refunds(s: &Server) {
    let plan = json!({"code": "refundable", "destination": "https://shop.example/r",
        "currency": "USD", "sale_percent": "10", "override_percents": ["20"]});
    assert_eq!(s.api_post("/v1/campaigns", &plan).status, 201);
    for p in [
        json!({"code": "rp"}),
        json!({"code": "rc", "parent": "rp"}),
        json!({"code": "ro"}),
    ] {
        assert_eq!(s.api_post("/v1/partners", &p).status, 201);
    }
    manual(s, "RF-1", "100.00", "refundable", "rc");
    assert_eq!(status(s, "RF-1", "approved").status, 200);
    // $30 of $100 refunded: the child gives back $3.00, its parent $0.60.
    let r = refund(s, "RF-1", "re_1", "30.00");
    assert_eq!(r.status, 201, "{}", r.body);
    let c = r.json();
    assert_eq!(
        (c["refunded"].clone(), c["status"].clone()),
        (json!("30.00"), json!("approved"))
    );
    assert_eq!(
        owed(s, "rc"),
        ("10.00".into(), "3.00".into(), "0.00".into())
    );
    assert_eq!(owed(s, "rp"), ("2.00".into(), "0.60".into(), "0.00".into()));
    // The same refund again changes nothing; the same id with another amount is refused.
    let again = refund(s, "RF-1", "re_1", "30.00");
    assert_eq!(
        (again.status, again.json()["duplicate"].clone()),
        (200, json!(true))
    );
    let r = refund(s, "RF-1", "re_1", "31.00");
    assert_eq!((r.status, r.code()), (409, "conflict".into()));
    let r = refund(s, "RF-1", "re_x", "70.01");
    assert_eq!(
        (r.status, r.code()),
        (400, "malformed".into()),
        "{}",
        r.body
    );
    assert_eq!(
        owed(s, "rc"),
        ("10.00".into(), "3.00".into(), "0.00".into())
    );
    // Paid out net: 7.00.
    let run = payout_run(s, "refund-run-1", "rc");
    assert_eq!(run[0]["amount"], "7.00");
    settle(s, run[0]["id"].as_str().unwrap(), "paid");
    // A refund after the payout is owed back; the rest reverses, and what went out net
    // (7.00) is owed back by one clawback.
    assert_eq!(refund(s, "RF-1", "re_2", "20.00").status, 201);
    assert_eq!(owed(s, "rc"), ("0.00".into(), "2.00".into(), "7.00".into()));
    let r = refund(s, "RF-1", "re_3", "50.00");
    assert_eq!(r.status, 201, "{}", r.body);
    assert_eq!(
        (r.json()["status"].clone(), r.json()["refunded"].clone()),
        (json!("reversed"), json!("100.00"))
    );
    assert_eq!(owed(s, "rc"), ("0.00".into(), "7.00".into(), "7.00".into()));
    assert_eq!(
        balance(s, "rp"),
        Value::Null,
        "the parent's share all returned, nothing paid"
    );
    // The next payout nets the clawback: a 200.00 sale (20.00) pays 13.00.
    manual(s, "RF-2", "200.00", "refundable", "rc");
    assert_eq!(status(s, "RF-2", "approved").status, 200);
    let run = payout_run(s, "refund-run-2", "rc");
    assert_eq!(run[0]["amount"], "13.00");

    // Odd amounts round down per refund, cumulatively: 0.10 of a 1.00 order.
    manual(s, "RF-ODD", "1.00", "refundable", "ro");
    let clawback = |s: &Server| owed(s, "ro").1;
    assert_eq!(refund(s, "RF-ODD", "o1", "0.33").status, 201);
    assert_eq!(
        balance(s, "ro")["pending"],
        "0.07",
        "pending net of the pending refund"
    );
    assert_eq!(status(s, "RF-ODD", "approved").status, 200);
    assert_eq!(clawback(s), "0.03");
    assert_eq!(refund(s, "RF-ODD", "o2", "0.33").status, 201);
    assert_eq!(clawback(s), "0.06");
    assert_eq!(refund(s, "RF-ODD", "o3", "0.34").status, 201);
    assert_eq!(balance(s, "ro"), Value::Null, "everything returned");

    // A refund by postback, POST and GET.
    manual(s, "RF-P", "50.00", "refundable", "ro");
    let r = s.api_post(
        "/v1/postback",
        &json!({"order_id": "RF-P", "refund_id": "pb_1", "refund_amount": "10.00"}),
    );
    assert_eq!(
        (r.status, r.json()["refunded"].clone()),
        (201, json!("10.00")),
        "{}",
        r.body
    );
    let r = s.api_post(
        "/v1/postback",
        &json!({"order_id": "RF-P", "refund_id": "pb_2", "refund_amount": "1.00", "currency": "USD"}),
    );
    assert_eq!(
        (r.status, r.code()),
        (400, "malformed".into()),
        "{}",
        r.body
    );
    let key = s
        .api_post("/v1/postback-keys", &json!({"label": "cart"}))
        .json()["key"]
        .as_str()
        .unwrap()
        .to_owned();
    let url = format!("/v1/postback?key={key}&order_id=RF-P&refund_id=pb_3&refund_amount=5.00");
    let r = s.get(&url, &[]);
    assert_eq!(
        (r.status, r.json()["refunded"].clone()),
        (201, json!("15.00")),
        "{}",
        r.body
    );
    let r = s.get(&url, &[]);
    assert_eq!(
        (r.status, r.json()["duplicate"].clone()),
        (200, json!(true))
    );
    let c = s.api_get("/v1/conversions/RF-P").json();
    assert_eq!(c["refunds"].as_array().unwrap().len(), 2);

    // Stats net of refunds: RF-1 and RF-ODD reversed count nothing; RF-2 (200.00,
    // 20.00 + 4.00) in full; RF-P 35.00 of 50.00 and 3.50 of its 5.00.
    let stats = s.api_get("/v1/stats?campaign=refundable").json();
    let row = &stats["rows"][0];
    assert_eq!(
        (
            row["revenue"]["USD"].clone(),
            row["commission"]["USD"].clone()
        ),
        (json!("235.00"), json!("27.50")),
        "{stats}"
    );
}

fn adjust(s: &Server, key: &str, body: &Value) -> common::Resp {
    s.send(
        "POST",
        "/v1/adjustments",
        &[AUTH, ("Idempotency-Key", key)],
        &body.to_string(),
    )
}

/// Adjustments +50.00 and -20.00: in the balance, the next payout and the partner's
/// own view with their memos; replays change nothing; a negative one may not make the
/// balance negative unless allowed.
fn adjustments(s: &Server) {
    assert_eq!(
        s.api_post("/v1/partners", &json!({"code": "adj1"})).status,
        201
    );
    let bonus = json!({"partner": "adj1", "currency": "USD", "amount": "50.00",
        "memo": "March contest, 2nd place", "kind": "bonus"});
    let r = adjust(s, "bonus-1", &bonus);
    assert_eq!(r.status, 201, "{}", r.body);
    let made = r.json();
    assert_eq!(
        (made["amount"].clone(), made["state"].clone()),
        (json!("50.00"), json!("payable"))
    );
    assert!(made["id"].as_str().unwrap().starts_with("adj_"));
    let again = adjust(s, "bonus-1", &bonus);
    assert_eq!(
        (again.status, again.header("idempotent-replayed")),
        (200, Some("true"))
    );
    assert_eq!(again.json()["id"], made["id"]);
    let other = adjust(
        s,
        "bonus-1",
        &json!({"partner": "adj1", "currency": "USD",
        "amount": "51.00", "memo": "March contest, 2nd place", "kind": "bonus"}),
    );
    assert_eq!((other.status, other.code()), (409, "conflict".into()));
    // Taking 80.00 back would leave adj1 owed -30.00: refused unless allowed.
    let too_much = json!({"partner": "adj1", "currency": "USD", "amount": "-80.00",
        "memo": "double count", "kind": "correction"});
    let r = adjust(s, "fix-0", &too_much);
    assert_eq!((r.status, r.code()), (409, "conflict".into()), "{}", r.body);
    let fix = json!({"partner": "adj1", "currency": "USD", "amount": "-20.00",
        "memo": "double count in February", "kind": "correction"});
    assert_eq!(adjust(s, "fix-1", &fix).status, 201);
    assert_eq!(adjust(s, "fix-1", &fix).status, 200);
    for (bad, field) in [
        (
            json!({"partner": "adj1", "currency": "USD", "amount": "-1.00", "memo": "m", "kind": "bonus"}),
            "amount",
        ),
        (
            json!({"partner": "adj1", "currency": "USD", "amount": "1.00", "memo": "", "kind": "bonus"}),
            "memo",
        ),
        (
            json!({"partner": "adj1", "currency": "USD", "amount": "1.00", "memo": "m", "kind": "gift"}),
            "gift",
        ),
        (
            json!({"partner": "adj1", "currency": "USD", "amount": "1e3", "memo": "m", "kind": "bonus"}),
            "",
        ),
    ] {
        let r = adjust(s, "bad", &bad);
        assert_eq!(
            (r.status, r.code()),
            (400, "malformed".into()),
            "{bad}: {}",
            r.body
        );
        assert!(r.body.contains(field), "{}", r.body);
    }
    let r = adjust(
        s,
        "ghost",
        &json!({"partner": "nobody", "currency": "USD", "amount": "1.00", "memo": "m", "kind": "bonus"}),
    );
    assert_eq!(r.status, 422, "{}", r.body);
    let b = balance(s, "adj1");
    assert_eq!(
        (b["payable"].clone(), b["clawback"].clone()),
        (json!("50.00"), json!("20.00"))
    );
    // Listed, newest first, and exported.
    let list = s.api_get("/v1/adjustments?partner=adj1").json();
    let memos: Vec<&str> = list["adjustments"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["memo"].as_str().unwrap())
        .collect();
    assert_eq!(memos.len(), 2);
    let csv = s.api_get("/v1/adjustments.csv?partner=adj1");
    assert_eq!(csv.status, 200);
    assert!(
        csv.body
            .starts_with("id,partner,currency,amount,kind,memo,state,payout,created\r\n"),
        "{}",
        csv.body
    );
    assert!(
        csv.body
            .contains(",-20.00,correction,double count in February,payable,,"),
        "{}",
        csv.body
    );
    // The partner sees its own, with the memos; another partner sees none of them.
    let key = |code: &str| {
        s.api_post(&format!("/v1/partners/{code}/keys"), &json!({}))
            .json()["key"]
            .as_str()
            .unwrap()
            .to_owned()
    };
    let mine = key("adj1");
    let auth = format!("Bearer {mine}");
    let seen = s.get(
        "/v1/partner/adjustments",
        &[("Authorization", auth.as_str())],
    );
    assert_eq!(seen.status, 200, "{}", seen.body);
    assert!(
        seen.body.contains("March contest, 2nd place")
            && seen.body.contains("double count in February")
    );
    let theirs = format!("Bearer {}", key("solo"));
    let other = s.get(
        "/v1/partner/adjustments",
        &[("Authorization", theirs.as_str())],
    );
    assert_eq!(other.json()["adjustments"], json!([]));
    // The next payout nets them: 30.00, with both as items.
    let run = payout_run(s, "adj-run", "adj1");
    assert_eq!(run[0]["amount"], "30.00");
    let id = run[0]["id"].as_str().unwrap().to_owned();
    let items = s.api_get(&format!("/v1/payouts/{id}")).json()["items"].clone();
    let kinds: Vec<&str> = items
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["kind"].as_str().unwrap())
        .collect();
    assert_eq!(kinds.len(), 2, "{items}");
    assert!(
        kinds.contains(&"adjustment") && kinds.contains(&"deduction"),
        "{items}"
    );
    settle(s, &id, "paid");
    let b = balance(s, "adj1");
    assert_eq!(
        (b["paid"].clone(), b["payable"].clone()),
        (json!("30.00"), json!("0.00"))
    );
    let states: Vec<String> = s.api_get("/v1/adjustments?partner=adj1").json()["adjustments"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["state"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(states, ["paid", "paid"]);
}

#[test]
fn the_money_red_team_cases_give_the_right_money_on_sled() {
    red_team(&Kind::Sled);
}

#[test]
fn the_money_red_team_cases_give_the_right_money_on_postgres() {
    red_team(&Kind::Postgres(common::fresh_database()));
}
