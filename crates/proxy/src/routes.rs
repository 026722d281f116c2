//! Where a request goes: the health check, a console session, a page of
//! the web root, or a refusal.

use std::net::SocketAddr;
use std::sync::Arc;

use consoled_core::Front;
use http::{HeaderMap, Request, Response, StatusCode};

use crate::context::ListenerContext;
use crate::pages::is_open_redirect;
use crate::reply::{empty, Body};
use crate::session::{websocket_session, PendingSession, Refusal};
use crate::{health, websocket};

/// Answers one request hyper read; a `101` comes with the session to run
/// once hyper hands the connection over.
pub(crate) async fn answer<B: Send + 'static>(
    ctx: Arc<ListenerContext>,
    request: Request<B>,
    peer: SocketAddr,
) -> (Response<Body>, Option<PendingSession>) {
    if is_open_redirect(request.uri().path()) {
        return (refuse(&ctx, &request, peer, StatusCode::BAD_REQUEST), None);
    }
    if health::is_health_check(&request) {
        return (health::response(), None);
    }
    if websocket::is_upgrade(&request) {
        return websocket_session(ctx, request, peer).await;
    }
    if let Some(pages) = &ctx.pages {
        return (pages.serve(request).await, None);
    }
    // A raw front's console requests never get here (see `tcp_front`):
    // what does is one without a token.
    let status = if ctx.serves(Front::RawTcp) {
        ctx.count_refusal(None, &Refusal::NoToken);
        StatusCode::FORBIDDEN
    } else {
        StatusCode::NOT_FOUND
    };
    (refuse(&ctx, &request, peer, status), None)
}

fn refuse<B>(
    ctx: &ListenerContext,
    request: &Request<B>,
    peer: SocketAddr,
    status: StatusCode,
) -> Response<Body> {
    tracing::info!(%peer, listener = %ctx.listen, path = request.uri().path(), status = status.as_u16(), "request refused");
    empty(status, HeaderMap::new())
}
