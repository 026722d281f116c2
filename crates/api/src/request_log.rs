//! Request ids, the one log line per request, and the panic guard.

use std::future::Future;
use std::panic::AssertUnwindSafe;
use std::time::Instant;

use axum::extract::{MatchedPath, Request};
use axum::http::HeaderName;
use axum::response::{IntoResponse, Response};
use consoled_core::ConsoleError;
use futures_util::FutureExt;
use tracing::Instrument;

use crate::errors::ApiError;
use crate::metrics::{ApiMetrics, UNMATCHED};
use crate::request_id::RequestId;

const X_OPENSTACK_REQUEST_ID: HeaderName = HeaderName::from_static("x-openstack-request-id");
const X_COMPUTE_REQUEST_ID: HeaderName = HeaderName::from_static("x-compute-request-id");

/// Gives the request an `x-openstack-request-id`, runs `inner` on it in a
/// span carrying that id (so that every line it logs names it), and logs
/// one line when it is answered; counts it in `metrics`, if any.
///
/// The line and the metrics name the route template, never the path: a
/// console auth token travels in the path.
pub(crate) async fn logged<F, Fut>(
    metrics: Option<&ApiMetrics>,
    request: Request,
    inner: F,
) -> Response
where
    F: FnOnce(Request) -> Fut,
    Fut: Future<Output = Response>,
{
    let started = Instant::now();
    let request_id = RequestId::new();
    let method = request.method().clone();
    let route = request.extensions().get::<MatchedPath>().cloned();
    let span = tracing::info_span!("request", request_id = %request_id);
    let mut response = inner(request).instrument(span.clone()).await;
    if let Some(value) = request_id.header_value() {
        let headers = response.headers_mut();
        headers.insert(X_OPENSTACK_REQUEST_ID, value.clone());
        headers.insert(X_COMPUTE_REQUEST_ID, value);
    }
    let took = started.elapsed();
    let route = route.as_ref().map_or(UNMATCHED, MatchedPath::as_str);
    span.in_scope(|| {
        tracing::info!(
            method = %method,
            route = %route,
            status = response.status().as_u16(),
            latency_ms = took.as_secs_f64() * 1000.0,
            "request answered"
        );
    });
    if let Some(metrics) = metrics {
        metrics.answered(route, response.status(), took);
    }
    response
}

/// A panic while `handling` one request becomes a 500 for that request;
/// the connection and the service carry on.
pub(crate) async fn unwound(handling: impl Future<Output = Response>) -> Response {
    // Unwind safety: the request's own state is dropped with the panic;
    // shared state is behind the dispatcher's own guards.
    match AssertUnwindSafe(handling).catch_unwind().await {
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
