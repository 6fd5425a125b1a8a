//! The program through the merchant API: campaigns, partners, coupons, links, the
//! conversion listing, bulk status and the CSV files. Every refusal is a typed error
//! and changes nothing.

use super::*;

fn patch(app: &App, path: &str, body: &Value) -> common::Resp {
    app.send("PATCH", path, &[AUTH], &body.to_string())
}

fn delete(app: &App, path: &str) -> common::Resp {
    app.send("DELETE", path, &[AUTH], "")
}

fn manual(app: &App, order_id: &str, partner: &str) {
    let body = json!({"order_id": order_id, "amount": "10.00", "currency": "USD",
        "kind": "sale", "campaign": "haircare", "partner": partner});
    let r = app.api_post("/v1/conversions/manual", &body);
    assert_eq!(r.status, 201, "{}", r.body);
}

/// The answer is the error `code` with `status`, and `path` reads the same before and
/// after.
fn refused(app: &App, path: &str, status: u16, code: &str, send: impl FnOnce() -> common::Resp) {
    let before = app.api_get(path).body;
    let r = send();
    assert_eq!(
        (r.status, r.code()),
        (status, code.to_owned()),
        "{}",
        r.body
    );
    assert_eq!(app.api_get(path).body, before, "a refusal changed {path}");
}

#[test]
fn campaigns_are_created_read_changed_and_config_entries_are_the_files() {
    let app = App::new(&config(""));
    let r = app.api_get("/v1/campaigns");
    let list = r.json()["campaigns"].as_array().unwrap().clone();
    assert_eq!(list.len(), 4);
    assert!(list.iter().all(|c| c["managed_by_config"] == true));

    let spring = json!({"code": "spring", "destination": "https://shop.example/spring",
        "currency": "USD", "sale_percent": "12.5", "approve_after_days": 30,
        "deep_link_hosts": ["shop.example", "*.shop.example"], "click_commission": "every",
        "daily_paid_click_cap": 50, "daily_paid_impression_cap": 1000,
        "cookie_consent": "required"});
    let r = app.api_post("/v1/campaigns", &spring);
    assert_eq!(r.status, 201, "{}", r.body);
    let c = r.json();
    assert_eq!(
        (c["managed_by_config"].clone(), c["sale_percent"].clone()),
        (json!(false), json!("12.5"))
    );
    assert_eq!(
        c["deep_link_hosts"],
        json!(["shop.example", "*.shop.example"])
    );
    assert_eq!(
        (c["approve_after_days"].clone(), c["cookie_consent"].clone()),
        (json!(30), json!("required"))
    );
    assert_eq!(app.api_get("/v1/campaigns/spring").json(), c);
    refused(&app, "/v1/campaigns/spring", 409, "conflict", || {
        app.api_post("/v1/campaigns", &spring)
    });

    // A paused campaign's new clicks land uncredited.
    let r = patch(&app, "/v1/campaigns/spring", &json!({"status": "paused"}));
    assert_eq!(
        (r.status, r.json()["status"].clone()),
        (200, json!("paused")),
        "{}",
        r.body
    );
    let (token, r) = app.click(&link("spring", "solo", None, None), None);
    assert_eq!(
        (token, r.header("location")),
        (None, Some("https://shop.example/spring"))
    );
    patch(&app, "/v1/campaigns/spring", &json!({"status": "active"}));
    // Active again; the campaign waits for consent: the token rides in the landing
    // URL only, no cookie is set.
    let (cookie, r) = app.click(&link("spring", "solo", None, None), None);
    assert_eq!(cookie, None);
    assert!(
        r.header("location")
            .is_some_and(|l| l.starts_with("https://shop.example/spring?aff_token=v1.")),
        "{:?}",
        r.header("location")
    );

    let at = "/v1/campaigns/spring";
    for (body, what) in [
        (json!({"nickname": "x"}), "unknown field"),
        (json!({"cookie_days": 0}), "cookie_days"),
        (
            json!({"deep_link_hosts": ["https://shop.example"]}),
            "a URL is not a host",
        ),
        (
            json!({"deep_link_hosts": ["evil.example."]}),
            "trailing dot",
        ),
        (json!({"click_commission": "sometimes"}), "click_commission"),
        (json!({"approve_after_days": 5000}), "approve_after_days"),
        (json!({"code": "other"}), "a code cannot change"),
        (json!({"sale_percent": "10", "sale_flat": "1.00"}), "both"),
        (json!(["status"]), "not an object"),
    ] {
        let r = patch(&app, at, &body);
        assert_eq!(
            (r.status, r.code()),
            (400, "malformed".into()),
            "{what}: {}",
            r.body
        );
    }
    refused(&app, at, 400, "malformed", || {
        app.send("PATCH", at, &[AUTH], "{not json")
    });
    refused(
        &app,
        "/v1/campaigns/haircare",
        409,
        "managed_by_config",
        || patch(&app, "/v1/campaigns/haircare", &json!({"status": "paused"})),
    );
    let r = app.api_get("/v1/campaigns/nope");
    assert_eq!((r.status, r.code()), (404, "unknown_campaign".into()));
    let r = patch(&app, "/v1/campaigns/nope", &json!({"status": "paused"}));
    assert_eq!((r.status, r.code()), (404, "unknown_campaign".into()));
    for bad in [
        json!({"code": "a b", "destination": "https://x.example/", "currency": "USD"}),
        json!({"code": "x", "destination": "javascript:alert(1)", "currency": "USD"}),
        json!({"code": "x", "destination": "https://x.example/", "currency": "QQQ"}),
    ] {
        let r = app.api_post("/v1/campaigns", &bad);
        assert_eq!(
            (r.status, r.code()),
            (400, "malformed".into()),
            "{bad}: {}",
            r.body
        );
    }
    assert_eq!(
        app.api_get("/v1/campaigns").json()["campaigns"]
            .as_array()
            .unwrap()
            .len(),
        5
    );
}

