//! Traffic quality: bots, crawlers and link previews earn nothing; CPC pays unique
//! clicks and at most the daily cap; a campaign that waits for consent sets no cookie.

use super::*;

/// What the major crawlers and link unfurlers send.
const BOTS: &[&str] = &[
    "Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)",
    "Mozilla/5.0 AppleWebKit/537.36 (KHTML, like Gecko; compatible; Googlebot/2.1; +http://www.google.com/bot.html) Chrome/131.0.6778.139 Safari/537.36",
    "Mozilla/5.0 (compatible; bingbot/2.0; +http://www.bing.com/bingbot.htm)",
    "Slackbot-LinkExpanding 1.0 (+https://api.slack.com/robots)",
    "Slackbot 1.0 (+https://api.slack.com/robots)",
    "Twitterbot/1.0",
    "facebookexternalhit/1.1 (+http://www.facebook.com/externalhit_uatext.php)",
    "LinkedInBot/1.0 (compatible; Mozilla/5.0; Apache-HttpClient +http://www.linkedin.com)",
    "Mozilla/5.0 (compatible; Discordbot/2.0; +https://discordapp.com)",
    "WhatsApp/2.23.20.0 A",
    "WhatsApp/2.2407.3 i",
    "curl/8.5.0",
    "python-requests/2.32.3",
    "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) HeadlessChrome/131.0.0.0 Safari/537.36",
    "",
];

/// Current browsers, desktop and mobile.
const PEOPLE: &[&str] = &[
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36",
    "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36",
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:133.0) Gecko/20100101 Firefox/133.0",
    "Mozilla/5.0 (X11; Linux x86_64; rv:133.0) Gecko/20100101 Firefox/133.0",
    "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/18.1 Safari/605.1.15",
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36 Edg/131.0.0.0",
    "Mozilla/5.0 (iPhone; CPU iPhone OS 18_1 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/18.1 Mobile/15E148 Safari/604.1",
    "Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.6778.104 Mobile Safari/537.36",
    "Mozilla/5.0 (Linux; Android 14; SM-S918B) AppleWebKit/537.36 (KHTML, like Gecko) SamsungBrowser/26.0 Chrome/122.0.0.0 Mobile Safari/537.36",
    "Mozilla/5.0 (iPad; CPU OS 17_7 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) CriOS/131.0.6778.73 Mobile/15E148 Safari/604.1",
];

#[test]
fn bots_crawlers_and_link_previews_land_without_a_token_and_earn_nothing() {
    let app = App::new(&config(""));
    let link = link("haircare", "abc123", None, Some("chat"));
    for ua in BOTS {
        let r = app.get(&link, &[("User-Agent", ua)]);
        assert_eq!(r.status, 302, "{ua}");
        assert_eq!(
            r.header("location"),
            Some("https://shop.example/hair?utm_source=aff"),
            "{ua}: no token"
        );
        assert_eq!(r.header("set-cookie"), None, "{ua}");
    }
    for ua in PEOPLE {
        let r = app.get(&link, &[("User-Agent", ua)]);
        assert!(
            r.header("location")
                .is_some_and(|l| l.contains("aff_token=v1.")),
            "{ua}: a person's click gets a token"
        );
        assert!(r.header("set-cookie").is_some(), "{ua}");
    }
    let rows = app.stats("group_by=partner");
    assert_eq!(rows.len(), 1);
    assert_eq!(
        (
            rows[0]["clicks"].clone(),
            rows[0]["unique_clicks"].clone(),
            rows[0]["bot_clicks"].clone(),
            rows[0]["commission"].clone()
        ),
        (
            json!(PEOPLE.len()),
            json!(PEOPLE.len()),
            json!(BOTS.len()),
            // 0.01 per unique click, for people only, and boss1's 10 % override of it.
            json!({"USD": format!("0.{:02}", PEOPLE.len() + PEOPLE.len() / 10)})
        )
    );
    // HEAD counts nothing, bot or not.
    app.head(&link, &[("User-Agent", BOTS[0])]);
    app.head(&link, &[]);
    assert_eq!(app.stats("group_by=partner")[0]["bot_clicks"], BOTS.len());
    // The CSV has the column.
    let csv = app.api_get("/v1/stats.csv?group_by=partner").body;
    assert!(
        csv.starts_with("partner,clicks,unique_clicks,bot_clicks,"),
        "{csv}"
    );
}

