//! The one place that turns a [`ConsoleError`] into a Nova fault response.

use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use consoled_core::ConsoleError;

/// An error answered as Nova answers it:
/// `{"<faultName>": {"code": N, "message": "..."}}` with `application/json`.
///
/// Server faults (5xx) are logged here in full; the client sees only
/// [`ConsoleError::public_message`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApiError(pub ConsoleError);

impl From<ConsoleError> for ApiError {
    fn from(e: ConsoleError) -> Self {
        ApiError(e)
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let e = self.0;
        let code = e.status();
        if e.is_server_fault() {
            tracing::error!(status = code, error = %e, "request failed on our side");
        }
        let body = serde_json::json!({
            e.fault_name(): { "code": code, "message": e.public_message() }
        });
        let status = StatusCode::from_u16(code).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
        let mut response = (status, body.to_string()).into_response();
        response.headers_mut().insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/json"),
        );
        response
    }
}

/// Fallback for a path no route knows.
pub(crate) async fn not_found() -> ApiError {
    ApiError(ConsoleError::NotFound(
        "The resource could not be found.".into(),
    ))
}

/// Fallback for a known path asked with the wrong method.
pub(crate) async fn bad_method() -> ApiError {
    ApiError(ConsoleError::BadMethod(
        "The requested method is not allowed for this resource.".into(),
    ))
}

/// The 404 of a route that exists in other microversions only, worded as
/// Nova words it.
pub(crate) fn not_in_version() -> ApiError {
    ApiError(ConsoleError::NotFound(
        "The resource could not be found.".into(),
    ))
}

/// A path parameter, or a 404 when it cannot be read (not UTF-8, ...).
pub(crate) fn path_param(
    param: Result<axum::extract::Path<String>, axum::extract::rejection::PathRejection>,
) -> Result<String, ApiError> {
    param.map(|p| p.0).map_err(|_| not_in_version())
}
