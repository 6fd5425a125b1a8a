//! The axum integration (feature `axum`): the landing layer, the visitor extractor, the
//! click routes and `IntoResponse` for errors, driven through a real axum `Router`.

use std::sync::Arc;

use affiliate_sdk::axum::{ClickRoutes, LandingLayer, Visitor};
use affiliate_sdk::{
    CampaignSpec, ConversionRequest, Error, FixedClock, Keyring, LinkSigner, MemoryStore,
    PartnerSpec, StatsQuery, Tracker,
};
use axum::Router;
use axum::body::Body;
use axum::extract::{RawQuery, State};
use axum::http::{HeaderName, Method, Request, StatusCode, header};
use axum::response::Response;
use axum::routing::{get, post};
use tower::ServiceExt as _;

const T0: u64 = 1_700_000_000;

fn tracker() -> (Arc<Tracker>, Arc<FixedClock>) {
    let clock = Arc::new(FixedClock::from_secs(T0));
    let signer = LinkSigner::new(Keyring::generate().unwrap(), "https://shop.example/go").unwrap();
    let tracker = Tracker::new(signer, Arc::new(MemoryStore::new())).with_clock(clock.clone());
    let mut spring = CampaignSpec::new("spring", "https://shop.example/sale?ref=x", "USD");
    spring.sale_percent = Some("10".into());
    spring.cookie_days = 28;
    tracker.add_campaign(&spring).unwrap();
    tracker.add_partner(&PartnerSpec::new("abc123")).unwrap();
    tracker.add_partner(&PartnerSpec::new("mid1")).unwrap();
    (Arc::new(tracker), clock)
}

/// The shop: a page that shows what it was asked, a checkout that converts with the
/// visitor's session, the click routes, all behind the landing layer.
fn shop(tracker: &Arc<Tracker>) -> Router {
    async fn page(RawQuery(q): RawQuery, visitor: Option<Visitor>) -> String {
        let who = visitor.map_or("-".to_owned(), |v| v.claims.link.partner.to_string());
        format!("page?{}|{who}", q.unwrap_or_default())
    }
    async fn checkout(
        State(tracker): State<Arc<Tracker>>,
        visitor: Visitor,
    ) -> Result<String, Error> {
        let mut order = ConversionRequest::sale("A-1", "49.90", "USD");
        order.token = Some(visitor.token);
        let conv = tokio::task::spawn_blocking(move || tracker.convert(&order))
            .await
            .unwrap()?;
        Ok(format!("{} {}", conv.link.partner, conv.duplicate))
    }
    Router::new()
        .route("/sale", get(page).post(page))
        .route("/checkout", post(checkout))
        .with_state(tracker.clone())
        .merge(ClickRoutes::new(tracker.clone()).router())
        .layer(LandingLayer::new(tracker.clone()))
}

/// A browser's user agent (a request without one is a bot's, landed without a token).
const BROWSER: &str = "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36";

async fn send(app: &Router, method: Method, uri: &str, cookie: Option<&str>) -> Response {
    let mut req = Request::builder()
        .method(method)
        .uri(uri)
        .header(header::USER_AGENT, BROWSER);
    if let Some(cookie) = cookie {
        req = req.header(header::COOKIE, cookie);
    }
    app.clone()
        .oneshot(req.body(Body::empty()).unwrap())
        .await
        .unwrap()
}

fn header(resp: &Response, name: header::HeaderName) -> Option<&str> {
    resp.headers().get(name).map(|v| v.to_str().unwrap())
}

async fn body(resp: Response) -> String {
    let bytes = axum::body::to_bytes(resp.into_body(), 1 << 20)
        .await
        .unwrap();
    String::from_utf8(bytes.to_vec()).unwrap()
}

fn token_of(tracker: &Tracker, partner: &str) -> String {
    let url = tracker
        .signer()
        .build("spring", partner, None, None)
        .unwrap();
    tracker.click(&url, None).unwrap().token
}

