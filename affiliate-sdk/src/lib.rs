//! # affiliate-sdk
//!
//! An embeddable affiliate-tracking SDK: signed tracking links, click ids, signed
//! session tokens and the first-party cookie that carries them, and the attribution of
//! conversions to partners with their commissions, exactly once, over a [`Store`].
//! Merchants run it in their own stack instead of renting a SaaS tracker.
//!
//! A link or token verifies with the [`Keyring`] alone, without a database read; a
//! whole click is decided by the stateless [`ClickPlanner`]; the [`Tracker`] records
//! what it decides. The reference (formats, rules, the HTTP server, the bindings) is
//! in the repository's `docs/` folder.
//!
//! ## Quickstart
//!
//! ```
//! use affiliate_sdk::{ClickIdGenerator, CookieConfig, Keyring, LinkSigner, TokenClaims};
//!
//! // Once: a keyring (load it from config in production) and a signer for your host.
//! let keys = Keyring::generate()?;
//! let signer = LinkSigner::new(keys.clone(), "https://t.shop.example/go")?;
//!
//! // A partner gets a signed link and appends its own sub-id.
//! let url = signer.build("haircare", "abc123", Some("website2"), None)?;
//! let clicked = format!("{url}&sid=kw1");
//!
//! // A visitor clicks: verify without storage, issue the session token and cookie.
//! let now = 1_700_000_000;
//! let link = signer.verify_click(&clicked)?.link;
//! let click_id = ClickIdGenerator::new().next(now * 1000)?;
//! let token = keys.issue_token(&TokenClaims::new(click_id, link, now, 28 * 86_400))?;
//! let set_cookie = CookieConfig::new().secure(true).set_cookie_until_expiry(&token, now)?;
//! assert!(set_cookie.contains("Max-Age=2419200"));
//!
//! // At checkout the token comes back in the cookie and names the partner.
//! let cookie_header = format!("cart=3; aff_token={token}");
//! let back = CookieConfig::new().find(&cookie_header)?.expect("cookie present");
//! let session = keys.verify_token(back, now + 3_600)?;
//! assert_eq!(session.partner(), "abc123");
//! assert_eq!(session.sid(), Some("kw1"));
//! # Ok::<(), affiliate_sdk::Error>(())
//! ```
//!
//! ## Formats
//!
//! * Codes (campaign, partner, ad): 1–64 bytes of `[A-Za-z0-9_-]`; `sid`: 1–64 bytes of
//!   `[A-Za-z0-9._~-]`. See [`Code`] and [`Sid`].
//! * Links: see [`link`](crate::LinkSigner) — `sig=<kid>.<tag>`, a 128-bit HMAC-SHA256
//!   tag over a length-prefixed encoding; the `sid` is not signed.
//! * Tokens: see [`Keyring::issue_token`] and the module docs of `token` —
//!   `v1.<kid>.<exp>.<body>.<tag>`.
//! * Every tag is bound to its purpose, so a link tag never verifies as a token.
//!
//! ## Defaults
//!
//! Cookie name `aff_token`; `Path=/; HttpOnly; SameSite=Lax`; clock skew allowance
//! [`DEFAULT_SKEW_SECS`] = 60 s on both ends of a token's window.
//!
//! # Security
//!
//! * Keys are at least 32 bytes; [`Key`] and [`Keyring`] never print key material in
//!   `Debug`, and [`Error`] messages never contain keys or whole tokens.
//! * Tags are compared in constant time; a failed verification says only
//!   "invalid signature".
//! * Rotation: add the new key to the ring, make it current, and remove the old one
//!   once the longest cookie window has passed.
//! * Tokens are signed, not encrypted: they contain codes and times, no personal data.
//!
//! # Features
//!
//! * `sled` (default): [`SledStore`], the embedded store. Without it
//!   (`default-features = false`) the crate has no file I/O and builds for
//!   `wasm32-unknown-unknown`; [`MemoryStore`] is always there.
//! * `postgres`: `PostgresStore`, many trackers on one PostgreSQL database.
//! * `bots` (default): `is_bot` and `Tracker::visit` telling bots, crawlers and link
//!   previews by `User-Agent`.
//! * `axum`: the `axum` module, affiliate tracking inside an axum web app (the landing
//!   layer, the visitor extractor, the `/go/…` click routes, `IntoResponse` for
//!   [`Error`]).
//! * `openapi`: the [`answers`] describe themselves for an OpenAPI document
//!   (`utoipa::ToSchema`), as the server's is made.
//!
//! # Blocking
//!
//! Verifying links and tokens, the landing step, clicks and impressions never block;
//! the [`Tracker`] methods that wait for the store say **Blocking** (see [`Tracker`]).
//!
//! # Attribution
//!
//! [`Tracker`] ties a [`LinkSigner`], a [`Catalogue`] of campaigns ([`CampaignSpec`])
//! and partners ([`PartnerSpec`]) and a [`Store`] together: `click`, `impression`,
//! `convert`, `manual`, `set_status`, `conversion` and `stats`. A click is planned by
//! the [`ClickPlanner`], which an edge worker can use without a store. Money is [`Money`] in integer minor
//! units of a [`Currency`]; percentages are [`Percent`]. See [`Tracker`] for an example.

