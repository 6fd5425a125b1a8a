//! The core [`Error`](crate::Error) as an HTTP answer.

use axum::http::header::CONTENT_TYPE;
use axum::http::{HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};

/// The status of [`Error::http_status`](crate::Error::http_status) and the HTTP API's
/// error body: `{"error":{"code":"…","message":"…"}}`. The message never holds a
/// secret (see [`Error`](crate::Error)).
impl IntoResponse for crate::Error {
    fn into_response(self) -> Response {
        let status =
            StatusCode::from_u16(self.http_status()).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
        let body = serde_json::json!({
            "error": {"code": self.code(), "message": self.to_string()}
        });
        (
            status,
            [(CONTENT_TYPE, HeaderValue::from_static("application/json"))],
            body.to_string(),
        )
            .into_response()
    }
}
