//! The HTTP app: every endpoint of the tracker routed to its handler (`routes/`), and
//! the service that sends clicks, the hot path, straight to theirs.

use axum::Router;
use axum::extract::{Request, State};
use axum::http::header::CONTENT_TYPE;
use axum::http::{HeaderValue, Method, StatusCode};
use axum::response::Response;
use axum::routing::{delete, get, patch, post};
use tower_http::cors::{AllowOrigin, CorsLayer};

use crate::http::ApiError;
pub use crate::http::{AppState, MAX_BODY_BYTES, Shared, cookie_token};
use crate::routes::{
    adjustments, catalogue, clicks, conversions, ops, pages, partner, payouts, portal, postback,
    reports, review, traffic, webhooks,
};

/// The service to serve: clicks (`GET /go/…`, the hot path) go straight to their
/// handler; everything else (`HEAD /go/…` included) through [`router`].
pub fn service(
    state: Shared,
    allowed_origins: Vec<String>,
) -> impl tower::Service<
    Request,
    Response = Response,
    Error = std::convert::Infallible,
    Future = impl Send,
> + Clone
+ Send
+ 'static {
    use tower::ServiceExt as _;
    let router = router(state.clone(), &allowed_origins);
    tower::service_fn(move |req: Request| {
        let (state, router) = (state.clone(), router.clone());
        async move {
            if req.method() == Method::GET && req.uri().path().starts_with("/go/") {
                Ok(clicks::click(State(state), req).await)
            } else {
                router.oneshot(req).await
            }
        }
    })
}

