//! One listening socket: its accept loop, and each connection's route to
//! the health check, static files or a console session.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use consoled_core::Front;
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite};
use tokio::net::{TcpListener, TcpStream};
use tokio::task::JoinSet;
use tokio::time::timeout;
use tokio_rustls::TlsAcceptor;

use crate::context::{ListenerContext, CLOSE_WAIT};
use crate::http_head::{read_head, HeadError, ReadHeadError, RequestHead};
use crate::response::write_empty;
use crate::session::websocket_session;
use crate::shutdown::{ShutdownSignal, ShutdownTrigger};
use crate::tcp_front::{tcp_session, token_of};
use crate::{health, static_files, websocket};

/// How long to pause accepting after an accept error (out of file
/// descriptors, usually), so that the loop does not spin.
const ACCEPT_BACKOFF: Duration = Duration::from_millis(100);

/// How long and how much [`linger`] reads.
const LINGER_TIME: Duration = Duration::from_secs(1);
const LINGER_BYTES: usize = 256 * 1024;

/// A bound listener, ready to run.
pub(crate) struct Listener {
    pub(crate) tcp: TcpListener,
    pub(crate) tls: Option<TlsAcceptor>,
    pub(crate) ctx: Arc<ListenerContext>,
    /// Fires `ctx.closing`.
    pub(crate) close_sessions: ShutdownTrigger,
}

impl Listener {
    /// Accepts until `draining` fires, then lets open connections finish
    /// within `grace` and closes the rest.
    pub(crate) async fn run(self, mut draining: ShutdownSignal, grace: Duration) {
        let Listener {
            tcp,
            tls,
            ctx,
            close_sessions,
        } = self;
        let mut connections = JoinSet::new();
        loop {
            tokio::select! {
                () = draining.wait() => break,
                accepted = tcp.accept() => match accepted {
                    Ok((stream, peer)) => {
                        connections.spawn(connection(ctx.clone(), tls.clone(), stream, peer));
                    }
                    Err(e) => {
                        tracing::warn!(listener = %ctx.listen, error = %e, "accept failed");
                        tokio::time::sleep(ACCEPT_BACKOFF).await;
                    }
                },
                Some(done) = connections.join_next(), if !connections.is_empty() => log_panic(&ctx, done),
            }
        }
        drop(tcp);
        tracing::info!(listener = %ctx.listen, open = connections.len(), "listener stopped accepting");
        if timeout(grace, drain(&ctx, &mut connections)).await.is_err() {
            tracing::info!(listener = %ctx.listen, open = connections.len(), "grace period over: closing sessions");
            close_sessions.fire();
            if timeout(CLOSE_WAIT * 2, drain(&ctx, &mut connections))
                .await
                .is_err()
            {
                connections.abort_all();
                drain(&ctx, &mut connections).await;
            }
        }
    }
}

async fn drain(ctx: &ListenerContext, connections: &mut JoinSet<()>) {
    while let Some(done) = connections.join_next().await {
        log_panic(ctx, done);
    }
}

fn log_panic(ctx: &ListenerContext, done: Result<(), tokio::task::JoinError>) {
    if let Err(e) = done {
        if e.is_panic() {
            tracing::error!(listener = %ctx.listen, "a connection task panicked; the listener carries on");
        }
    }
}

async fn connection(
    ctx: Arc<ListenerContext>,
    tls: Option<TlsAcceptor>,
    stream: TcpStream,
    peer: SocketAddr,
) {
    // Consoles are interactive: Nagle would hold back single keystrokes.
    let _ = stream.set_nodelay(true);
    if let Some(every) = ctx.settings.keepalive_interval {
        tcp_keepalive(&stream, every);
    }
    match tls {
        None => serve(ctx, stream, peer).await,
        Some(acceptor) => match timeout(ctx.settings.handshake_timeout, acceptor.accept(stream))
            .await
        {
            Ok(Ok(stream)) => serve(ctx, stream, peer).await,
            Ok(Err(e)) => {
                tracing::debug!(%peer, listener = %ctx.listen, error = %e, "TLS handshake failed")
            }
            Err(_) => tracing::debug!(%peer, listener = %ctx.listen, "no TLS handshake in time"),
        },
    }
}

/// Reads and drops what the client is still sending, for a moment, so
/// that closing with unread input (which sends a reset) does not destroy
/// the error response before the client has read it.
async fn linger<S: AsyncRead + Unpin>(stream: &mut S) {
    let mut sink = [0u8; 4096];
    let draining = async {
        let mut left = LINGER_BYTES;
        while left > 0 {
            match stream.read(&mut sink).await {
                Ok(0) | Err(_) => break,
                Ok(n) => left = left.saturating_sub(n),
            }
        }
    };
    let _ = timeout(LINGER_TIME, draining).await;
}

