//! Payouts through the merchant API: a run under an `Idempotency-Key`, replayed and
//! reused with another body, paid and failed, the list, one payout with its items, the
//! CSV; every refusal a typed error that changes nothing.

use super::*;

fn approved_sale(app: &App, id: &str, amount: &str) {
    let body = json!({"order_id": id, "amount": amount, "currency": "USD", "kind": "sale",
        "campaign": "haircare", "partner": "abc123"});
    assert_eq!(app.api_post("/v1/conversions/manual", &body).status, 201);
    let r = app.api_post(
        "/v1/conversions/status",
        &json!({"order_ids": [id], "status": "approved"}),
    );
    assert_eq!(r.status, 200, "{}", r.body);
}

fn run(app: &App, key: &str, body: &Value) -> common::Resp {
    app.send(
        "POST",
        "/v1/payouts",
        &[AUTH, ("Idempotency-Key", key)],
        &body.to_string(),
    )
}

#[test]
fn a_run_pays_each_beneficiary_once_and_a_retry_answers_the_same() {
    let app = App::new(&config(""));
    approved_sale(&app, "P-1", "60.00");
    approved_sale(&app, "P-2", "40.00");
    let r = run(&app, "run-1", &json!({"currency": "USD"}));
    assert_eq!(r.status, 201, "{}", r.body);
    let payouts = r.json()["payouts"].clone();
    let rows: Vec<(String, String, u64, String)> = payouts
        .as_array()
        .unwrap()
        .iter()
        .map(|p| {
            (
                p["partner"].as_str().unwrap().to_owned(),
                p["amount"].as_str().unwrap().to_owned(),
                p["entries"].as_u64().unwrap(),
                p["status"].as_str().unwrap().to_owned(),
            )
        })
        .collect();
    // The child its 10 %, the parent its 10 % override of that, each its own payout.
    assert_eq!(
        rows,
        [
            ("abc123".into(), "10.00".into(), 2, "pending".into()),
            ("boss1".into(), "1.00".into(), 2, "pending".into())
        ]
    );
    // The same key: the same payouts, 200, marked replayed; nothing new.
    let again = run(&app, "run-1", &json!({"currency": "USD"}));
    assert_eq!(again.status, 200);
    assert_eq!(again.header("idempotent-replayed"), Some("true"));
    assert_eq!(again.json()["payouts"], payouts);
    // Another key finds nothing left to pay.
    let r = run(&app, "run-2", &json!({"currency": "USD"}));
    assert_eq!((r.status, r.json()["payouts"].clone()), (201, json!([])));
    let balances = app.api_get("/v1/balances?partner=abc123").json();
    assert_eq!(balances["rows"][0]["in_payout"], "10.00");
    assert_eq!(balances["rows"][0]["payable"], "0.00");

    // One payout with its items; paid: the conversions whose entries are all paid
    // read paid.
    let id = payouts[0]["id"].as_str().unwrap().to_owned();
    let one = app.api_get(&format!("/v1/payouts/{id}")).json();
    assert_eq!(
        one["items"],
        json!([
            {"order_id": "P-1", "level": 0, "kind": "commission", "amount": "6.00"},
            {"order_id": "P-2", "level": 0, "kind": "commission", "amount": "4.00"},
        ])
    );
    let paid = app.api_post(
        &format!("/v1/payouts/{id}/status"),
        &json!({"status": "paid"}),
    );
    assert_eq!(
        (paid.status, paid.json()["status"].clone()),
        (200, json!("paid"))
    );
    assert_eq!(
        app.api_get("/v1/conversions/P-1").json()["status"],
        "approved",
        "boss1's entry is not paid yet"
    );
    let boss = payouts[1]["id"].as_str().unwrap();
    app.api_post(
        &format!("/v1/payouts/{boss}/status"),
        &json!({"status": "paid"}),
    );
    assert_eq!(app.api_get("/v1/conversions/P-1").json()["status"], "paid");
    // A refund after payment: clawed back, netted by the next run.
    let r = app.api_post(
        "/v1/conversions/status",
        &json!({"order_ids": ["P-2"], "status": "reversed"}),
    );
    assert_eq!(r.status, 200);
    let rows = app.api_get("/v1/balances?partner=abc123").json()["rows"].clone();
    assert_eq!(
        (rows[0]["paid"].clone(), rows[0]["clawback"].clone()),
        (json!("10.00"), json!("4.00"))
    );
    approved_sale(&app, "P-3", "100.00");
    let r = run(
        &app,
        "run-3",
        &json!({"currency": "USD", "partner": "abc123"}),
    );
    assert_eq!(
        r.json()["payouts"][0]["amount"],
        "6.00",
        "10.00 earned, 4.00 owed back"
    );

    // The list, filtered, and the CSV.
    let list = app.api_get("/v1/payouts?status=paid").json()["payouts"].clone();
    assert_eq!(list.as_array().unwrap().len(), 2);
    let pending = app.api_get("/v1/payouts?status=pending").json()["payouts"].clone();
    assert_eq!(pending.as_array().unwrap().len(), 1);
    assert_eq!(pending[0]["amount"], "6.00");
    let csv = app.api_get("/v1/payouts.csv?partner=abc123");
    assert_eq!(csv.status, 200);
    assert_eq!(csv.header("content-type"), Some("text/csv; charset=utf-8"));
    let lines: Vec<&str> = csv.body.lines().collect();
    assert_eq!(
        lines[0],
        "id,partner,name,payout_details,currency,amount,entries,status,created,updated"
    );
    assert_eq!(lines.len(), 3);
    assert!(
        lines
            .iter()
            .any(|l| l.contains(",abc123,") && l.contains(",USD,6.00,2,pending,")),
        "{}",
        csv.body
    );
}