#[test]
fn partners_are_created_listed_suspended_and_refused_with_typed_errors() {
    let app = App::new(&config(""));
    let ann = json!({"code": "ann", "parent": "boss1", "name": "Ann's Reviews",
        "email": "ann@reviews.example", "payout_details": "IBAN DE00 1234",
        "postback_url": "https://ann.example/pb?cid={click_id}", "coupons": ["ANN5"]});
    let r = app.api_post("/v1/partners", &ann);
    assert_eq!(r.status, 201, "{}", r.body);
    let p = r.json();
    assert_eq!(
        (p["parent"].clone(), p["status"].clone()),
        (json!("boss1"), json!("active"))
    );
    assert_eq!(p["coupons"], json!([{"code": "ANN5", "campaign": null}]));
    assert_eq!(app.api_get("/v1/partners/ann").json(), p);
    refused(&app, "/v1/partners/ann", 409, "conflict", || {
        app.api_post("/v1/partners", &ann)
    });

    // Credited at once; suspended, its next click lands uncredited.
    assert!(
        app.click(&link("haircare", "ann", None, None), None)
            .0
            .is_some()
    );
    let r = patch(
        &app,
        "/v1/partners/ann",
        &json!({"status": "suspended", "name": null}),
    );
    assert_eq!(
        (r.json()["status"].clone(), r.json()["name"].clone()),
        (json!("suspended"), Value::Null)
    );
    assert_eq!(
        r.json()["email"],
        json!("ann@reviews.example"),
        "a patch keeps what it does not name"
    );
    let (token, r) = app.click(&link("haircare", "ann", None, None), None);
    assert_eq!((token, r.status), (None, 302));

    for i in 0..5 {
        app.api_post(
            "/v1/partners",
            &json!({"code": format!("kid{i}"), "parent": "ann"}),
        );
    }
    let page = |q: &str| app.api_get(&format!("/v1/partners?{q}")).json();
    let first = page("parent=ann&limit=2");
    let codes = |v: &Value| {
        v["partners"]
            .as_array()
            .unwrap()
            .iter()
            .map(|p| p["code"].as_str().unwrap().to_owned())
            .collect::<Vec<_>>()
    };
    assert_eq!(codes(&first), ["kid0", "kid1"]);
    let cursor = first["next_cursor"].as_str().unwrap().to_owned();
    let second = page(&format!("parent=ann&limit=2&cursor={cursor}"));
    assert_eq!(codes(&second), ["kid2", "kid3"]);
    let third = page(&format!(
        "parent=ann&limit=2&cursor={}",
        second["next_cursor"].as_str().unwrap()
    ));
    assert_eq!(
        (codes(&third), third["next_cursor"].clone()),
        (vec!["kid4".to_owned()], Value::Null)
    );
    assert_eq!(codes(&page("status=suspended")), ["ann"]);
    assert_eq!(codes(&page("")).len(), 9);

    let at = "/v1/partners/kid0";
    for body in [
        json!({"parent": "kid0"}),
        json!({"email": "not-an-address"}),
        json!({"postback_url": "ftp://x.example/"}),
        json!({"name": "x".repeat(201)}),
        json!({"payout_details": "x".repeat(1025)}),
        json!({"status": "gone"}),
        json!({"coupons": ["NEW1"]}),
        json!({"color": "red"}),
    ] {
        refused(&app, at, 400, "malformed", || patch(&app, at, &body));
    }
    // ann -> kid0 -> ann would be a cycle.
    refused(&app, "/v1/partners/ann", 400, "malformed", || {
        patch(&app, "/v1/partners/ann", &json!({"parent": "kid0"}))
    });
    refused(
        &app,
        "/v1/partners/abc123",
        409,
        "managed_by_config",
        || patch(&app, "/v1/partners/abc123", &json!({"status": "suspended"})),
    );
    refused(
        &app,
        "/v1/partners?status=active",
        404,
        "unknown_partner",
        || {
            app.api_post(
                "/v1/partners",
                &json!({"code": "orphan", "parent": "ghost"}),
            )
        },
    );
    refused(&app, "/v1/partners?status=active", 400, "malformed", || {
        app.api_post("/v1/partners", &json!({"code": "bad code"}))
    });
    refused(&app, "/v1/partners?status=active", 400, "malformed", || {
        app.api_post("/v1/partners", &json!({"code": "x", "coupons": ["ABC10"]}))
    });
    for q in [
        "status=gone",
        "parent=a%20b",
        "limit=0",
        "limit=1001",
        "cursor=%20",
        "sort=code",
        "status=active&status=suspended",
    ] {
        let r = app.api_get(&format!("/v1/partners?{q}"));
        assert_eq!((r.status, r.code()), (400, "malformed".into()), "{q}");
    }
    let r = app.api_get("/v1/partners/ghost");
    assert_eq!((r.status, r.code()), (404, "unknown_partner".into()));
}

