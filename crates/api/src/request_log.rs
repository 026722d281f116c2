//! Request ids, the one log line per request, and the panic guard.

use std::panic::AssertUnwindSafe;
use std::time::Instant;

use axum::extract::{MatchedPath, Request};
use axum::http::HeaderValue;
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use consoled_core::ConsoleError;
use futures_util::FutureExt;
use tracing::Instrument;

use crate::errors::ApiError;

/// Middleware: gives the request an `x-openstack-request-id`, runs it in a
/// span carrying that id (so that every line it logs names it), and logs
/// one line when it is answered.
///
/// The line names the route template, never the path: a console auth
/// token travels in the path.
pub(crate) async fn log_request(request: Request, next: Next) -> Response {
    let started = Instant::now();
    let request_id = format!("req-{}", uuid::Uuid::new_v4());
    let method = request.method().clone();
    let route = request
        .extensions()
        .get::<MatchedPath>()
        .map_or_else(|| "(unmatched)".to_owned(), |p| p.as_str().to_owned());
    let span = tracing::info_span!("request", request_id = %request_id);
    let mut response = next.run(request).instrument(span.clone()).await;
    if let Ok(value) = HeaderValue::from_str(&request_id) {
        response
            .headers_mut()
            .insert("x-openstack-request-id", value.clone());
        response.headers_mut().insert("x-compute-request-id", value);
    }
    span.in_scope(|| {
        tracing::info!(
            method = %method,
            route = %route,
            status = response.status().as_u16(),
            latency_ms = started.elapsed().as_secs_f64() * 1000.0,
            "request answered"
        );
    });
    response
}

/// Middleware: a panic while handling one request becomes a 500 for that
/// request; the connection and the service carry on.
pub(crate) async fn catch_panic(request: Request, next: Next) -> Response {
    // Unwind safety: the request's own state is dropped with the panic;
    // shared state is behind the dispatcher's own guards.
    match AssertUnwindSafe(next.run(request)).catch_unwind().await {
        Ok(response) => response,
        Err(panic) => {
            let detail = panic
                .downcast_ref::<&str>()
                .map(|s| (*s).to_owned())
                .or_else(|| panic.downcast_ref::<String>().cloned())
                .unwrap_or_else(|| "non-string panic payload".to_owned());
            ApiError(ConsoleError::Internal(format!(
                "handler panicked: {detail}"
            )))
            .into_response()
        }
    }
}