#[test]
fn bad_payout_input_is_refused_and_changes_nothing() {
    let app = App::new(&config(""));
    approved_sale(&app, "Q-1", "60.00");
    let made = run(
        &app,
        "first",
        &json!({"currency": "USD", "partner": "boss1"}),
    );
    assert_eq!(made.status, 201);
    let id = made.json()["payouts"][0]["id"].as_str().unwrap().to_owned();
    let state = |app: &App| {
        (
            app.api_get("/v1/balances").body,
            app.api_get("/v1/payouts").body,
        )
    };
    let before = state(&app);
    let cases: Vec<(Option<&str>, String, u16, &str)> = vec![
        (
            None,
            json!({"currency": "USD"}).to_string(),
            400,
            "malformed",
        ),
        (
            Some("k"),
            json!({"currency": "XYZ"}).to_string(),
            400,
            "malformed",
        ),
        (Some("k"), json!({}).to_string(), 400, "malformed"),
        (
            Some("k"),
            json!({"currency": "USD", "min_amount": "-5.00"}).to_string(),
            400,
            "malformed",
        ),
        (
            Some("k"),
            json!({"currency": "USD", "min_amount": "ten"}).to_string(),
            400,
            "malformed",
        ),
        (
            Some("k"),
            json!({"currency": "USD", "min_amount": 5}).to_string(),
            400,
            "malformed",
        ),
        (
            Some("k"),
            json!({"currency": "USD", "up_to": "yesterday"}).to_string(),
            400,
            "malformed",
        ),
        (
            Some("k"),
            json!({"currency": "USD", "partner": "ghost"}).to_string(),
            422,
            "unknown_partner",
        ),
        (
            Some("k"),
            json!({"currency": "USD", "extra": 1}).to_string(),
            400,
            "malformed",
        ),
        (Some("k"), "{".to_owned(), 400, "malformed"),
        (
            Some("k"),
            format!("{{\"currency\": \"{}\"}}", "U".repeat(5000)),
            413,
            "malformed",
        ),
        // The key used before, with another body.
        (
            Some("first"),
            json!({"currency": "USD"}).to_string(),
            409,
            "conflict",
        ),
    ];
    for (key, body, status, code) in cases {
        let mut headers = vec![AUTH];
        if let Some(k) = key {
            headers.push(("Idempotency-Key", k));
        }
        let r = app.send("POST", "/v1/payouts", &headers, &body);
        assert_eq!(
            (r.status, r.code()),
            (status, code.to_owned()),
            "{key:?} {body:.80}: {}",
            r.body
        );
        assert_eq!(
            state(&app),
            before,
            "a refused run changed something: {body:.80}"
        );
    }
    let moves: Vec<(String, Value, u16, &str)> = vec![
        (
            id.clone(),
            json!({"status": "pending"}),
            409,
            "invalid_transition",
        ),
        (id.clone(), json!({"status": "lost"}), 400, "malformed"),
        (
            id.clone(),
            json!({"status": "paid", "note": 1}),
            400,
            "malformed",
        ),
        (
            "po_000000000000000000000000".into(),
            json!({"status": "paid"}),
            404,
            "not_found",
        ),
        (
            "x%27%3B--".into(),
            json!({"status": "paid"}),
            404,
            "not_found",
        ),
    ];
    for (target, body, status, code) in moves {
        let r = app.api_post(&format!("/v1/payouts/{target}/status"), &body);
        assert_eq!(
            (r.status, r.code()),
            (status, code.to_owned()),
            "{target} {body}: {}",
            r.body
        );
        assert_eq!(state(&app), before);
    }
    assert_eq!(
        app.api_post(
            &format!("/v1/payouts/{id}/status"),
            &json!({"status": "failed"})
        )
        .status,
        200
    );
    let r = app.api_post(
        &format!("/v1/payouts/{id}/status"),
        &json!({"status": "paid"}),
    );
    assert_eq!((r.status, r.code()), (409, "invalid_transition".into()));
    for q in [
        "status=lost",
        "currency=QQQ",
        "partner=a%20b",
        "sort=x",
        "status=paid&status=paid",
    ] {
        for path in ["/v1/payouts", "/v1/payouts.csv"] {
            let r = app.api_get(&format!("{path}?{q}"));
            assert_eq!(
                (r.status, r.code()),
                (400, "malformed".into()),
                "{path}?{q}"
            );
        }
    }
    assert_eq!(app.api_get("/v1/payouts/po_missing").status, 404);
    for path in [
        "/v1/payouts",
        "/v1/payouts.csv",
        &format!("/v1/payouts/{id}"),
    ] {
        let r = app.send("GET", path, &[("Authorization", "Bearer wrong")], "");
        assert_eq!(r.status, 401, "{path}");
    }
    let r = app.send(
        "POST",
        "/v1/payouts",
        &[("Idempotency-Key", "z")],
        "{\"currency\":\"USD\"}",
    );
    assert_eq!(r.status, 401);
}