#[test]
fn coupons_belong_to_one_partner_and_links_are_signed_for_known_ones() {
    let app = App::new(&config(""));
    app.api_post("/v1/partners", &json!({"code": "ann"}));
    let r = app.api_post(
        "/v1/partners/ann/coupons",
        &json!({"code": "ann-beauty", "campaign": "beauty"}),
    );
    assert_eq!(
        (r.status, r.json()),
        (
            201,
            json!({"code": "ANN-BEAUTY", "partner": "ann", "campaign": "beauty"})
        )
    );
    // The coupon credits ann in its campaign.
    let order = json!({"order_id": "C-1", "amount": "20.00", "currency": "USD", "kind": "sale", "coupon": "Ann-Beauty"});
    let r = app.api_post("/v1/postback", &order);
    assert_eq!(
        (
            r.status,
            r.json()["partner"].clone(),
            r.json()["campaign"].clone()
        ),
        (201, json!("ann"), json!("beauty")),
        "{}",
        r.body
    );

    let at = "/v1/partners/ann";
    refused(&app, at, 409, "conflict", || {
        app.api_post("/v1/partners/solo/coupons", &json!({"code": "ANN-BEAUTY"}))
    });
    refused(&app, at, 400, "malformed", || {
        app.api_post("/v1/partners/ann/coupons", &json!({"code": "two words"}))
    });
    refused(&app, at, 400, "malformed", || {
        app.api_post(
            "/v1/partners/ann/coupons",
            &json!({"code": "X1", "extra": 1}),
        )
    });
    refused(&app, at, 404, "unknown_campaign", || {
        app.api_post(
            "/v1/partners/ann/coupons",
            &json!({"code": "X1", "campaign": "nope"}),
        )
    });
    let r = app.api_post("/v1/partners/ghost/coupons", &json!({"code": "X1"}));
    assert_eq!((r.status, r.code()), (404, "unknown_partner".into()));
    // The configuration's partners keep the coupons the file lists.
    refused(
        &app,
        "/v1/partners/abc123",
        409,
        "managed_by_config",
        || app.api_post("/v1/partners/abc123/coupons", &json!({"code": "MORE"})),
    );
    refused(
        &app,
        "/v1/partners/abc123",
        409,
        "managed_by_config",
        || delete(&app, "/v1/coupons/abc10"),
    );

    let r = delete(&app, "/v1/coupons/ann-beauty");
    assert_eq!((r.status, r.json()["partner"].clone()), (200, json!("ann")));
    assert_eq!(app.api_get(at).json()["coupons"], json!([]));
    let r = delete(&app, "/v1/coupons/ann-beauty");
    assert_eq!((r.status, r.code()), (404, "not_found".into()));

    let r = app.api_post(
        "/v1/links",
        &json!({"campaign": "haircare", "partner": "ann", "ad": "banner", "sid": "kw1"}),
    );
    assert_eq!(r.status, 200, "{}", r.body);
    let url = r.json()["url"].as_str().unwrap().to_owned();
    assert!(
        url.starts_with("http://t.shop.example/go/haircare/ann/banner?sig="),
        "{url}"
    );
    assert!(app.click(&path_of(&url), None).0.is_some());
    for (body, status, code) in [
        (
            json!({"campaign": "nope", "partner": "ann"}),
            404,
            "unknown_campaign",
        ),
        (
            json!({"campaign": "haircare", "partner": "ghost"}),
            404,
            "unknown_partner",
        ),
        (
            json!({"campaign": "haircare", "partner": "a/b"}),
            400,
            "malformed",
        ),
        (
            json!({"campaign": "haircare", "partner": "ann", "color": "red"}),
            400,
            "malformed",
        ),
        (json!({"campaign": "haircare"}), 400, "malformed"),
    ] {
        let r = app.api_post("/v1/links", &body);
        assert_eq!((r.status, r.code()), (status, code.to_owned()), "{body}");
    }
}

