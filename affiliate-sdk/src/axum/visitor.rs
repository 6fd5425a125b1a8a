//! The visitor's verified session, as a handler argument.

use axum::extract::FromRequestParts;
use axum::http::StatusCode;
use axum::http::request::Parts;
use axum::response::{IntoResponse, Response};

use super::Tracker;
use crate::TokenClaims;
use std::sync::Arc;

/// The visitor's session: the first token in the request's `Cookie` headers whose
/// signature and expiry verify, with its claims. No store is read.
///
/// Take it as `Option<Visitor>` (none when the visitor has no valid token). The
/// tracker comes from the request's extensions, where [`LandingLayer`](super::LandingLayer)
/// puts it; without the layer the extractor answers `500` with a message saying so.
#[derive(Clone, PartialEq, Eq)]
pub struct Visitor {
    /// The session token (pass it to a conversion as `token`).
    pub token: String,
    /// What it says: click id, campaign, partner, ad, sid, issue and expiry times.
    pub claims: TokenClaims,
}

impl std::fmt::Debug for Visitor {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // The token is a credential of the visitor's: not for logs.
        f.debug_struct("Visitor")
            .field("token", &"<redacted>")
            .field("claims", &self.claims)
            .finish()
    }
}

/// Why [`Visitor`] was not extracted.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum VisitorRejection {
    /// No token in the cookies verifies (none, forged, expired).
    NoSession,
    /// The app has no [`LandingLayer`](super::LandingLayer), so no tracker to verify with.
    NoTracker,
}

impl IntoResponse for VisitorRejection {
    fn into_response(self) -> Response {
        match self {
            VisitorRejection::NoSession => {
                (StatusCode::UNAUTHORIZED, "no affiliate session\n").into_response()
            }
            VisitorRejection::NoTracker => (
                StatusCode::INTERNAL_SERVER_ERROR,
                "affiliate_sdk::axum::Visitor needs the LandingLayer on the app\n",
            )
                .into_response(),
        }
    }
}

impl<S: Send + Sync> FromRequestParts<S> for Visitor {
    type Rejection = VisitorRejection;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Visitor, VisitorRejection> {
        let tracker = parts
            .extensions
            .get::<Arc<Tracker>>()
            .ok_or(VisitorRejection::NoTracker)?;
        Visitor::from_headers(tracker, &parts.headers).ok_or(VisitorRejection::NoSession)
    }
}

impl<S: Send + Sync> axum::extract::OptionalFromRequestParts<S> for Visitor {
    type Rejection = VisitorRejection;

    async fn from_request_parts(
        parts: &mut Parts,
        _: &S,
    ) -> Result<Option<Visitor>, VisitorRejection> {
        let tracker = parts
            .extensions
            .get::<Arc<Tracker>>()
            .ok_or(VisitorRejection::NoTracker)?;
        Ok(Visitor::from_headers(tracker, &parts.headers))
    }
}

impl Visitor {
    /// The session of a request's headers, verified by `tracker`, if any.
    pub fn from_headers(tracker: &Tracker, headers: &axum::http::HeaderMap) -> Option<Visitor> {
        let token = super::cookie_token(tracker, headers)?;
        let claims = tracker.verify_token(token).ok()?.claims();
        Some(Visitor {
            token: token.to_owned(),
            claims,
        })
    }
}