/// The server SIGKILLed while payout runs and payout status changes are in flight,
/// eight times: after each restart every acknowledged run's key answers the same
/// payouts, an interrupted run's key makes it once, and the ledger adds up: what was
/// earned is payable, in a payout or paid, each entry in at most one live payout.
#[test]
fn a_crash_while_paying_out_loses_nothing_and_pays_nothing_twice() {
    use std::collections::{BTreeMap, HashSet};
    let mut server = Server::start(&config(""));
    let mut acknowledged: BTreeMap<String, Value> = BTreeMap::new();
    let mut sales = 0u64;
    let mut cycles_with_runs = 0;
    let run_body = json!({"currency": "USD"});
    for cycle in 0..8u64 {
        // New approved sales for this cycle's runs.
        for i in 0..30 {
            let id = format!("K-{cycle}-{i}");
            let body = json!({"order_id": id, "amount": "10.00", "currency": "USD",
                "kind": "sale", "campaign": "haircare", "partner": "abc123"});
            assert_eq!(server.api_post("/v1/conversions/manual", &body).status, 201);
            let r = server.api_post(
                "/v1/conversions/status",
                &json!({"order_ids": [id], "status": "approved"}),
            );
            assert_eq!(r.status, 200);
            sales += 1;
        }
        // Runs (and paying the payouts they make) until the kill, which lands while
        // the worker's requests are in flight.
        let pid = server.pid().to_string();
        let (done, interrupted): (Vec<(String, Value)>, String) = std::thread::scope(|s| {
            let worker = s.spawn(|| {
                let mut done = Vec::new();
                for n in 0.. {
                    let key = format!("crash-{cycle}-{n}");
                    let sent = server.try_send(
                        "POST",
                        "/v1/payouts",
                        &[AUTH, ("Idempotency-Key", key.as_str())],
                        &run_body.to_string(),
                    );
                    let Some(r) = sent else {
                        return (done, key); // the server died under this run
                    };
                    assert!(r.status == 201 || r.status == 200, "{}", r.body);
                    let payouts = r.json()["payouts"].clone();
                    done.push((key, payouts.clone()));
                    let post = |path: &str, body: Value| {
                        server.try_send("POST", path, &[AUTH], &body.to_string())
                    };
                    for p in payouts.as_array().unwrap() {
                        let id = p["id"].as_str().unwrap();
                        let to = if n % 3 == 0 { "failed" } else { "paid" };
                        post(&format!("/v1/payouts/{id}/status"), json!({"status": to}));
                    }
                    // New money for the next run.
                    let id = format!("K-{cycle}-x{n}");
                    post(
                        "/v1/conversions/manual",
                        json!({"order_id": id, "amount": "10.00",
                        "currency": "USD", "kind": "sale", "campaign": "haircare",
                        "partner": "abc123"}),
                    );
                    post(
                        "/v1/conversions/status",
                        json!({"order_ids": [id], "status": "approved"}),
                    );
                }
                unreachable!()
            });
            std::thread::sleep(std::time::Duration::from_millis(60 + cycle * 37 % 90));
            let killed = std::process::Command::new("kill")
                .args(["-KILL", &pid])
                .status()
                .unwrap();
            assert!(killed.success());
            worker.join().unwrap()
        });
        server = server.crash_and_restart();
        cycles_with_runs += usize::from(!done.is_empty());
        acknowledged.extend(done);
        // The run the kill interrupted: made once, whether or not it had committed.
        let r = server.send(
            "POST",
            "/v1/payouts",
            &[AUTH, ("Idempotency-Key", interrupted.as_str())],
            &run_body.to_string(),
        );
        assert!(r.status == 201 || r.status == 200, "{}", r.body);
        acknowledged.insert(interrupted, r.json()["payouts"].clone());
        // Every acknowledged run's key answers the payouts it made.
        for (key, payouts) in &acknowledged {
            let r = server.send(
                "POST",
                "/v1/payouts",
                &[AUTH, ("Idempotency-Key", key.as_str())],
                &run_body.to_string(),
            );
            assert_eq!(r.status, 200, "{key}: {}", r.body);
            let ids = |v: &Value| -> Vec<String> {
                v.as_array()
                    .unwrap()
                    .iter()
                    .map(|p| p["id"].as_str().unwrap().to_owned())
                    .collect()
            };
            assert_eq!(ids(&r.json()["payouts"]), ids(payouts), "{key}");
        }
        // The ledger adds up.
        let conversions = server.api_get("/v1/conversions?limit=1000").json()["conversions"]
            .as_array()
            .unwrap()
            .len() as u64;
        let rows = server.api_get("/v1/balances?currency=USD").json()["rows"].clone();
        let minor = |v: &Value| {
            affiliate_sdk::Money::parse(v.as_str().unwrap(), "USD")
                .unwrap()
                .minor()
        };
        let mut held = 0;
        let mut total = 0;
        for row in rows.as_array().unwrap() {
            assert_eq!(row["clawback"], "0.00");
            total += minor(&row["pending"])
                + minor(&row["payable"])
                + minor(&row["in_payout"])
                + minor(&row["paid"]);
            held += minor(&row["in_payout"]);
        }
        // Each sale of 10.00 earns abc123 1.00 and boss1 0.10.
        assert_eq!(total, conversions * 110, "{rows}");
        let mut seen = HashSet::new();
        let mut live = 0;
        for p in server.api_get("/v1/payouts").json()["payouts"]
            .as_array()
            .unwrap()
        {
            if p["status"] == "failed" {
                continue;
            }
            let id = p["id"].as_str().unwrap();
            for item in server.api_get(&format!("/v1/payouts/{id}")).json()["items"]
                .as_array()
                .unwrap()
            {
                let entry = format!("{}/{}/{}", item["order_id"], item["level"], item["kind"]);
                assert!(seen.insert(entry.clone()), "{entry} in two payouts");
            }
            if p["status"] == "pending" {
                live += minor(&p["amount"]);
            }
        }
        assert_eq!(
            live, held,
            "pending payouts hold what balances show in payout"
        );
    }
    let paid = server.api_get("/v1/payouts?status=paid").json()["payouts"]
        .as_array()
        .unwrap()
        .len();
    println!(
        "8 kills: {} runs acknowledged, {paid} payouts paid, {cycles_with_runs} cycles with runs",
        acknowledged.len()
    );
    assert!(
        sales >= 240 && cycles_with_runs >= 6,
        "{cycles_with_runs} cycles made runs before the kill"
    );
}