#[test]
fn conversions_are_listed_newest_first_and_reviewed_in_bulk() {
    let app = App::new(&config(""));
    for i in 0..5 {
        manual(
            &app,
            &format!("R-{i}"),
            if i < 3 { "abc123" } else { "solo" },
        );
    }
    let list = |q: &str| {
        let r = app.api_get(&format!("/v1/conversions?{q}"));
        assert_eq!(r.status, 200, "{q}: {}", r.body);
        r.json()
    };
    let ids = |v: &Value| {
        v["conversions"]
            .as_array()
            .unwrap()
            .iter()
            .map(|c| c["order_id"].as_str().unwrap().to_owned())
            .collect::<Vec<_>>()
    };
    let mut seen = Vec::new();
    let mut page = list("limit=2");
    loop {
        seen.extend(ids(&page));
        let Some(c) = page["next_cursor"].as_str() else {
            break;
        };
        page = list(&format!("limit=2&cursor={c}"));
    }
    seen.sort();
    assert_eq!(seen, ["R-0", "R-1", "R-2", "R-3", "R-4"]);
    assert_eq!(ids(&list("partner=solo")).len(), 2);

    let r = app.api_post(
        "/v1/conversions/status",
        &json!({"order_ids": ["R-0", "R-1", "nope", "R-0"], "status": "approved"}),
    );
    assert_eq!(r.status, 200, "{}", r.body);
    let results = r.json()["results"].clone();
    assert_eq!(results[0], json!({"order_id": "R-0", "status": "approved"}));
    assert_eq!(results[1], json!({"order_id": "R-1", "status": "approved"}));
    assert_eq!(results[2]["error"]["code"], "not_found");
    assert_eq!(results[3]["error"]["code"], "invalid_transition");
    let mut approved = ids(&list("status=approved"));
    approved.sort();
    assert_eq!(approved, ["R-0", "R-1"]);

    let before = list("");
    let too_many: Vec<String> = (0..1001).map(|i| format!("o{i}")).collect();
    for body in [
        json!({"order_ids": too_many, "status": "approved"}),
        json!({"order_ids": [], "status": "approved"}),
        json!({"order_ids": ["R-2"], "status": "done"}),
        json!({"order_ids": "R-2", "status": "approved"}),
        json!({"order_ids": ["R-2"], "status": "approved", "note": "x"}),
    ] {
        let r = app.api_post("/v1/conversions/status", &body);
        assert_eq!(
            (r.status, r.code()),
            (400, "malformed".into()),
            "{}",
            r.body
        );
    }
    assert_eq!(list(""), before);
    for q in [
        "status=done",
        "limit=0",
        "limit=1001",
        "cursor=abc",
        "from=2026-02-30",
        "partner=a%20b",
        "order=asc",
    ] {
        let r = app.api_get(&format!("/v1/conversions?{q}"));
        assert_eq!((r.status, r.code()), (400, "malformed".into()), "{q}");
    }
}

