//! Affiliate tracking inside an [axum] web app (feature `axum`): the pieces
//! `affiliate-server` itself is made of, so a Rust shop embeds the tracker without
//! rewriting them.
//!
//! * [`LandingLayer`]: the landing step as a tower layer. A visitor arriving with a
//!   fresh, valid `?aff_token=` gets a first-party `HttpOnly` cookie from the shop's own
//!   `302` to the clean URL ([`Tracker::landing`]); anything else reaches the app
//!   unchanged.
//! * [`Visitor`]: an extractor of the visitor's verified session from the `Cookie`
//!   header (`Option<Visitor>` in a handler: `None` when there is none that verifies).
//! * [`ClickRoutes`]: the `GET`/`HEAD /go/…` click handler, so the shop is its own
//!   tracker: it verifies the link, counts the click, sets the cookie and redirects.
//! * `IntoResponse` for [`Error`](crate::Error): the status of
//!   [`Error::http_status`](crate::Error::http_status) and the JSON
//!   error body of the HTTP API, `{"error":{"code":"…","message":"…"}}`.
//!
//! **Blocking.** None of these blocks an async worker: the landing step and the
//! extractor verify a signature (no store read), and a click hands its record to the
//! store's buffer (a background writer makes it durable). The [`Tracker`] calls that
//! wait for the store (conversions, status changes, reports, the program's changes) are
//! blocking and say so in their docs: call them through
//! `tokio::task::spawn_blocking`, as the example below does. (A `PostgresStore` called
//! on a runtime thread moves its work to a thread of its own rather than panic, but it
//! still holds that worker until the database answers.)
//!
//! ```
//! use std::sync::Arc;
//! use affiliate_sdk::axum::{ClickRoutes, LandingLayer, Visitor};
//! use affiliate_sdk::{CampaignSpec, ConversionRequest, Keyring, LinkSigner, MemoryStore, PartnerSpec, Tracker};
//! use axum::{Router, extract::State, routing::{get, post}};
//!
//! # fn main() -> affiliate_sdk::Result<()> {
//! let signer = LinkSigner::new(Keyring::generate()?, "https://shop.example/go")?;
//! let tracker = Arc::new(Tracker::new(signer, Arc::new(MemoryStore::new())));
//! tracker.add_campaign(&CampaignSpec::new("spring", "https://shop.example/sale", "USD"))?;
//! tracker.add_partner(&PartnerSpec::new("abc123"))?;
//!
//! async fn checkout(
//!     State(tracker): State<Arc<Tracker>>,
//!     visitor: Option<Visitor>,
//! ) -> Result<String, affiliate_sdk::Error> {
//!     let Some(visitor) = visitor else { return Ok("thanks".into()) };
//!     let mut order = ConversionRequest::sale("A-1001", "49.90", "USD");
//!     order.token = Some(visitor.token);
//!     // `convert` waits for the store: off the async workers.
//!     let conv = tokio::task::spawn_blocking(move || tracker.convert(&order))
//!         .await
//!         .expect("the conversion task ran")?;
//!     Ok(format!("thanks: {} referred you", conv.link.partner))
//! }
//!
//! let app: Router = Router::new()
//!     .route("/sale", get(|| async { "spring sale" }))
//!     .route("/checkout", post(checkout))
//!     .with_state(tracker.clone())
//!     .merge(ClickRoutes::new(tracker.clone()).router())
//!     .layer(LandingLayer::new(tracker));
//! # let _ = app;
//! # Ok(())
//! # }
//! ```

mod click;
mod error;
mod landing;
mod pixel;
mod visitor;

pub use click::{ClickAnswer, ClickEvent, ClickRoutes};
pub use landing::{LandingLayer, LandingService};
pub use pixel::{ImpressionAnswer, PIXEL_GIF, pixel};
pub use visitor::{Visitor, VisitorRejection};

use crate::Tracker;

/// The visitor's token from a request's `Cookie` header(s): the first token cookie
/// whose signature verifies (the core decides, [`Tracker::token_from_cookies`]), so a
/// sibling subdomain's cookie or a long header cannot hide it.
pub fn cookie_token<'h>(tracker: &Tracker, headers: &'h axum::http::HeaderMap) -> Option<&'h str> {
    tracker.token_from_cookies(
        headers
            .get_all(axum::http::header::COOKIE)
            .iter()
            .filter_map(|h| h.to_str().ok()),
    )
}
