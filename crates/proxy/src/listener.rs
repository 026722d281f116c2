//! One listening socket: its accept loop, and each connection's way to
//! hyper or, on a listener with a raw TCP type, to the raw front first.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use consoled_core::Front;
use tokio::io::{AsyncRead, AsyncWrite};
use tokio::net::{TcpListener, TcpStream};
use tokio::task::JoinSet;
use tokio::time::timeout;
use tokio_rustls::TlsAcceptor;

use crate::context::{ListenerContext, CLOSE_WAIT};
use crate::session::PendingSession;
use crate::shutdown::{ShutdownSignal, ShutdownTrigger};
use crate::{connection, tcp_front};

/// How long to pause accepting after an accept error (out of file
/// descriptors, usually), so that the loop does not spin.
const ACCEPT_BACKOFF: Duration = Duration::from_millis(100);

/// How often the accept loop reaps the connections that ended, besides at
/// each accept. It is not woken by each end: on the bench host, that
/// wake-up cost each open about 10 µs. A connection that ended keeps only
/// its task's small allocation until then.
const REAP_EVERY: Duration = Duration::from_secs(1);

/// A bound listener, ready to run.
pub(crate) struct Listener {
    pub(crate) tcp: TcpListener,
    pub(crate) tls: Option<TlsAcceptor>,
    /// Shared with the connections once running.
    pub(crate) ctx: ListenerContext,
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
        let ctx = Arc::new(ctx);
        let mut connections = JoinSet::new();
        let mut reap = tokio::time::interval(REAP_EVERY);
        reap.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tokio::select! {
                () = draining.wait() => break,
                accepted = tcp.accept() => match accepted {
                    Ok((stream, peer)) => {
                        reap_ended(&ctx, &mut connections);
                        connections.spawn(connection(ctx.clone(), tls.clone(), stream, peer));
                    }
                    Err(e) => {
                        tracing::warn!(listener = %ctx.listen, error = %e, "accept failed");
                        tokio::time::sleep(ACCEPT_BACKOFF).await;
                    }
                },
                _ = reap.tick(), if !connections.is_empty() => reap_ended(&ctx, &mut connections),
            }
        }
        drop(tcp);
        reap_ended(&ctx, &mut connections);
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

/// Takes the connections that ended out of `connections`, without waiting.
fn reap_ended(ctx: &ListenerContext, connections: &mut JoinSet<()>) {
    while let Some(done) = connections.try_join_next() {
        log_panic(ctx, done);
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
    // What it takes to reach a session (the TLS handshake, hyper's
    // connection, the answer to the upgrade request) is many times the
    // size of the session itself, and a task's allocation is the size of
    // its largest state: so it lives in its own allocation, freed before
    // the session runs, and an idle console holds only what it needs.
    let session = Box::pin(open(ctx, tls, stream, peer)).await;
    if let Some(session) = session {
        session.await;
    }
}

/// Serves the connection's requests; returns the console session it was
/// upgraded to, if any.
async fn open(
    ctx: Arc<ListenerContext>,
    tls: Option<TlsAcceptor>,
    stream: TcpStream,
    peer: SocketAddr,
) -> Option<PendingSession> {
    tune(&stream, ctx.settings.keepalive_interval);
    match tls {
        None => serve(ctx, stream, peer).await,
        Some(acceptor) => {
            match timeout(ctx.settings.handshake_timeout, acceptor.accept(stream)).await {
                Ok(Ok(stream)) => serve(ctx, stream, peer).await,
                Ok(Err(e)) => {
                    tracing::debug!(%peer, listener = %ctx.listen, error = %e, "TLS handshake failed");
                    None
                }
                Err(_) => {
                    tracing::debug!(%peer, listener = %ctx.listen, "no TLS handshake in time");
                    None
                }
            }
        }
    }
}

/// Socket options of every client connection. They stay with the socket
/// when hyper hands an upgraded connection over to the relay.
fn tune(stream: &TcpStream, keepalive: Option<Duration>) {
    // Consoles are interactive: Nagle would hold back single keystrokes.
    if let Err(e) = stream.set_nodelay(true) {
        tracing::debug!(error = %e, "cannot disable Nagle's algorithm");
    }
    if let Some(every) = keepalive {
        tcp_keepalive(stream, every);
    }
}

async fn serve<S>(ctx: Arc<ListenerContext>, stream: S, peer: SocketAddr) -> Option<PendingSession>
where
    S: AsyncRead + AsyncWrite + Send + Unpin + 'static,
{
    if ctx.serves(Front::RawTcp) {
        tcp_front::serve(ctx, stream, peer).await
    } else {
        connection::serve(ctx, stream, peer).await
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
        tune(&accepted, Some(std::time::Duration::from_secs(30)));
        assert!(accepted.nodelay().unwrap());
        let socket = socket2::SockRef::from(&accepted);
        assert!(socket.keepalive().unwrap());
        assert_eq!(
            socket.tcp_keepalive_time().unwrap(),
            std::time::Duration::from_secs(30)
        );
        assert_eq!(socket.tcp_keepalive_retries().unwrap(), KEEPALIVE_PROBES);
    }
}