#[tokio::test]
async fn a_fresh_landing_token_becomes_a_first_party_cookie_and_a_clean_url() {
    let (tracker, clock) = tracker();
    let app = shop(&tracker);
    let token = token_of(&tracker, "abc123");
    clock.advance_secs(30);
    let resp = send(
        &app,
        Method::GET,
        &format!("/sale?x=1&aff_token={token}&y=a%20b"),
        None,
    )
    .await;
    assert_eq!(resp.status(), StatusCode::FOUND);
    assert_eq!(header(&resp, header::LOCATION), Some("/sale?x=1&y=a%20b"));
    assert_eq!(header(&resp, header::CACHE_CONTROL), Some("no-store"));
    let cookie = header(&resp, header::SET_COOKIE).unwrap();
    assert!(
        cookie.starts_with(&format!("aff_token={token};")),
        "{cookie}"
    );
    assert!(
        cookie.contains("HttpOnly") && cookie.contains(&format!("Max-Age={}", 28 * 86_400 - 30))
    );
    // The clean URL with the cookie: the page sees the visitor's partner.
    let resp = send(
        &app,
        Method::GET,
        "/sale?x=1&y=a%20b",
        Some(&format!("aff_token={token}")),
    )
    .await;
    assert_eq!(resp.status(), StatusCode::OK);
    assert_eq!(body(resp).await, "page?x=1&y=a%20b|abc123");
}

#[tokio::test]
async fn a_stale_forged_or_missing_landing_token_changes_nothing() {
    let (tracker, clock) = tracker();
    let app = shop(&tracker);
    let earlier = token_of(&tracker, "mid1");
    let token = token_of(&tracker, "abc123");
    let tail = if token.ends_with("AAAA") {
        "QQQQ"
    } else {
        "AAAA"
    };
    let forged = format!("{}{tail}", &token[..token.len() - 4]);
    let cookie = format!("aff_token={earlier}");
    for (method, query) in [
        (Method::GET, format!("aff_token={forged}&x=1")),
        (Method::GET, "aff_token=v1.%FF&x=1".to_owned()),
        (Method::GET, "x=1".to_owned()),
        (Method::POST, format!("aff_token={token}&x=1")),
    ] {
        let resp = send(&app, method, &format!("/sale?{query}"), Some(&cookie)).await;
        assert_eq!(resp.status(), StatusCode::OK, "{query}");
        assert!(resp.headers().get(header::SET_COOKIE).is_none(), "{query}");
        assert_eq!(body(resp).await, format!("page?{query}|mid1"));
    }
    clock.advance_secs(11 * 60); // a shared link opened later
    let resp = send(&app, Method::GET, &format!("/sale?aff_token={token}"), None).await;
    assert_eq!(resp.status(), StatusCode::OK);
    assert!(resp.headers().get(header::SET_COOKIE).is_none());
    // The location never leaves the site.
    let fresh = token_of(&tracker, "abc123");
    let resp = send(
        &app,
        Method::GET,
        &format!("//evil.example/x?aff_token={fresh}"),
        None,
    )
    .await;
    assert_eq!(header(&resp, header::LOCATION), Some("/evil.example/x"));
}

