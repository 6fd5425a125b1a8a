//! The demo shop that `affiliate-server demo` serves at `/demo/…`: the landing page a
//! sample link redirects to (its backend signs the order it offers), and an
//! order-confirmation page that reports the signed sale by the image pixel, as a real
//! shop's page would.

use std::sync::Arc;

use axum::Router;
use axum::extract::{Path, Query, State};
use axum::http::HeaderMap;
use axum::http::StatusCode;
use axum::response::{Html, IntoResponse, Response};
use axum::routing::get;
use serde::Deserialize;

use crate::http::{ApiError, AppState, Shared, cookie_token};

/// The demo shop's own routes, merged into the app by `affiliate-server demo`.
pub fn router() -> Router<Shared> {
    Router::new()
        .route("/demo/shop/{campaign}", get(shop))
        .route("/demo/thanks", get(thanks))
}

fn page(title: &str, body: &str) -> Html<String> {
    Html(format!(
        "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\"><title>{title}</title>\
         <style>body{{font:16px/1.5 system-ui,sans-serif;max-width:40em;margin:3em auto;padding:0 1em}}\
         .buy{{display:inline-block;background:#2f6fde;color:#fff;padding:.5em 1.5em;border-radius:4px;text-decoration:none}}\
         code{{background:#eef}}</style></head><body>{body}</body></html>"
    ))
}

/// Escapes text for HTML. Everything shown here is validated already; this is the
/// second line of defence.
fn esc(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

/// The landing page of a demo campaign: says which partner the visitor's token credits
/// and offers a purchase.
pub async fn shop(
    State(state): State<Arc<AppState>>,
    Path(campaign): Path<String>,
    headers: HeaderMap,
) -> Response {
    let Some(c) = state.tracker.campaign(&campaign) else {
        return ApiError::new(
            StatusCode::NOT_FOUND,
            "unknown_campaign",
            "no such demo shop",
        )
        .into_response();
    };
    let token = cookie_token(&state.tracker, &headers);
    let credit = match token.map(|t| state.tracker.verify_token(t)) {
        Some(Ok(v)) => format!(
            "Your visit carries a session token: partner <code>{}</code>, ad <code>{}</code>, \
             sid <code>{}</code>, valid until {} (Unix time).",
            esc(v.partner()),
            esc(v.ad().unwrap_or("-")),
            esc(v.sid().unwrap_or("-")),
            v.expires_at()
        ),
        Some(Err(e)) => format!("Your token was refused: {}.", esc(&e.to_string())),
        None => "You arrived without a session token: a sale now credits nobody.".to_owned(),
    };
    let currency = c.currency().code();
    let exponent = c.currency().exponent();
    let amount = affiliate_sdk::format_minor(4990 * 10u128.pow(exponent.into()) / 100, exponent);
    let order_id = format!(
        "DEMO-{}",
        affiliate_sdk::ClickIdGenerator::new()
            .next(now_ms())
            .map(|id| id.to_string())
            .unwrap_or_default()
    );
    // The shop's backend signs the order it will confirm, as a real shop does: the
    // confirmation page passes the signature on with the conversion.
    let osig = match state
        .tracker
        .signer()
        .keyring()
        .sign_order(&order_id, &amount, currency, "sale")
    {
        Ok(osig) => osig,
        Err(e) => return crate::http::ApiError::from(e).into_response(),
    };
    let buy = url::form_urlencoded::Serializer::new(String::new())
        .append_pair("order_id", &order_id)
        .append_pair("amount", &amount)
        .append_pair("currency", currency)
        .append_pair("osig", &osig)
        .finish();
    page(
        "Demo shop",
        &format!(
            "<h1>Demo shop: {code}</h1><p>{credit}</p><p>A bottle of {code}, {amount} {currency}.</p>\
             <p><a class=\"buy\" id=\"buy\" href=\"/demo/thanks?{buy}\">Buy</a></p>",
            code = esc(c.code().as_str()),
            currency = esc(currency),
        ),
    )
    .into_response()
}

fn now_ms() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as u64)
}

#[derive(Deserialize)]
pub struct Order {
    order_id: String,
    amount: String,
    currency: String,
    osig: String,
}

/// The order-confirmation page: reports the sale with the image pixel and the order
/// signature the shop page made (the browser sends the `aff_token` cookie with it).
pub async fn thanks(
    query: Result<Query<Order>, axum::extract::rejection::QueryRejection>,
) -> Response {
    let Ok(Query(o)) = query else {
        return ApiError::new(
            StatusCode::BAD_REQUEST,
            "malformed",
            "order_id, amount, currency and osig are required",
        )
        .into_response();
    };
    if affiliate_sdk::Money::parse(&o.amount, &o.currency).is_err()
        || o.order_id.is_empty()
        || o.order_id.len() > 64
        || !o
            .order_id
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-')
        || o.osig.len() > affiliate_sdk::MAX_ORDER_SIGNATURE_LEN
        || !o
            .osig
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"-_.".contains(&b))
    {
        return ApiError::new(StatusCode::BAD_REQUEST, "malformed", "not a demo order")
            .into_response();
    }
    let pixel = url::form_urlencoded::Serializer::new(String::new())
        .append_pair("order_id", &o.order_id)
        .append_pair("amount", &o.amount)
        .append_pair("currency", &o.currency)
        .append_pair("kind", "sale")
        .append_pair("osig", &o.osig)
        .finish();
    page(
        "Thank you",
        &format!(
            "<h1>Thank you</h1><p>Order <code id=\"order\">{id}</code>, {amount} {currency}.</p>\
             <p>This page reported the sale with <code>&lt;img src=\"/px.gif?{px}\"&gt;</code>. \
             Open the <a href=\"/dashboard\">dashboard</a> to see it.</p>\
             <img id=\"pixel\" src=\"/px.gif?{px}\" width=\"1\" height=\"1\" alt=\"\">",
            id = esc(&o.order_id),
            amount = esc(&o.amount),
            currency = esc(&o.currency),
            px = esc(&pixel),
        ),
    )
    .into_response()
}

/// The demo config: fresh keys, an API key, two campaigns whose destinations are the
/// demo shop served by this server, and three partners (one with a parent and a
/// coupon).
pub fn demo_toml(listen: std::net::SocketAddr) -> Result<String, affiliate_sdk::Error> {
    let key = affiliate_sdk::Key::generate()?.to_base64();
    let api_key = affiliate_sdk::Key::generate()?.to_base64();
    let base = format!("http://{listen}");
    Ok(format!(
        r#"# Written by `affiliate-server demo`. Edit freely; it is read at every start.
# Relative paths are relative to this file.

[server]
listen = "{listen}"
public_url = "{base}"            # links are {{public_url}}/go/...
data_dir = "."
api_keys = ["{api_key}"]       # Bearer keys for /v1/* (not /v1/conversions)
cookie_domain = ""
allowed_origins = []

[keys]
current = "k1"
k1 = "{key}"

[[campaign]]
code = "haircare"
destination = "{base}/demo/shop/haircare"
cookie_days = 28
attribution = "last"
currency = "USD"
sale_percent = "10"
lead_flat = "2.00"
click_flat = "0.01"
impression_per_mille = "1.50"
override_percents = ["10", "5"]

[[campaign]]
code = "skincare"
destination = "{base}/demo/shop/skincare"
cookie_days = 7
attribution = "first"
currency = "EUR"
sale_flat = "5.00"

[[partner]]
code = "boss1"

[[partner]]
code = "abc123"
parent = "boss1"
coupons = ["ABC10"]

[[partner]]
code = "solo"
"#
    ))
}