fn create_cpc(app: &App, code: &str, extra: Value) {
    let mut spec = json!({"code": code, "destination": format!("https://shop.example/{code}"),
        "currency": "USD", "sale_percent": "10", "click_flat": "0.10",
        "impression_per_mille": "2.00"});
    spec.as_object_mut()
        .unwrap()
        .extend(extra.as_object().unwrap().clone());
    let r = app.api_post("/v1/campaigns", &spec);
    assert_eq!(r.status, 201, "{}", r.body);
}

fn partner_row(app: &App, campaign: &str) -> Value {
    let rows = app.stats(&format!("group_by=partner&campaign={campaign}"));
    assert_eq!(rows.len(), 1, "{rows:?}");
    rows[0].clone()
}

#[test]
fn cpc_pays_a_visitors_repeated_clicks_once_and_at_most_the_daily_cap() {
    let app = App::new(&config(""));
    // 1,000 clicks of one visitor (its cookie comes back each time): one paid.
    create_cpc(&app, "cpc", json!({}));
    let link1 = link("cpc", "abc123", None, None);
    let (mut token, _) = app.click(&link1, None);
    for _ in 1..1000 {
        let (t, r) = app.click(&link1, token.as_deref());
        assert_eq!(r.status, 302);
        token = t.or(token);
    }
    let row = partner_row(&app, "cpc");
    assert_eq!(
        (
            row["clicks"].clone(),
            row["unique_clicks"].clone(),
            row["commission"].clone()
        ),
        (json!(1000), json!(1), json!({"USD": "0.10"}))
    );

    // `every` pays repeats too.
    create_cpc(&app, "every", json!({"click_commission": "every"}));
    let link2 = link("every", "abc123", None, None);
    let (token, _) = app.click(&link2, None);
    for _ in 0..9 {
        app.click(&link2, token.as_deref());
    }
    assert_eq!(
        partner_row(&app, "every")["commission"],
        json!({"USD": "1.00"})
    );

    // A cap of 50: 1,000 unique clicks (no cookie) pay 50; all count in `clicks`;
    // 200 impressions under a cap of 100 pay 100 × 0.002.
    create_cpc(
        &app,
        "capped",
        json!({"daily_paid_click_cap": 50, "daily_paid_impression_cap": 100}),
    );
    for i in 0..1000 {
        let (t, _) = app.click(
            &link("capped", "abc123", None, Some(&format!("s{}", i % 7))),
            None,
        );
        assert!(t.is_some());
    }
    let imp = link("capped", "abc123", None, None).replacen("/go/", "/imp/", 1);
    for _ in 0..200 {
        assert_eq!(app.get(&imp, &[]).status, 200);
    }
    let row = partner_row(&app, "capped");
    assert_eq!(
        (
            row["clicks"].clone(),
            row["unique_clicks"].clone(),
            row["impressions"].clone(),
            row["commission"].clone()
        ),
        (json!(1000), json!(1000), json!(200), json!({"USD": "5.20"}))
    );
    // Another partner has a cap of its own.
    for _ in 0..60 {
        app.click(&link("capped", "solo", None, None), None);
    }
    let rows = app.stats("group_by=partner&campaign=capped");
    let solo = rows.iter().find(|r| r["partner"] == "solo").unwrap();
    assert_eq!(
        (solo["clicks"].clone(), solo["commission"].clone()),
        (json!(60), json!({"USD": "5.00"}))
    );
}

#[test]
fn a_campaign_that_waits_for_consent_sets_no_cookie_and_the_token_rides_in_the_url() {
    let app = App::new(&config(""));
    create_cpc(&app, "eu", json!({"cookie_consent": "required"}));
    let (cookie, r) = app.click(&link("eu", "abc123", None, None), None);
    assert_eq!(cookie, None);
    let location = r.header("location").unwrap();
    let token = location
        .strip_prefix("https://shop.example/eu?aff_token=")
        .expect("the token in the landing URL");
    // The token attributes a sale as any other.
    let r = app.api_post(
        "/v1/postback",
        &json!({"order_id": "EU-1", "amount": "10.00", "currency": "USD", "kind": "sale",
                "token": token}),
    );
    assert_eq!(r.status, 201, "{}", r.body);
    assert_eq!(r.json()["partner"], "abc123");
}