/// Where a request goes.
enum Route {
    Health,
    WebSocket,
    RawTcp,
    Static,
    Refuse(u16),
}

fn route(ctx: &ListenerContext, head: &RequestHead) -> Route {
    if head.path().starts_with("//") {
        return Route::Refuse(400);
    }
    if health::is_health_check(head) {
        return Route::Health;
    }
    if websocket::is_upgrade(head) {
        return Route::WebSocket;
    }
    if ctx.serves(Front::RawTcp) && token_of(head).is_some() {
        return Route::RawTcp;
    }
    if ctx.web_root.is_some() {
        return Route::Static;
    }
    if ctx.serves(Front::RawTcp) {
        Route::Refuse(403)
    } else {
        Route::Refuse(404)
    }
}

/// Serves requests on one connection: health checks and static files may
/// share a kept-alive connection; a console session takes it over.
async fn serve<S>(ctx: Arc<ListenerContext>, mut stream: S, peer: SocketAddr)
where
    S: AsyncRead + AsyncWrite + Send + Unpin,
{
    let mut buf = Vec::new();
    let mut draining = ctx.draining.clone();
    let mut first = true;
    loop {
        let reading = timeout(
            ctx.settings.handshake_timeout,
            read_head(&mut stream, &mut buf),
        );
        let read = if first {
            reading.await
        } else {
            // An idle kept-alive connection must not hold up a shutdown.
            tokio::select! {
                read = reading => read,
                () = draining.wait() => return,
            }
        };
        first = false;
        let head = match read {
            Ok(Ok(Some(head))) => head,
            Ok(Ok(None)) => return,
            Ok(Err(ReadHeadError::Head(e))) => {
                tracing::info!(%peer, listener = %ctx.listen, error = %e, "bad request head");
                let status = if e == HeadError::TooLarge { 431 } else { 400 };
                let _ = write_empty(&mut stream, status, &[]).await;
                linger(&mut stream).await;
                return;
            }
            Ok(Err(e)) => {
                tracing::debug!(%peer, listener = %ctx.listen, error = %e, "connection ended");
                return;
            }
            Err(_) => {
                tracing::debug!(%peer, listener = %ctx.listen, "no request in time");
                return;
            }
        };
        let kept = match route(&ctx, &head) {
            Route::Health => health::respond(&mut stream, &head, true).await,
            Route::Static => match ctx.web_root.as_deref() {
                Some(root) => static_files::serve(&mut stream, root, &head).await,
                None => Ok(false),
            },
            Route::WebSocket => return websocket_session(ctx, stream, head, buf, peer).await,
            Route::RawTcp => return tcp_session(ctx, stream, head, buf, peer).await,
            Route::Refuse(status) => {
                tracing::info!(%peer, listener = %ctx.listen, path = head.path(), status, "request refused");
                let _ = write_empty(&mut stream, status, &[]).await;
                return;
            }
        };
        match kept {
            Ok(true) => {}
            Ok(false) => return,
            Err(e) => {
                tracing::debug!(%peer, listener = %ctx.listen, error = %e, "response not delivered");
                return;
            }
        }
    }
}

/// Turns on TCP keepalive probes every `every`, so that a client that
/// vanished without a word (a cut cable, a dropped NAT entry) is noticed on
/// the raw TCP front too, where there are no WebSocket pings: after a few
/// unanswered probes the kernel ends the connection and the session with it.
fn tcp_keepalive(stream: &TcpStream, every: std::time::Duration) {
    let probes = socket2::TcpKeepalive::new()
        .with_time(every)
        .with_interval(every)
        .with_retries(KEEPALIVE_PROBES);
    if let Err(e) = socket2::SockRef::from(stream).set_tcp_keepalive(&probes) {
        tracing::debug!(error = %e, "cannot enable TCP keepalive");
    }
}

/// Unanswered keepalive probes after which the kernel drops a connection.
const KEEPALIVE_PROBES: u32 = 3;

#[cfg(test)]
mod keepalive_tests {
    use super::*;

    #[tokio::test]
    async fn accepted_connections_probe_their_peer() {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let _client = TcpStream::connect(addr).await.unwrap();
        let (accepted, _) = listener.accept().await.unwrap();
        tcp_keepalive(&accepted, std::time::Duration::from_secs(30));
        let socket = socket2::SockRef::from(&accepted);
        assert!(socket.keepalive().unwrap());
        assert_eq!(
            socket.tcp_keepalive_time().unwrap(),
            std::time::Duration::from_secs(30)
        );
        assert_eq!(socket.tcp_keepalive_retries().unwrap(), KEEPALIVE_PROBES);
    }
}