/// `text` parsed by Python's `csv` module, as a list of rows.
fn python_csv(text: &str) -> Vec<Vec<String>> {
    use std::io::Write as _;
    let mut child = std::process::Command::new("python3")
        .args(["-c", "import csv, io, json, sys\nprint(json.dumps(list(csv.reader(io.StringIO(sys.stdin.read(), newline='')))))"])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .expect("python3 runs");
    child
        .stdin
        .take()
        .unwrap()
        .write_all(text.as_bytes())
        .unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(out.status.success());
    serde_json::from_slice(&out.stdout).unwrap()
}

#[test]
fn csv_files_open_in_pythons_csv_module_and_formulas_stay_text() {
    let app = App::new(&config(""));
    app.api_post(
        "/v1/partners",
        &json!({"code": "ann", "name": "=HYPERLINK(\"x\")"}),
    );
    manual(&app, "=1+2", "ann");
    manual(&app, "plain,comma", "solo");
    let r = app.api_get("/v1/conversions.csv");
    assert_eq!(r.status, 200);
    assert_eq!(r.header("content-type"), Some("text/csv; charset=utf-8"));
    assert!(
        r.header("content-disposition")
            .unwrap()
            .contains("conversions.csv")
    );
    let rows = python_csv(&r.body);
    assert_eq!(
        rows[0][..5],
        ["order_id", "converted_at", "kind", "amount", "currency"]
    );
    let col = |name: &str| rows[0].iter().position(|c| c == name).unwrap();
    let by_id: Vec<&Vec<String>> = rows[1..].iter().collect();
    assert_eq!(by_id.len(), 2);
    let formula = by_id
        .iter()
        .find(|r| r[0] == "'=1+2")
        .expect("the order id kept as text");
    assert_eq!(
        (
            formula[col("amount")].as_str(),
            formula[col("partner")].as_str()
        ),
        ("10.00", "ann")
    );
    assert_eq!(formula[col("partner_commission")], "1.00");
    assert!(by_id.iter().any(|r| r[0] == "plain,comma"));
    let only_solo = python_csv(&app.api_get("/v1/conversions.csv?partner=solo").body);
    assert_eq!(only_solo.len(), 2);
    let r = app.api_get("/v1/conversions.csv?cursor=x");
    assert_eq!((r.status, r.code()), (400, "malformed".into()));

    app.click(&link("haircare", "abc123", None, Some("-cmd")), None);
    let r = app.api_get("/v1/stats.csv?group_by=partner,sid");
    assert_eq!(r.status, 200, "{}", r.body);
    let rows = python_csv(&r.body);
    assert_eq!(
        rows[0],
        [
            "partner",
            "sid",
            "clicks",
            "unique_clicks",
            "bot_clicks",
            "impressions",
            "leads",
            "sales",
            "currency",
            "revenue",
            "commission"
        ]
    );
    assert!(
        rows.iter()
            .any(|r| r[0] == "abc123" && r[1] == "'-cmd" && r[2] == "1"),
        "{rows:?}"
    );
    assert!(
        rows.iter()
            .any(|r| r[0] == "ann" && r[7] == "1" && r[8] == "USD" && r[9] == "10.00"),
        "{rows:?}"
    );
    // Codes may start with `-` too: a partner or ad code is text in the file.
    assert_eq!(
        app.api_post("/v1/partners", &json!({"code": "-dash"}))
            .status,
        201
    );
    app.click(&link("haircare", "-dash", Some("-ad"), None), None);
    let rows = python_csv(&app.api_get("/v1/stats.csv?group_by=partner,ad").body);
    assert!(
        rows.iter()
            .any(|r| r[0] == "'-dash" && r[1] == "'-ad" && r[2] == "1"),
        "{rows:?}"
    );
    let r = app.api_get("/v1/stats.csv?group_by=color");
    assert_eq!((r.status, r.code()), (400, "malformed".into()));
}

