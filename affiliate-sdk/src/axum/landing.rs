//! The landing step as a tower layer.

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};

use axum::http::Request;
use axum::response::{IntoResponse, Response};
use tower_layer::Layer;
use tower_service::Service;

use super::Tracker;
use crate::LandingRedirect;

/// The landing step of [`Tracker::landing`] for every request of the app it wraps: a
/// `GET` or `HEAD` with a fresh, valid token in `?aff_token=` is answered at once with
/// a `302` to the same path and query without the token, a first-party `HttpOnly`
/// cookie holding it (set by the shop's own response, so Safari keeps it for the
/// campaign's whole window) and `Cache-Control: no-store`. A missing, stale, forged or
/// mangled token changes nothing: the request reaches the app as it came. No store is
/// read, nothing blocks.
///
/// It also puts the tracker (`Arc<Tracker>`) in each request's extensions, where the
/// [`Visitor`](super::Visitor) extractor finds it.
#[derive(Clone)]
pub struct LandingLayer {
    tracker: Arc<Tracker>,
}

impl LandingLayer {
    /// The landing step of `tracker`.
    #[must_use]
    pub fn new(tracker: Arc<Tracker>) -> LandingLayer {
        LandingLayer { tracker }
    }
}

impl std::fmt::Debug for LandingLayer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LandingLayer").finish_non_exhaustive()
    }
}

impl<S> Layer<S> for LandingLayer {
    type Service = LandingService<S>;

    fn layer(&self, inner: S) -> LandingService<S> {
        LandingService {
            inner,
            tracker: self.tracker.clone(),
        }
    }
}

/// The service [`LandingLayer`] wraps an app in.
#[derive(Clone)]
pub struct LandingService<S> {
    inner: S,
    tracker: Arc<Tracker>,
}

impl<S> std::fmt::Debug for LandingService<S> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LandingService").finish_non_exhaustive()
    }
}

impl<S, B> Service<Request<B>> for LandingService<S>
where
    S: Service<Request<B>>,
    S::Response: IntoResponse,
    S::Error: Send + 'static,
    S::Future: Send + 'static,
{
    type Response = Response;
    type Error = S::Error;
    type Future = Pin<Box<dyn Future<Output = Result<Response, S::Error>> + Send>>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), S::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, mut req: Request<B>) -> Self::Future {
        let uri = req.uri();
        if let Some(query) = uri.query()
            && let Ok(Some(landing)) =
                self.tracker
                    .landing(req.method().as_str(), uri.path(), query)
        {
            let resp = redirect(landing);
            return Box::pin(async move { Ok(resp) });
        }
        req.extensions_mut().insert(self.tracker.clone());
        let fut = self.inner.call(req);
        Box::pin(async move { fut.await.map(IntoResponse::into_response) })
    }
}

/// The `302` of a landing: the click routes' redirect, with the landing's cookie.
fn redirect(landing: LandingRedirect) -> Response {
    super::click::redirect(landing.location, Some(landing.set_cookie))
}
