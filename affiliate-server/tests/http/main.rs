//! The HTTP server, one module per endpoint family (as `src/routes/`): the real binary
//! over a socket where the process matters (the whole flow, restarts, signals), the
//! app in this process (`common::inproc`) where a socket adds nothing.

#[path = "../common/mod.rs"]
mod common;

mod browser;
mod catalogue;
mod cli;
mod click_earnings;
mod clicks;
mod conversions;
mod deep_links;
mod docs;
mod hardening;
mod money;
mod partner;
mod payouts;
mod postback;
mod secrets;
mod traffic;
mod webhooks;

pub(crate) use affiliate_sdk::{ClickIdGenerator, Link, LinkSigner, TokenClaims};
pub(crate) use common::inproc::App;
pub(crate) use common::{
    API_KEY, AUTH, BROWSER_UA, Http, Server, config, config_path, keyring, path_of, run,
};
pub(crate) use serde_json::{Value, json};

pub(crate) fn now() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs()
}

/// A signed link path (`/go/…?sig=…`) made with the server's key.
pub(crate) fn link(campaign: &str, partner: &str, ad: Option<&str>, sid: Option<&str>) -> String {
    let signer = LinkSigner::new(keyring(), "http://t.shop.example/go").unwrap();
    path_of(&signer.build(campaign, partner, ad, sid).unwrap())
}

pub(crate) fn sale(order_id: &str, amount: &str) -> Value {
    json!({"order_id": order_id, "amount": amount, "currency": "USD", "kind": "sale"})
}

/// The merchant's order signature (`osig`) with the server's key.
pub(crate) fn osig(order_id: &str, amount: &str, currency: &str, kind: &str) -> String {
    keyring()
        .sign_order(order_id, amount, currency, kind)
        .unwrap()
}

pub(crate) fn with(mut v: Value, key: &str, value: &str) -> Value {
    v[key] = json!(value);
    v
}
