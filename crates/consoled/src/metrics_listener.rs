//! The operator's listener (`[metrics] listen`): Prometheus' `GET
//! /metrics`, and room for the operator's other routes.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use axum::extract::State;
use axum::http::header::CONTENT_TYPE;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::Router;
use consoled_core::prometheus_client::encoding::prometheus_text::{encode, CONTENT_TYPE as TEXT};
use consoled_core::prometheus_client::registry::Registry;

use crate::http_listener;
use crate::serve::Service;
use crate::shutdown::Shutdown;

/// Where Prometheus scrapes.
pub const METRICS_PATH: &str = "/metrics";

/// The listener's routes: `GET /metrics` in Prometheus' text format
/// (version 0.0.4) from `registry`. Merge other operator routes into it
/// (`router(registry).merge(admin)`), each with its own state.
pub fn router(registry: Arc<Registry>) -> Router {
    Router::new()
        .route(METRICS_PATH, get(scrape))
        .with_state(registry)
}

async fn scrape(State(registry): State<Arc<Registry>>) -> Response {
    let mut text = String::new();
    match encode(&mut text, &registry) {
        Ok(()) => ([(CONTENT_TYPE, TEXT)], text).into_response(),
        // Only a collector's own error gets here; the scrape fails visibly.
        Err(_) => {
            tracing::error!("metrics could not be encoded");
            StatusCode::INTERNAL_SERVER_ERROR.into_response()
        }
    }
}

/// Serves `app` on `listen`, giving each client `head_timeout` for a
/// request head, until `shutdown`; then drains as the API does. Returns the
/// service and the bound address.
///
/// # Errors
/// When `listen` cannot be bound.
pub async fn service(
    listen: SocketAddr,
    app: Router,
    head_timeout: Duration,
    shutdown: Shutdown,
) -> Result<(Service, SocketAddr), String> {
    let listener = tokio::net::TcpListener::bind(listen)
        .await
        .map_err(|e| format!("metrics.listen: cannot listen on {listen}: {e}"))?;
    let bound = listener
        .local_addr()
        .map_err(|e| format!("metrics.listen: {e}"))?;
    tracing::info!("metrics served at http://{bound}{METRICS_PATH}");
    let service: Service = Box::pin(async move {
        http_listener::serve(listener, app, head_timeout, shutdown.wait()).await;
        Ok(())
    });
    Ok((service, bound))
}