#[tokio::test]
async fn the_click_routes_count_set_the_cookie_and_the_checkout_is_attributed() {
    let (tracker, _) = tracker();
    let app = shop(&tracker);
    let link = tracker
        .signer()
        .build("spring", "abc123", None, Some("kw1"))
        .unwrap();
    let path = link.strip_prefix("https://shop.example").unwrap();
    // HEAD: where a click would land, nothing issued or counted.
    let resp = send(&app, Method::HEAD, path, None).await;
    assert_eq!(resp.status(), StatusCode::FOUND);
    assert_eq!(
        header(&resp, header::LOCATION),
        Some("https://shop.example/sale?ref=x")
    );
    assert!(resp.headers().get(header::SET_COOKIE).is_none());
    let resp = send(&app, Method::GET, path, None).await;
    assert_eq!(resp.status(), StatusCode::FOUND);
    let location = header(&resp, header::LOCATION).unwrap();
    assert!(
        location.starts_with("https://shop.example/sale?ref=x&aff_token=v1."),
        "{location}"
    );
    let cookie = header(&resp, header::SET_COOKIE).unwrap();
    let token = cookie
        .split(';')
        .next()
        .unwrap()
        .strip_prefix("aff_token=")
        .unwrap();
    let resp = send(
        &app,
        Method::POST,
        "/checkout",
        Some(&format!("aff_token={token}")),
    )
    .await;
    assert_eq!(body(resp).await, "abc123 false");
    let resp = send(
        &app,
        Method::POST,
        "/checkout",
        Some(&format!("aff_token={token}")),
    )
    .await;
    assert_eq!(body(resp).await, "abc123 true");
    let rows = tracker.stats(&StatsQuery::default()).unwrap();
    assert_eq!((rows[0].clicks, rows[0].sales), (1, 1));
    // No session: the extractor refuses; Option<Visitor> would be None.
    let resp = send(&app, Method::POST, "/checkout", None).await;
    assert_eq!(resp.status(), StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn links_that_credit_nobody_and_bots_get_no_cookie() {
    let (tracker, _) = tracker();
    let app = shop(&tracker);
    let link = tracker
        .signer()
        .build("spring", "abc123", None, None)
        .unwrap();
    let forged = link.replace("abc123", "mid1");
    let path = forged.strip_prefix("https://shop.example").unwrap();
    let resp = send(&app, Method::GET, path, None).await;
    assert_eq!(resp.status(), StatusCode::FOUND);
    assert_eq!(
        header(&resp, header::LOCATION),
        Some("https://shop.example/sale?ref=x")
    );
    assert!(resp.headers().get(header::SET_COOKIE).is_none());
    let resp = send(&app, Method::GET, "/go/nope/abc123?sig=k1.x", None).await;
    assert_eq!(resp.status(), StatusCode::NOT_FOUND);
    assert_eq!(
        header(&resp, header::CONTENT_TYPE),
        Some("application/json")
    );
    assert!(body(resp).await.contains(r#""code":"unknown_campaign""#));
    let bot = Request::get(link.strip_prefix("https://shop.example").unwrap())
        .header(
            header::USER_AGENT,
            "Slackbot-LinkExpanding 1.0 (+https://api.slack.com/robots)",
        )
        .body(Body::empty())
        .unwrap();
    let resp = app.clone().oneshot(bot).await.unwrap();
    assert_eq!(resp.status(), StatusCode::FOUND);
    assert!(resp.headers().get(header::SET_COOKIE).is_none());
    let rows = tracker.stats(&StatsQuery::default()).unwrap();
    assert_eq!((rows[0].clicks, rows[0].bot_clicks), (0, 1));
}

#[tokio::test]
async fn the_impression_routes_count_and_always_answer_the_gif() {
    let (tracker, _) = tracker();
    let app = shop(&tracker);
    let link = tracker
        .signer()
        .build("spring", "abc123", None, None)
        .unwrap();
    // The same signed link, served under /imp beside /go.
    let imp = link.replace("https://shop.example/go/", "/imp/");
    let head = send(&app, Method::HEAD, &imp, None).await;
    assert_eq!(head.status(), StatusCode::OK);
    assert_eq!(
        header(&head, HeaderName::from_static("x-affiliate-result")),
        Some("ok")
    );
    let resp = send(&app, Method::GET, &imp, None).await;
    assert_eq!(resp.status(), StatusCode::OK);
    assert_eq!(header(&resp, header::CONTENT_TYPE), Some("image/gif"));
    assert_eq!(header(&resp, header::CACHE_CONTROL), Some("no-store"));
    assert_eq!(
        header(&resp, HeaderName::from_static("x-affiliate-result")),
        Some("ok")
    );
    assert!(resp.headers().get(header::SET_COOKIE).is_none());
    let bytes = axum::body::to_bytes(resp.into_body(), 1 << 10)
        .await
        .unwrap();
    assert_eq!(&bytes[..], affiliate_sdk::axum::PIXEL_GIF);
    assert_eq!(&bytes[..6], b"GIF89a");
    assert_eq!(&bytes[6..10], &[1, 0, 1, 0], "1×1");
    // A forged link: still the GIF, its error code, nothing counted.
    let last = if imp.ends_with('A') { 'B' } else { 'A' };
    let forged = format!("{}{last}", &imp[..imp.len() - 1]);
    let resp = send(&app, Method::GET, &forged, None).await;
    assert_eq!(resp.status(), StatusCode::OK);
    assert_eq!(
        header(&resp, HeaderName::from_static("x-affiliate-result")),
        Some("invalid_signature")
    );
    let rows = tracker.stats(&StatsQuery::default()).unwrap();
    assert_eq!(
        rows[0].impressions, 1,
        "the HEAD and the forged one count nothing"
    );
    // Mounted elsewhere by hand.
    let app: Router = ClickRoutes::new(tracker.clone())
        .impressions_at("/views/")
        .router();
    let resp = send(
        &app,
        Method::GET,
        &imp.replacen("/imp/", "/views/", 1),
        None,
    )
    .await;
    assert_eq!(
        header(&resp, HeaderName::from_static("x-affiliate-result")),
        Some("ok")
    );
    let rows = tracker.stats(&StatsQuery::default()).unwrap();
    assert_eq!(rows[0].impressions, 2);
}

#[tokio::test]
async fn behind_a_proxy_that_strips_a_prefix_the_links_still_verify() {
    let clock = Arc::new(FixedClock::from_secs(T0));
    let signer =
        LinkSigner::new(Keyring::generate().unwrap(), "https://t.example/track/go").unwrap();
    let tracker = Tracker::new(signer, Arc::new(MemoryStore::new())).with_clock(clock);
    tracker
        .add_campaign(&CampaignSpec::new("spring", "https://shop.example/", "USD"))
        .unwrap();
    tracker.add_partner(&PartnerSpec::new("abc123")).unwrap();
    let tracker = Arc::new(tracker);
    let routes = ClickRoutes::new(tracker.clone()).mounted_at("go/");
    let app: Router = routes.router();
    let link = tracker
        .signer()
        .build("spring", "abc123", None, None)
        .unwrap();
    let stripped = link.strip_prefix("https://t.example/track").unwrap();
    let resp = send(&app, Method::GET, stripped, None).await;
    assert!(header(&resp, header::SET_COOKIE).is_some());
    // Mounted where the base URL says by default.
    let app: Router = ClickRoutes::new(tracker.clone()).router();
    let resp = send(
        &app,
        Method::GET,
        link.strip_prefix("https://t.example").unwrap(),
        None,
    )
    .await;
    assert!(header(&resp, header::SET_COOKIE).is_some());
}

#[tokio::test]
async fn errors_answer_the_http_apis_status_and_body() {
    for (error, status) in [
        (Error::InvalidSignature, 422),
        (Error::NotFound("order".into()), 404),
        (Error::Conflict("A-1".into()), 409),
    ] {
        let code = error.code();
        let resp = axum::response::IntoResponse::into_response(error);
        assert_eq!(resp.status().as_u16(), status);
        let json: serde_json::Value = serde_json::from_str(&body(resp).await).unwrap();
        assert_eq!(json["error"]["code"], code);
    }
    // The extractor without the layer says what is missing.
    let (tracker, _) = tracker();
    async fn needs(visitor: Option<Visitor>) -> String {
        format!("{:?}", visitor.map(|v| v.claims.link.partner.to_string()))
    }
    let bare: Router = Router::new().route("/", get(needs));
    let resp = send(&bare, Method::GET, "/", None).await;
    assert_eq!(resp.status(), StatusCode::INTERNAL_SERVER_ERROR);
    assert!(body(resp).await.contains("LandingLayer"));
    let with: Router = bare.layer(LandingLayer::new(tracker));
    assert_eq!(
        body(send(&with, Method::GET, "/", None).await).await,
        "None"
    );
}

#[test]
fn a_visitor_never_shows_its_token_in_debug() {
    let (tracker, _) = tracker();
    let token = token_of(&tracker, "abc123");
    let mut headers = axum::http::HeaderMap::new();
    headers.insert(
        header::COOKIE,
        format!("aff_token={token}").parse().unwrap(),
    );
    let visitor = Visitor::from_headers(&tracker, &headers).unwrap();
    assert_eq!(visitor.token, token);
    assert!(!format!("{visitor:?}").contains(&token[10..]));
}
