#![doc = include_str!("../README.md")]

mod actions;
mod admin;
mod auth_tokens;
mod body;
mod consoles;
mod errors;
mod identity;
mod links;
mod metrics;
mod negotiation;
mod remote_console_body;
mod request_id;
mod request_log;
mod schema;
mod screenshots;
mod servers;
mod state;
mod version;

use std::sync::Arc;

use axum::extract::{Request, State};
use axum::middleware::Next;
use axum::response::Response;
use axum::routing::{get, post};
use axum::Router;

pub use admin::admin_router;
pub use body::MAX_BODY_BYTES;
pub use errors::ApiError;
pub use identity::{Caller, CallerRejection, IdentityProvider, NoAuth};
pub use metrics::ApiMetrics;
pub use negotiation::ApiVersion;
pub use state::ApiState;

/// The compute API's console routes and consoled's own (under
/// `/consoled/`), ready to serve or to mount.
///
/// Every route answers Nova fault bodies on error and carries an
/// `x-openstack-request-id`; Nova's routes also negotiate and echo the
/// microversion.
pub fn router(state: ApiState) -> Router {
    Router::new()
        .route("/", get(version::versions))
        .route("/v2.1", get(version::current))
        .route("/v2.1/", get(version::current))
        .route("/v2.1/servers", get(servers::list))
        .route("/v2.1/servers/detail", get(servers::list_detail))
        .route("/v2.1/servers/{server_id}", get(servers::show))
        .route("/v2.1/servers/{server_id}/action", post(actions::action))
        .route(
            "/v2.1/servers/{server_id}/remote-consoles",
            post(consoles::create),
        )
        .route(
            "/v2.1/os-console-auth-tokens/{token}",
            get(auth_tokens::show),
        )
        .route(
            "/consoled/v1/servers/{server_id}/screenshot",
            get(screenshots::take),
        )
        // Must follow the routes: it applies to those already added.
        .method_not_allowed_fallback(errors::bad_method)
        .fallback(errors::not_found)
        .layer(axum::middleware::from_fn_with_state(
            state.metrics.clone(),
            envelope,
        ))
        .with_state(state)
}

/// What wraps every request, outermost first: its id, log line and
/// metrics, its microversion and version headers, the panic guard.
///
/// One middleware rather than one each: every `from_fn` layer clones the
/// service below it and boxes a future per request.
async fn envelope(
    State(metrics): State<Option<Arc<ApiMetrics>>>,
    request: Request,
    next: Next,
) -> Response {
    request_log::logged(metrics.as_deref(), request, |request| {
        negotiation::negotiated(request, |request| request_log::unwound(next.run(request)))
    })
    .await
}