/// The router: every endpoint, plus the demo shop when `state.demo`.
pub fn router(state: Shared, allowed_origins: &[String]) -> Router {
    let origins: Vec<HeaderValue> = allowed_origins
        .iter()
        .filter_map(|o| HeaderValue::from_str(o).ok())
        .collect();
    let cors = CorsLayer::new()
        .allow_origin(AllowOrigin::list(origins))
        .allow_methods([Method::POST])
        .allow_headers([CONTENT_TYPE])
        .allow_credentials(true);
    // The snippet's token check: a simple GET, no credentials.
    let cors_check = CorsLayer::new()
        .allow_origin(AllowOrigin::list(
            allowed_origins
                .iter()
                .filter_map(|o| HeaderValue::from_str(o).ok()),
        ))
        .allow_methods([Method::GET]);
    let mut app = Router::new()
        // An explicit HEAD handler: axum would otherwise run the GET handler for HEAD
        // (issuing a token, counting a click) and drop the body.
        .route("/go/{*link}", get(clicks::click).head(clicks::click_head))
        .route(
            "/imp/{*link}",
            get(clicks::impression).head(clicks::impression_head),
        )
        .route("/px.gif", get(conversions::pixel))
        .route("/v1/token", get(clicks::verify_token).layer(cors_check))
        .route(
            "/v1/conversions",
            // The CORS layer answers the preflight OPTIONS itself.
            post(conversions::beacon)
                .options(|| async {})
                .layer(cors)
                .get(review::list),
        )
        .route("/v1/conversions.csv", get(review::csv))
        .route("/v1/conversions/status", post(review::bulk_status))
        .route(
            "/v1/postback",
            post(conversions::postback).get(postback::get),
        )
        .route(
            "/v1/postback-keys",
            get(postback::list).post(postback::create),
        )
        .route("/v1/postback-keys/{id}", delete(postback::revoke))
        .route(
            "/v1/customers/{customer_id}",
            delete(review::erase_customer),
        )
        .route("/v1/conversions/manual", post(conversions::manual))
        .route("/v1/conversions/approve-due", post(payouts::approve_due))
        .route(
            "/v1/conversions/{order_id}/refunds",
            post(conversions::refund),
        )
        .route("/v1/conversions/{order_id}", get(conversions::conversion))
        .route(
            "/v1/conversions/{order_id}/status",
            post(conversions::set_status),
        )
        .route("/v1/stats", get(reports::stats))
        .route("/v1/stats.csv", get(reports::stats_csv))
        .route("/v1/balances", get(reports::balances))
        .route("/v1/payouts", get(payouts::list).post(payouts::create))
        .route(
            "/v1/adjustments",
            get(adjustments::list).post(adjustments::create),
        )
        .route("/v1/adjustments.csv", get(adjustments::csv))
        .route("/v1/traffic", get(traffic::list))
        .route("/v1/traffic/close", post(traffic::close))
        .route(
            "/v1/traffic/{day}/{campaign}/{partner}/reject",
            post(traffic::reject),
        )
        .route("/v1/payouts.csv", get(payouts::csv))
        .route("/v1/payouts/{id}", get(payouts::one))
        .route("/v1/payouts/{id}/status", post(payouts::status))
        .route("/v1/webhooks", get(webhooks::list).post(webhooks::create))
        .route("/v1/webhooks/{id}", delete(webhooks::delete))
        .route("/v1/webhooks/{id}/deliveries", get(webhooks::deliveries))
        .route(
            "/v1/webhooks/{id}/deliveries/{delivery}/retry",
            post(webhooks::retry),
        )
        .route(
            "/v1/campaigns",
            get(catalogue::campaigns).post(catalogue::create_campaign),
        )
        .route(
            "/v1/campaigns/{code}",
            get(catalogue::campaign).patch(catalogue::update_campaign),
        )
        .route(
            "/v1/partners",
            get(catalogue::partners).post(catalogue::create_partner),
        )
        .route(
            "/v1/partners/{code}",
            get(catalogue::partner).patch(catalogue::update_partner),
        )
        .route("/v1/partners/{code}/coupons", post(catalogue::add_coupon))
        .route("/v1/coupons/{code}", delete(catalogue::remove_coupon))
        .route("/v1/links", post(catalogue::link))
        .route(
            "/v1/partners/{code}/keys",
            get(portal::keys).post(portal::create_key),
        )
        .route("/v1/partners/{code}/keys/{id}", delete(portal::revoke_key))
        .route("/v1/partners/{code}/portal-link", post(portal::portal_link))
        .route("/v1/partner/me", get(partner::me).patch(partner::update_me))
        .route("/v1/partner/links", post(partner::link))
        .route(
            "/v1/partner/ads",
            get(partner::ads).post(partner::create_ad),
        )
        .route("/v1/partner/ads/{code}", patch(partner::update_ad))
        .route("/v1/partner/stats", get(partner::stats))
        .route("/v1/partner/conversions", get(partner::conversions))
        .route("/v1/partner/balance", get(partner::balance))
        .route("/v1/partner/payouts", get(partner::payouts))
        .route("/v1/partner/adjustments", get(partner::adjustments))
        .route("/v1/partner/traffic", get(partner::traffic))
        .route("/v1/partner/postbacks", get(partner::postbacks))
        .route("/portal", get(portal::page))
        .route("/portal/portal.js", get(portal::script))
        .route("/portal/login", get(portal::login))
        .route("/portal/logout", post(portal::logout))
        .route("/snippet.js", get(pages::snippet))
        .route("/dashboard", get(pages::dashboard))
        .route("/dashboard/{file}", get(pages::dashboard_asset))
        .route("/healthz", get(ops::healthz))
        .route("/readyz", get(ops::readyz))
        .route("/metrics", get(ops::metrics))
        .route("/openapi.json", get(crate::openapi::openapi_json));
    if state.demo {
        app = app.merge(crate::demo::router());
    }
    app.fallback(|| async { ApiError::new(StatusCode::NOT_FOUND, "not_found", "no such endpoint") })
        .method_not_allowed_fallback(|| async {
            ApiError::new(
                StatusCode::METHOD_NOT_ALLOWED,
                "malformed",
                "method not allowed on this endpoint",
            )
        })
        .with_state(state)
}
