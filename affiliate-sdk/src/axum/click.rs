//! The `GET`/`HEAD /go/…` click handler: the shop is its own tracker.

use std::sync::Arc;

use axum::Router;
use axum::extract::{Request, State};
use axum::http::header::{CACHE_CONTROL, LOCATION, SET_COOKIE, USER_AGENT};
use axum::http::{HeaderMap, HeaderValue, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use axum::routing::get;

use super::Tracker;
use crate::{ClickId, Error, Landing, Refusal};

/// The click routes of a [`Tracker`]: `GET` verifies the link, counts the click, sets
/// the token cookie (unless the campaign waits for consent) and answers `302` to the
/// campaign's destination (or the link's allowed `to=` page) with the token; a bot
/// lands there with no token or cookie; a link that credits nobody lands on its
/// campaign's destination setting nothing, or gets `404` for an unknown campaign.
/// `HEAD` answers where a `GET` would land and counts nothing. Never cached; nothing
/// blocks (the click goes to the store's buffer).
///
/// The impression routes beside them (`/imp/…` for links served at `/go/…`) count an
/// impression of the same signed link and always answer a 1×1 GIF.
///
/// [`ClickRoutes::router`] mounts both; [`ClickRoutes::click`],
/// [`ClickRoutes::preview`], [`ClickRoutes::impression`] and
/// [`ClickRoutes::impression_preview`] answer one request for a router of your own
/// (as `affiliate-server` does, to count and log what happened).
#[derive(Clone)]
pub struct ClickRoutes {
    pub(super) tracker: Arc<Tracker>,
    mount: Arc<str>,
    pub(super) impressions: Arc<str>,
}

/// The impression mount beside a click mount: its last segment becomes `imp`
/// (`/go` → `/imp`, `/track/go` → `/track/imp`, the root → `/imp`).
fn impressions_beside(mount: &str) -> Arc<str> {
    let parent = mount.rsplit_once('/').map_or("", |(p, _)| p);
    format!("{parent}/imp").into()
}

impl std::fmt::Debug for ClickRoutes {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ClickRoutes")
            .field("mount", &self.mount)
            .field("impressions", &self.impressions)
            .finish_non_exhaustive()
    }
}

/// What a click request came to, beside its answer.
#[derive(Debug)]
pub struct ClickAnswer {
    /// The answer to send: a `302` (or a `404` for an unknown campaign).
    pub response: Response,
    /// What happened, for logs and counters.
    pub event: ClickEvent,
    /// The link as the tracker verified it (a path and query: for logs).
    pub link: String,
}

/// What happened to a click request.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum ClickEvent {
    /// A person's click, counted; a token was issued (or an earlier one kept).
    Click {
        /// The click's id.
        click_id: ClickId,
        /// Counted as a unique click.
        unique: bool,
        /// The link's `sid` was invalid and dropped (the click still counts).
        dropped_sid: bool,
        /// Why the link's `to=` page was not followed, if it was not.
        refused_to: Option<Error>,
    },
    /// A bot's, crawler's or link preview's click: counted as a bot click, no token.
    Bot {
        /// Why the link's `to=` page was not followed, if it was not.
        refused_to: Option<Error>,
    },
    /// A `HEAD` request: where a click would land; nothing counted.
    Preview,
    /// The link credits nobody (forged, unknown campaign or partner, paused): nothing
    /// counted.
    Refused(Error),
}

impl ClickRoutes {
    /// The click routes of `tracker`, mounted at the path of its links' base URL
    /// (`/go` for links `https://shop.example/go/…`), and the impression routes beside
    /// them (`/imp`).
    #[must_use]
    pub fn new(tracker: Arc<Tracker>) -> ClickRoutes {
        let mount: Arc<str> = tracker.signer().base_path().into();
        let impressions = impressions_beside(&mount);
        ClickRoutes {
            tracker,
            mount,
            impressions,
        }
    }

    /// Serves the links at `mount` instead: for an app behind a proxy that strips a
    /// prefix of the public URL (links `https://t.example/track/go/…` reach the app as
    /// `/go/…`: `mounted_at("/go")`), the impressions beside it (`/imp`). A trailing
    /// `/` is ignored; `/` is added in front when missing.
    #[must_use]
    pub fn mounted_at(mut self, mount: &str) -> ClickRoutes {
        self.mount = normalise(mount);
        self.impressions = impressions_beside(&self.mount);
        self
    }

    /// Serves the impression links at `mount` instead of beside the click mount.
    #[must_use]
    pub fn impressions_at(mut self, mount: &str) -> ClickRoutes {
        self.impressions = normalise(mount);
        self
    }

