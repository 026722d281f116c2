//! `GET /consoled/v1/servers/{server_id}/screenshot`: a PNG of the
//! server's VNC screen, with the identity and policy of a console.

use axum::extract::rejection::PathRejection;
use axum::extract::{Path, State};
use axum::http::{header, HeaderValue};
use axum::response::{IntoResponse, Response};
use consoled_core::ConsoleError;
use consoled_rfb::{capture, ScreenshotOptions};

use crate::errors::{path_param, ApiError};
use crate::identity::Caller;
use crate::state::ApiState;

/// The protocol whose screen is taken.
const VNC: &str = "vnc";

/// Takes the screenshot: the dispatcher's checks for a VNC console (404,
/// 403, 409, 501, 400), then the vnc driver's own connect (through the
/// security proxy where `[vnc]` has one) and the RFB client; a VNC server
/// that cannot be reached or read is a 503.
pub(crate) async fn take(
    State(state): State<ApiState>,
    Caller(identity): Caller,
    server_id: Result<Path<String>, PathRejection>,
) -> Result<Response, ApiError> {
    let server_id = path_param(server_id)?;
    let backend = state
        .dispatcher
        .console_backend(&identity, &server_id, VNC)
        .await?;
    let place = backend
        .record()
        .connect
        .unix_socket
        .clone()
        .unwrap_or_else(|| {
            let connect = &backend.record().connect;
            format!("{}:{}", connect.host, connect.port)
        });
    let unreachable = |detail: ConsoleError| {
        if detail.status() != 503 {
            return ApiError(detail);
        }
        // Where the VNC server is stays in our log: a project member is
        // not told the hypervisor's addresses.
        tracing::warn!(server_id, error = %detail, "screenshot failed");
        ApiError(ConsoleError::ServiceUnavailable(format!(
            "The VNC console of instance {server_id} cannot be reached."
        )))
    };
    let stream = backend.open().await.map_err(unreachable)?;
    let shot = capture(stream, &ScreenshotOptions::default())
        .await
        .map_err(|e| unreachable(e.into_console_error(&place)))?;
    let png = shot
        .screen
        .to_png()
        .map_err(|e| ApiError(ConsoleError::Internal(e.to_string())))?;
    tracing::info!(server_id, screen = %shot.summary(), "screenshot taken");
    Ok((
        [
            (header::CONTENT_TYPE, HeaderValue::from_static("image/png")),
            (header::CACHE_CONTROL, HeaderValue::from_static("no-store")),
        ],
        png,
    )
        .into_response())
}