#[test]
fn a_customer_is_erased_through_the_api_and_its_next_sale_binds_anew() {
    let app = App::new(&config(""));
    let club = json!({"code": "club", "destination": "https://shop.example/club",
        "currency": "USD", "sale_percent": "10", "recurring_months": 12});
    let r = app.api_post("/v1/campaigns", &club);
    assert_eq!(r.status, 201, "{}", r.body);
    let sale = |order: &str, partner: &str| {
        let (token, _) = app.click(&link("club", partner, None, None), None);
        app.api_post(
            "/v1/postback",
            &json!({"order_id": order, "amount": "20.00", "currency": "USD", "kind": "sale",
                    "token": token.unwrap(), "customer_id": "cust-9"}),
        )
    };
    assert_eq!(sale("C-1", "abc123").status, 201);
    // The binding credits abc123 whatever the next token says.
    assert_eq!(sale("C-2", "solo").json()["partner"], "abc123");
    let at = "/v1/customers/cust-9";
    assert_eq!(app.send("DELETE", at, &[], "").status, 401);
    assert_eq!(
        app.send("DELETE", "/v1/customers/a%20b", &[AUTH], "")
            .code(),
        "malformed"
    );
    let r = app.send("DELETE", at, &[AUTH], "");
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(
        r.json()["erased"],
        // Both sales' conversion.created events waited in the outbox with the id.
        json!({"conversions": 2, "bindings": 1, "events": 2})
    );
    for order in ["C-1", "C-2"] {
        let c = app.api_get(&format!("/v1/conversions/{order}")).json();
        assert_eq!(c["customer_id"], Value::Null, "{c}");
        assert_eq!(c["partner"], "abc123", "the sale itself stays");
    }
    // Erased: the next sale under the id is a new customer's, credited by its token.
    assert_eq!(sale("C-3", "solo").json()["partner"], "solo");
    assert_eq!(sale("C-4", "abc123").json()["partner"], "solo");
    let r = app.send("DELETE", "/v1/customers/nobody", &[AUTH], "");
    assert_eq!(
        r.json()["erased"],
        json!({"conversions": 0, "bindings": 0, "events": 0})
    );
}

/// Every file under `dir` holding `needle`.
fn files_holding(dir: &std::path::Path, needle: &[u8]) -> Vec<String> {
    let mut out = Vec::new();
    for entry in std::fs::read_dir(dir).unwrap().flatten() {
        let path = entry.path();
        if path.is_dir() {
            out.extend(files_holding(&path, needle));
        } else if let Ok(bytes) = std::fs::read(&path)
            && bytes.windows(needle.len()).any(|w| w == needle)
        {
            out.push(path.display().to_string());
        }
    }
    out
}

#[test]
fn after_an_erasure_and_a_restart_no_file_of_the_embedded_store_holds_the_id() {
    const ID: &str = "cust-raw-erase-1a2b";
    let server = Server::start(&config(""));
    let r = server.api_post(
        "/v1/campaigns",
        &json!({"code": "club", "destination": "https://shop.example/club",
                "currency": "USD", "sale_percent": "10", "recurring_months": 12}),
    );
    assert_eq!(r.status, 201, "{}", r.body);
    for order in ["R-1", "R-2"] {
        let (token, _) = server.click(&link("club", "abc123", None, None), None);
        let r = server.api_post(
            "/v1/postback",
            &json!({"order_id": order, "amount": "20.00", "currency": "USD", "kind": "sale",
                    "token": token.unwrap(), "customer_id": ID}),
        );
        assert_eq!(r.status, 201, "{}", r.body);
    }
    let data = server.dir.path().join("data");
    assert!(!files_holding(&data, ID.as_bytes()).is_empty());
    let r = server.send("DELETE", &format!("/v1/customers/{ID}"), &[AUTH], "");
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(r.json()["erased"]["conversions"], 2);
    // The embedded store rewrites itself when the server next starts.
    let server = server.restart("TERM");
    assert_eq!(
        files_holding(&data_of(&server), ID.as_bytes()),
        Vec::<String>::new()
    );
    assert!(!server.log().contains(ID), "the id is not logged");
    let c = server.api_get("/v1/conversions/R-1").json();
    assert_eq!(
        (c["partner"].clone(), c["customer_id"].clone()),
        (json!("abc123"), Value::Null)
    );
}

fn data_of(server: &Server) -> std::path::PathBuf {
    server.dir.path().join("data")
}
