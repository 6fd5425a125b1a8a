//! A small shop written with axum that embeds affiliate tracking
//! (`affiliate_sdk::axum`). It shares its signing key with the tracker
//! (`affiliate-server`) that partners' links point to.
//!
//! * Every page sits behind [`LandingLayer`]: a visitor arriving from a click with a
//!   fresh `?aff_token=` gets a first-party `HttpOnly` cookie from this shop's own
//!   response and lands on the clean URL.
//! * `GET /go/…` are [`ClickRoutes`]: the shop is also its own tracker for links
//!   signed with its base URL.
//! * `POST /checkout` records the order and shows the confirmation page, which reports
//!   the order signed with the shop's key (`osig`) to the tracker's pixel, with the
//!   visitor's token read from the cookie by the [`Visitor`] extractor.
//!
//! ```sh
//! AXUM_SHOP_KEY=<base64url key of k1> AXUM_SHOP_ORIGIN=http://localhost:3000 \
//! AXUM_SHOP_TRACKER=http://127.0.0.1:8080 cargo run -p axum-shop
//! ```
//!
//! Variables: `AXUM_SHOP_LISTEN` (default `127.0.0.1:3000`), `AXUM_SHOP_ORIGIN` (this
//! shop's public origin; default `http://localhost:3000`), `AXUM_SHOP_TRACKER` (the
//! tracker's origin, for the conversion pixel), `AXUM_SHOP_KEY` (the signing key `k1`,
//! base64url; a new one when absent, which only the shop's own links use).

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use affiliate_sdk::axum::{ClickRoutes, LandingLayer, Visitor};
use affiliate_sdk::{CampaignSpec, Keyring, LinkSigner, MemoryStore, PartnerSpec, Tracker};
use axum::Router;
use axum::extract::{Form, State};
use axum::http::StatusCode;
use axum::response::{Html, IntoResponse, Response};
use axum::routing::{get, post};

/// What the pages need.
#[derive(Clone)]
struct Shop {
    tracker: Arc<Tracker>,
    /// The next order number.
    orders: Arc<AtomicU64>,
    /// The tracker's origin, where the confirmation page reports the order.
    tracker_origin: String,
}

/// The one product: its price as a decimal string, never a float.
const PRICE: &str = "24.00";

fn app(shop: Shop) -> Router {
    let tracker = shop.tracker.clone();
    Router::new()
        .route("/sale", get(sale))
        .route("/checkout", post(checkout))
        .with_state(shop)
        .merge(ClickRoutes::new(tracker.clone()).router())
        .layer(LandingLayer::new(tracker))
}

/// The product page; says who referred the visitor, if anyone.
async fn sale(visitor: Option<Visitor>) -> Html<String> {
    let referred = visitor.map_or_else(String::new, |v| {
        format!("<p id=referred>Referred by {}</p>", v.claims.link.partner)
    });
    Html(format!(
        "<!doctype html><title>Spring sale</title><h1>Spring sale</h1>{referred}\
         <p>Brush, {PRICE} USD</p>\
         <form method=post action=/checkout><input type=hidden name=sku value=brush>\
         <button id=buy>Buy</button></form>"
    ))
}

#[derive(serde::Deserialize)]
struct Order {
    sku: String,
}

/// Records the order (here: gives it an id) and shows the confirmation page, which
/// reports the order, signed by the shop, to the tracker's pixel.
async fn checkout(
    State(shop): State<Shop>,
    visitor: Option<Visitor>,
    Form(order): Form<Order>,
) -> Response {
    if order.sku != "brush" {
        return (StatusCode::BAD_REQUEST, "no such product\n").into_response();
    }
    let order_id = format!("AX-{}", shop.orders.fetch_add(1, Ordering::Relaxed));
    let Ok(osig) = shop
        .tracker
        .signer()
        .keyring()
        .sign_order(&order_id, PRICE, "USD", "sale")
    else {
        return (
            StatusCode::INTERNAL_SERVER_ERROR,
            "could not sign the order\n",
        )
            .into_response();
    };
    // The token rides in the pixel's query: the cookie is HttpOnly and first-party, so
    // neither a script nor the tracker's site can read it.
    let pixel = match visitor {
        Some(v) => format!(
            "<img id=pixel alt='' width=1 height=1 src='{}/px.gif?order_id={order_id}\
             &amount={PRICE}&currency=USD&kind=sale&token={}&osig={osig}'>",
            shop.tracker_origin, v.token
        ),
        None => String::new(),
    };
    Html(format!(
        "<!doctype html><title>Thank you</title><h1>Thank you</h1>\
         <p>Order <span id=order>{order_id}</span>: {PRICE} USD</p>{pixel}"
    ))
    .into_response()
}

fn env(name: &str, default: &str) -> String {
    std::env::var(name).unwrap_or_else(|_| default.to_owned())
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let origin = env("AXUM_SHOP_ORIGIN", "http://localhost:3000");
    let keys = match std::env::var("AXUM_SHOP_KEY") {
        Ok(key) => Keyring::from_base64([("k1", key.as_str())], "k1")?,
        Err(_) => Keyring::generate()?,
    };
    let signer = LinkSigner::new(keys, &format!("{origin}/go"))?;
    let tracker = Tracker::new(signer, Arc::new(MemoryStore::new()));
    let mut spring = CampaignSpec::new("spring", &format!("{origin}/sale"), "USD");
    spring.sale_percent = Some("10".into());
    tracker.add_campaign(&spring)?;
    tracker.add_partner(&PartnerSpec::new("abc123"))?;
    let tracker = Arc::new(tracker);
    println!(
        "a link of the shop's own: {}",
        tracker.signer().build("spring", "abc123", None, None)?
    );
    // Order numbers from the start time: unique across restarts of this example.
    let start = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs());
    let shop = Shop {
        tracker,
        orders: Arc::new(AtomicU64::new(start * 1000)),
        tracker_origin: env("AXUM_SHOP_TRACKER", "http://127.0.0.1:8080"),
    };
    let listener = tokio::net::TcpListener::bind(env("AXUM_SHOP_LISTEN", "127.0.0.1:3000")).await?;
    println!("listening on http://{}", listener.local_addr()?);
    axum::serve(listener, app(shop)).await?;
    Ok(())
}
