//! The `GET`/`HEAD /imp/…` impression handler and the 1×1 GIF every pixel answers.

use axum::extract::State;
use axum::http::header::{CACHE_CONTROL, CONTENT_TYPE};
use axum::http::{HeaderName, HeaderValue, Uri};
use axum::response::{IntoResponse, Response};

use super::ClickRoutes;
use crate::Error;

/// A 1×1 transparent GIF89a (43 bytes).
pub const PIXEL_GIF: &[u8] = &[
    0x47, 0x49, 0x46, 0x38, 0x39, 0x61, 0x01, 0x00, 0x01, 0x00, 0x80, 0x00, 0x00, 0x00, 0x00, 0x00,
    0xff, 0xff, 0xff, 0x21, 0xf9, 0x04, 0x01, 0x00, 0x00, 0x00, 0x00, 0x2c, 0x00, 0x00, 0x00, 0x00,
    0x01, 0x00, 0x01, 0x00, 0x00, 0x02, 0x02, 0x44, 0x01, 0x00, 0x3b,
];

/// [`PIXEL_GIF`], never cached, with `X-Affiliate-Result: {result}` (`ok`, `created`,
/// `duplicate` or an error code) for whoever debugs a pixel.
#[must_use]
pub fn pixel(result: &'static str) -> Response {
    (
        [
            (CONTENT_TYPE, HeaderValue::from_static("image/gif")),
            (CACHE_CONTROL, HeaderValue::from_static("no-store")),
            (
                HeaderName::from_static("x-affiliate-result"),
                HeaderValue::from_static(result),
            ),
        ],
        PIXEL_GIF,
    )
        .into_response()
}

/// What an impression request came to, beside its answer.
#[derive(Debug)]
pub struct ImpressionAnswer {
    /// The answer to send: always `200` and [`PIXEL_GIF`].
    pub response: Response,
    /// Why it credited nobody, if it did not (`Ok` for a counted impression, or a
    /// `HEAD` that would count).
    pub result: Result<(), Error>,
    /// The link as the tracker verified it (a path and query: for logs).
    pub link: String,
}

impl ClickRoutes {
    /// The link an impression request names: impression links are click links served
    /// under the impression mount (`/imp/spring/ann?sig=…` is the link
    /// `/go/spring/ann?sig=…`).
    #[must_use]
    pub fn impression_target(&self, uri: &Uri) -> String {
        let pq = uri.path_and_query().map_or("/", |pq| pq.as_str());
        let rest = pq.strip_prefix(&*self.impressions).unwrap_or(pq);
        format!("{}{rest}", self.tracker.signer().base_path())
    }

    /// The answer to a `GET` of an impression `uri`: counts it (and the campaign's
    /// per-mille commission); always the GIF.
    pub fn impression(&self, uri: &Uri) -> ImpressionAnswer {
        let link = self.impression_target(uri);
        let result = self.tracker.impression(&link);
        answer(result, link)
    }

    /// The answer to a `HEAD` of an impression `uri`: what a `GET` would answer,
    /// counting nothing.
    pub fn impression_preview(&self, uri: &Uri) -> ImpressionAnswer {
        let link = self.impression_target(uri);
        let result = self.tracker.check_impression(&link).map(drop);
        answer(result, link)
    }
}

fn answer(result: Result<(), Error>, link: String) -> ImpressionAnswer {
    let response = pixel(result.as_ref().err().map_or("ok", Error::code));
    ImpressionAnswer {
        response,
        result,
        link,
    }
}

pub(super) async fn get_impression(State(routes): State<ClickRoutes>, uri: Uri) -> Response {
    routes.impression(&uri).response
}

pub(super) async fn head_impression(State(routes): State<ClickRoutes>, uri: Uri) -> Response {
    routes.impression_preview(&uri).response
}