    /// A router with `GET` and `HEAD` on `{mount}/{*link}` (clicks) and
    /// `{impressions}/{*link}` (impressions), to merge into the app's.
    pub fn router<S: Clone + Send + Sync + 'static>(self) -> Router<S> {
        let clicks = format!("{}/{{*link}}", self.mount);
        let impressions = format!("{}/{{*link}}", self.impressions);
        Router::new()
            .route(&clicks, get(get_click).head(head_click))
            .route(
                &impressions,
                get(super::pixel::get_impression).head(super::pixel::head_impression),
            )
            .with_state(self)
    }

    /// The link a request names: the links' base path, then what follows the mount.
    #[must_use]
    pub fn link_target(&self, uri: &Uri) -> String {
        let pq = uri.path_and_query().map_or("/", |pq| pq.as_str());
        let rest = pq.strip_prefix(&*self.mount).unwrap_or(pq);
        let base = self.tracker.signer().base_path();
        let mut link = String::with_capacity(base.len() + rest.len());
        link.push_str(base);
        link.push_str(rest);
        link
    }

    /// The answer to a `GET` of `uri` with `headers` (its `Cookie` headers give the
    /// visitor's earlier token, its `User-Agent` tells bots). Counts the click.
    pub fn click(&self, uri: &Uri, headers: &HeaderMap) -> ClickAnswer {
        let link = self.link_target(uri);
        let prior = super::cookie_token(&self.tracker, headers);
        // A user agent that is not text is no browser's.
        let agent = headers
            .get(USER_AGENT)
            .map_or("", |v| v.to_str().unwrap_or(""));
        let (response, event) = match self.tracker.visit(&link, prior, Some(agent)) {
            Ok(Landing::Bot {
                location,
                refused_to,
            }) => (redirect(location, None), ClickEvent::Bot { refused_to }),
            Ok(Landing::Click(out)) => (
                redirect(out.location, out.set_cookie),
                ClickEvent::Click {
                    click_id: out.click_id,
                    unique: out.unique,
                    dropped_sid: out.dropped_sid,
                    refused_to: out.refused_to,
                },
            ),
            Err(refusal) => refused(refusal),
        };
        ClickAnswer {
            response,
            event,
            link,
        }
    }

    /// The answer to a `HEAD` of `uri`: the status and `Location` a `GET` would get,
    /// without a token; issues nothing, sets no cookie, counts nothing (link checkers
    /// and unfurlers use `HEAD`).
    pub fn preview(&self, uri: &Uri) -> ClickAnswer {
        let link = self.link_target(uri);
        let (response, event) = match self.tracker.preview_click(&link) {
            Ok(location) => (redirect(location, None), ClickEvent::Preview),
            Err(refusal) => refused(refusal),
        };
        ClickAnswer {
            response,
            event,
            link,
        }
    }
}

/// A mount path: no trailing `/`, one in front.
fn normalise(mount: &str) -> Arc<str> {
    let mount = mount.trim_end_matches('/');
    if mount.is_empty() || mount.starts_with('/') {
        mount.into()
    } else {
        format!("/{mount}").into()
    }
}

async fn get_click(State(routes): State<ClickRoutes>, req: Request) -> Response {
    routes.click(req.uri(), req.headers()).response
}

async fn head_click(State(routes): State<ClickRoutes>, uri: Uri) -> Response {
    routes.preview(&uri).response
}

/// A `302` to `location`, never cached, with the cookie if any. Both values are built
/// by the core from validated parts; one that is not a header value would be a bug,
/// answered `500`.
pub(super) fn redirect(location: String, cookie: Option<String>) -> Response {
    let (Ok(location), Ok(cookie)) = (
        HeaderValue::try_from(location),
        cookie.map(HeaderValue::try_from).transpose(),
    ) else {
        return StatusCode::INTERNAL_SERVER_ERROR.into_response();
    };
    let mut resp = StatusCode::FOUND.into_response();
    let h = resp.headers_mut();
    h.insert(LOCATION, location);
    h.insert(CACHE_CONTROL, HeaderValue::from_static("no-store"));
    if let Some(cookie) = cookie {
        h.insert(SET_COOKIE, cookie);
    }
    resp
}

/// A click that credits nobody: the campaign's destination, or 404 for an unknown
/// campaign; the event says why.
fn refused(refusal: Refusal) -> (Response, ClickEvent) {
    let response = match refusal.fallback {
        Some(destination) => redirect(destination, None),
        None => {
            let mut resp = refusal.error.clone().into_response();
            *resp.status_mut() = StatusCode::NOT_FOUND;
            resp
        }
    };
    (response, ClickEvent::Refused(refusal.error))
}