#[test]
fn every_merchant_endpoint_wants_the_api_key() {
    let app = App::new(&config(""));
    for (method, path) in [
        ("GET", "/v1/campaigns"),
        ("POST", "/v1/campaigns"),
        ("GET", "/v1/campaigns/haircare"),
        ("PATCH", "/v1/campaigns/haircare"),
        ("GET", "/v1/partners"),
        ("POST", "/v1/partners"),
        ("GET", "/v1/partners/solo"),
        ("PATCH", "/v1/partners/solo"),
        ("POST", "/v1/partners/solo/coupons"),
        ("DELETE", "/v1/coupons/ABC10"),
        ("POST", "/v1/links"),
        ("GET", "/v1/conversions"),
        ("POST", "/v1/conversions/status"),
        ("GET", "/v1/conversions.csv"),
        ("GET", "/v1/stats.csv"),
    ] {
        let r = app.send(method, path, &[("Authorization", "Bearer wrong")], "{}");
        assert_eq!(
            (r.status, r.code()),
            (401, "unauthorized".into()),
            "{method} {path}"
        );
    }
    assert_eq!(app.api_get("/v1/partners/solo").json()["status"], "active");
}

#[test]
fn balances_put_each_beneficiary_on_its_own_row() {
    let app = App::new(&config(""));
    let sale = |id: &str| {
        json!({"order_id": id, "amount": "60.00", "currency": "USD", "kind": "sale",
            "campaign": "haircare", "partner": "abc123"})
    };
    for id in ["B-1", "B-2"] {
        assert_eq!(
            app.api_post("/v1/conversions/manual", &sale(id)).status,
            201
        );
    }
    let r = app.api_post(
        "/v1/conversions/status",
        &json!({"order_ids": ["B-1"], "status": "approved"}),
    );
    assert_eq!(r.status, 200);
    let r = app.api_get("/v1/balances");
    assert_eq!(r.status, 200, "{}", r.body);
    let rows = r.json()["rows"].clone();
    // The child earns its 10 %, the parent its override, each on its own row; stats
    // by partner put both on the child's row (the commission cost of its sales).
    assert_eq!(
        rows,
        json!([
            {"partner": "abc123", "currency": "USD", "pending": "6.00", "payable": "6.00",
             "in_payout": "0.00", "paid": "0.00", "clawback": "0.00"},
            {"partner": "boss1", "currency": "USD", "pending": "0.60", "payable": "0.60",
             "in_payout": "0.00", "paid": "0.00", "clawback": "0.00"},
        ])
    );
    let only = app
        .api_get("/v1/balances?partner=boss1&currency=USD")
        .json();
    assert_eq!(only["rows"].as_array().unwrap().len(), 1);
    for q in [
        "partner=a%20b",
        "currency=QQQ",
        "currency=usd&currency=USD",
        "sort=x",
    ] {
        let r = app.api_get(&format!("/v1/balances?{q}"));
        assert_eq!((r.status, r.code()), (400, "malformed".into()), "{q}");
    }
    let r = app.send(
        "GET",
        "/v1/balances",
        &[("Authorization", "Bearer wrong")],
        "",
    );
    assert_eq!(r.status, 401);
}