#![forbid(unsafe_code)]
#![deny(missing_docs)]
#![cfg_attr(docsrs, feature(doc_cfg))]

// The examples of docs/rust.md run as doc tests.
#[cfg(doctest)]
#[doc = include_str!("../../docs/rust.md")]
struct DocsRust;

// And the crate's README (its page on crates.io).
#[cfg(doctest)]
#[doc = include_str!("../README.md")]
struct ReadmeRust;

// And those of docs/events.md.
#[cfg(doctest)]
#[doc = include_str!("../../docs/events.md")]
struct DocsEvents;

pub mod answers;
mod attribution;
#[cfg(feature = "axum")]
pub mod axum;
mod click_id;
mod clock;
mod code;
mod cookie;
mod error;
#[cfg(feature = "openapi")]
pub mod formats;
mod key;
pub mod ledger;
mod link;
mod money;
mod order;
pub mod outbound;
mod port;
pub mod portal;
mod records;
pub mod store;
mod token;
mod tracker;
pub mod writes;

#[cfg(feature = "bots")]
pub use crate::attribution::is_bot;
pub use crate::attribution::{
    ADJUSTMENT_CSV_COLUMNS, AdSpec, CONVERSION_CSV_COLUMNS, ClickCommission, ConversionQuery,
    ConversionsPage, CookieConsent, Coupon, CouponSpec, MAX_DEEP_LINK_HOSTS, MAX_LIST_LIMIT,
    MediaType, PAYOUT_CSV_COLUMNS, PartnerQuery, PartnersPage, conversions_csv, csv_cell,
    format_time, merge_patch, payouts_csv, stats_csv,
};
pub use crate::attribution::{
    Amounts, Attribution, BrowserConversion, BrowserConversions, Campaign, CampaignSpec,
    CampaignStatus, Catalogue, Channel, ClickOutcome, ClickPlan, ClickPlanner, Commission,
    Conversion, ConversionRequest, DEFAULT_BROWSER_CONVERSIONS_PER_CLICK, DEFAULT_COOKIE_DAYS,
    Dimension, Evidence, Kind, LANDING_SECS, MAX_ID_LEN, MAX_STATS_LIMIT, ManualConversion,
    Partner, PartnerSpec, PartnerStatus, Postback, PostbackRefund, PriorToken, Refund,
    RefundRequest, Refusal, SaleCommission, StatsPage, StatsQuery, StatsRow, Status,
    UNIQUE_CLICK_SECS, attribute_token, check_fresh_landing, check_min_time, decide_prior_token,
    format_day, parse_day, weigh_prior_token,
};
pub use crate::attribution::{
    BotPlan, DeepTarget, Landing, LandingRedirect, MAX_DEEP_LINK_LEN, MAX_LANDING_TARGET_LEN,
    Planned, decide_landing,
};

pub use crate::click_id::{ClickId, ClickIdGenerator};
pub use crate::clock::{Clock, FixedClock, SystemClock};
pub use crate::code::{Code, MAX_CODE_LEN, Sid};
pub use crate::cookie::{
    CookieConfig, DEFAULT_COOKIE_NAME, MAX_COOKIE_CANDIDATES, MAX_COOKIE_HEADER_LEN,
    parse_cookie_header,
};
pub use crate::error::{Addressed, ClaimsError, ERROR_CODES, Error, KeyError, Result, http_status};
pub use crate::key::{Key, Keyring, Kid};
pub use crate::link::{ClickLink, Link, LinkSigner, MAX_LINK_LEN, MAX_URL_LEN};
pub use crate::money::{Currency, MAX_AMOUNT, Money, MoneyError, Percent, format_minor};
pub use crate::order::{MAX_ORDER_SIGNATURE_LEN, OrderFields};
pub use crate::outbound::WebhookRequest;
#[cfg(feature = "postgres")]
pub use crate::store::PostgresStore;
#[cfg(feature = "sled")]
pub use crate::store::SledStore;
pub use crate::store::{MemoryStore, Store};
pub use crate::token::{
    DEFAULT_SKEW_SECS, MAX_TOKEN_LEN, TokenClaims, TokenValidation, UntrustedToken, VerifiedToken,
};
pub use crate::tracker::{
    Chore, ChoresDone, ConfigEntryError, DEFAULT_CLICK_RETENTION_DAYS, DeliveryRound, Housekeeping,
    HousekeepingSchedule, MAX_DELIVERY_PAGE, MAX_POSTBACK_KEYS, OutboundRequest, PRUNE_CLICKS_MAX,
    PortalSession, PostbackKey, SendOutcome, TRAFFIC_GRACE_SECS, Tracker, TrafficClosed, Transport,
    parse_postback_query,
};
pub use crate::writes::{Adjusted, Refunded, StoreWrites};
