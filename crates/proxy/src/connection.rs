//! One client connection served by hyper: health checks and pages may
//! share a kept-alive connection; a WebSocket console takes it over.

use std::convert::Infallible;
use std::net::SocketAddr;
use std::pin::pin;
use std::sync::{Arc, Mutex, PoisonError};

use consoled_core::http_head::MAX_HEAD;
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper_util::rt::{TokioIo, TokioTimer};
use tokio::io::{AsyncRead, AsyncWrite};

use crate::context::ListenerContext;
use crate::routes::answer;
use crate::session::PendingSession;

/// Serves `io` until the client or the listener is done with it; returns
/// the console session it was upgraded to, if any, for the caller to run
/// once hyper's connection state is gone.
pub(crate) async fn serve<S>(
    ctx: Arc<ListenerContext>,
    io: S,
    peer: SocketAddr,
) -> Option<PendingSession>
where
    S: AsyncRead + AsyncWrite + Send + Unpin + 'static,
{
    let upgraded_to: Arc<Mutex<Option<PendingSession>>> = Arc::default();
    let service = {
        let (ctx, upgraded_to) = (ctx.clone(), upgraded_to.clone());
        service_fn(move |request| {
            let (ctx, upgraded_to) = (ctx.clone(), upgraded_to.clone());
            async move {
                let (response, session) = answer(ctx, request, peer).await;
                if session.is_some() {
                    *upgraded_to.lock().unwrap_or_else(PoisonError::into_inner) = session;
                }
                Ok::<_, Infallible>(response)
            }
        })
    };
    let connection = builder(&ctx)
        .serve_connection(TokioIo::new(io), service)
        .with_upgrades();
    let mut connection = pin!(connection);
    let mut draining = ctx.draining.clone();
    let served = tokio::select! {
        served = connection.as_mut() => served,
        () = draining.wait() => {
            // An idle kept-alive connection closes now, a request in
            // flight gets its answer first: neither holds up a shutdown.
            connection.as_mut().graceful_shutdown();
            connection.await
        }
    };
    if let Err(e) = served {
        if e.is_timeout() {
            tracing::debug!(%peer, listener = %ctx.listen, "no request head in time");
        } else {
            tracing::debug!(%peer, listener = %ctx.listen, error = %e, "connection ended");
        }
    }
    let session = upgraded_to
        .lock()
        .unwrap_or_else(PoisonError::into_inner)
        .take();
    session
}

/// hyper's HTTP/1 server as every listener runs it.
fn builder(ctx: &ListenerContext) -> http1::Builder {
    let mut builder = http1::Builder::new();
    builder
        // The whole head, first or kept-alive, within the bound: slow
        // clients do not pile up connections (slowloris).
        .timer(TokioTimer::new())
        .header_read_timeout(ctx.settings.handshake_timeout)
        // A larger head is 431: console URLs are short, cookies the bulk.
        .max_buf_size(MAX_HEAD)
        // Header names as clients have always seen them from us
        // (`Content-Length`), and, where a response carries the request's
        // record of them, as the client spelled them (see `session`).
        .title_case_headers(true)
        .preserve_header_case(true);
    builder
}