#[test]
fn a_run_says_whom_it_passed_over_and_why() {
    let app = App::new(&config(""));
    approved_sale(&app, "SK-1", "60.00");
    // abc123 is owed 6.00, its parent 0.60: below the run's minimum.
    let r = run(
        &app,
        "skip-1",
        &json!({"currency": "USD", "min_amount": "1.00"}),
    );
    assert_eq!(r.status, 201, "{}", r.body);
    let answer = r.json();
    assert_eq!(answer["payouts"].as_array().unwrap().len(), 1);
    assert_eq!(answer["payouts"][0]["partner"], "abc123");
    assert_eq!(
        answer["skipped"],
        json!([{"partner": "boss1", "currency": "USD", "amount": "0.60", "reason": "below_minimum"}])
    );
    // SK-1 reversed while paid out: abc123 owes 6.00 back; the next run says so.
    let r = app.api_post(
        "/v1/conversions/SK-1/status",
        &json!({"status": "reversed"}),
    );
    assert_eq!(r.status, 200, "{}", r.body);
    let r = run(&app, "skip-2", &json!({"currency": "USD"}));
    assert_eq!(r.status, 201, "{}", r.body);
    assert_eq!(r.json()["payouts"], json!([]));
    assert_eq!(
        r.json()["skipped"],
        json!([{"partner": "abc123", "currency": "USD", "amount": "-6.00", "reason": "owes_back"}])
    );
}
