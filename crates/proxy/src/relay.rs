//! The byte pumps between a client and a console backend.
//!
//! Both are written over `AsyncRead`/`AsyncWrite`, so that tests drive
//! them over in-memory pipes. Each direction writes what it read before it
//! reads again: a slow side holds the other back (backpressure) instead of
//! filling our memory. Each backend read leaves at once as its own frame:
//! consoles are interactive and clients such as Tempest parse the RFB
//! handshake one frame at a time.

use std::fmt;
use std::future::poll_fn;
use std::task::Poll;

use consoled_core::RevocationWatch;
use tokio::io::{AsyncRead, AsyncWrite};

use crate::live::Listed;
use crate::metrics::{next_tick, publish_ticks, SessionTally};
use crate::raw_pump::{PumpError, RawPump};
use crate::shutdown::ShutdownSignal;
use crate::watchdog::{Activity, SessionLimits, Stop, Watchdog};
use crate::ws_frames::close_code;
use crate::ws_relay::WsRelay;

/// The most one read of the raw relay carries, and the unit of the
/// WebSocket relay's reads. A full screen update arrives in several reads
/// anyway; this bounds what a session its peer holds back keeps.
pub(crate) const READ_SIZE: usize = 64 * 1024;

/// Why a session ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum SessionEnd {
    /// The client closed (close frame or end of stream).
    ClientClosed,
    /// The backend closed its side.
    BackendClosed,
    /// No data for the idle timeout.
    Idle,
    /// The token expired.
    Expired,
    /// The proxy shut down.
    Shutdown,
    /// The server's consoles were revoked (its VM stopped or went away),
    /// or an operator cut the session.
    Revoked,
    /// A newer session of the same console took over.
    TakenOver,
    /// The client stopped answering pings or reading frames.
    DeadPeer,
    /// The client sent a frame over the size limit.
    FrameTooLarge,
    /// The client broke RFC 6455 otherwise.
    ProtocolError(String),
    /// The client side failed.
    ClientError(String),
    /// The backend side failed.
    BackendError(String),
}

impl fmt::Display for SessionEnd {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            SessionEnd::ClientClosed => f.write_str("client closed"),
            SessionEnd::BackendClosed => f.write_str("backend closed"),
            SessionEnd::Idle => f.write_str("idle timeout"),
            SessionEnd::Expired => f.write_str("token expired"),
            SessionEnd::Shutdown => f.write_str("proxy shutting down"),
            SessionEnd::Revoked => f.write_str("console revoked"),
            SessionEnd::TakenOver => f.write_str("taken over by a newer session"),
            SessionEnd::DeadPeer => f.write_str("client stopped responding"),
            SessionEnd::FrameTooLarge => f.write_str("client frame too large"),
            SessionEnd::ProtocolError(e) => write!(f, "client broke the protocol: {e}"),
            SessionEnd::ClientError(e) => write!(f, "client error: {e}"),
            SessionEnd::BackendError(e) => write!(f, "backend error: {e}"),
        }
    }
}

impl From<Stop> for SessionEnd {
    fn from(stop: Stop) -> Self {
        match stop {
            Stop::Idle => SessionEnd::Idle,
            Stop::Expired => SessionEnd::Expired,
            Stop::Shutdown => SessionEnd::Shutdown,
            Stop::Revoked => SessionEnd::Revoked,
            Stop::TakenOver => SessionEnd::TakenOver,
        }
    }
}

impl SessionEnd {
    /// The end as the audit trail and the metrics name it: client_closed,
    /// backend_closed, idle, expired, revoked, shutdown, dead_peer, error.
    pub(crate) fn label(&self) -> &'static str {
        match self {
            SessionEnd::ClientClosed => "client_closed",
            SessionEnd::BackendClosed => "backend_closed",
            SessionEnd::Idle => "idle",
            SessionEnd::Expired => "expired",
            SessionEnd::Revoked => "revoked",
            SessionEnd::TakenOver => "taken_over",
            SessionEnd::Shutdown => "shutdown",
            SessionEnd::DeadPeer => "dead_peer",
            SessionEnd::FrameTooLarge
            | SessionEnd::ProtocolError(_)
            | SessionEnd::ClientError(_)
            | SessionEnd::BackendError(_) => "error",
        }
    }

    /// The close code and reason the client gets for this end, if a close
    /// frame is due. A closed or dead client gets none.
    pub(crate) fn close_frame(&self) -> Option<(u16, &'static str)> {
        Some(match self {
            SessionEnd::ClientClosed | SessionEnd::DeadPeer | SessionEnd::ClientError(_) => {
                return None
            }
            SessionEnd::BackendClosed => (close_code::NORMAL, "console closed"),
            SessionEnd::Idle => (close_code::NORMAL, "idle timeout"),
            SessionEnd::Expired => (close_code::NORMAL, "session expired"),
            SessionEnd::Shutdown => (close_code::AWAY, "proxy shutting down"),
            SessionEnd::Revoked => (close_code::AWAY, "console revoked"),
            SessionEnd::TakenOver => (close_code::TAKEN_OVER, "taken over"),
            SessionEnd::FrameTooLarge => (close_code::SIZE, "frame too large"),
            SessionEnd::ProtocolError(_) => (close_code::PROTOCOL, "protocol error"),
            SessionEnd::BackendError(_) => (close_code::ERROR, "console connection failed"),
        })
    }
}

/// Where a session's running byte counts go at each publishing tick: its
/// metrics and its line on the node's session list, either or both (none:
/// no timer at all).
#[derive(Default)]
pub(crate) struct Publish<'a> {
    /// The session's metrics.
    pub(crate) tally: Option<&'a mut SessionTally>,
    /// The session's place on the list.
    pub(crate) listed: Option<&'a Listed>,
}

impl Publish<'_> {
    fn wanted(&self) -> bool {
        self.tally.is_some() || self.listed.is_some()
    }

    fn counts(&mut self, to_backend: u64, to_client: u64) {
        if let Some(tally) = self.tally.as_deref_mut() {
            tally.publish(to_backend, to_client);
        }
        if let Some(listed) = self.listed {
            listed.progress(to_client, to_backend);
        }
    }
}

/// What a finished session did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct RelayReport {
    /// Why it ended.
    pub(crate) end: SessionEnd,
    /// Bytes relayed from the client to the backend.
    pub(crate) to_backend: u64,
    /// Bytes relayed from the backend to the client.
    pub(crate) to_client: u64,
}

/// Relays between a WebSocket client (its stream right after the
/// upgrade) and a backend until either side is done, the session's limits
/// stop it, or its server is revoked. Client frames over `max_frame_size`
/// close it with 1009. The byte counts go to `publish` every
/// [`PUBLISH_INTERVAL`](crate::PUBLISH_INTERVAL); the caller publishes
/// the last ones from the report.
pub(crate) async fn relay_websocket<C, B>(
    client: C,
    backend: B,
    limits: &SessionLimits,
    max_frame_size: usize,
    shutdown: ShutdownSignal,
    revocation: Option<RevocationWatch>,
    mut publish: Publish<'_>,
) -> RelayReport
where
    C: AsyncRead + AsyncWrite + Send + Unpin,
    B: AsyncRead + AsyncWrite + Send + Unpin,
{
    let activity = Activity::new();
    let mut watchdog = Watchdog::new(limits, &activity, shutdown, revocation);
    let mut relay = WsRelay::new(client, backend, limits, max_frame_size, &activity);
    let mut ticks = publish_ticks(publish.wanted());
    // Both futures are cancel safe (their state lives in `watchdog` and
    // `relay`), so a tick may interrupt them to read the counts.
    let end = loop {
        tokio::select! {
            stop = watchdog.stopped(&activity) => break SessionEnd::from(stop),
            end = relay.run() => break end,
            () = next_tick(&mut ticks) => {
                publish.counts(relay.to_backend, relay.to_client);
            }
        }
    };
    relay.finish(&end, limits.close_wait).await;
    RelayReport {
        end,
        to_backend: relay.to_backend,
        to_client: relay.to_client,
    }
}

/// Relays raw bytes between a TCP client (xvpvnc) and a backend, with
/// half-close in each direction, until both directions are done, one
/// fails, the session's limits stop it, or its server is revoked;
/// publishing as [`relay_websocket`] does.
pub(crate) async fn relay_raw<C, B>(
    mut client: C,
    mut backend: B,
    limits: &SessionLimits,
    shutdown: ShutdownSignal,
    revocation: Option<RevocationWatch>,
    mut publish: Publish<'_>,
) -> RelayReport
where
    C: AsyncRead + AsyncWrite + Send + Unpin,
    B: AsyncRead + AsyncWrite + Send + Unpin,
{
    let activity = Activity::new();
    let mut watchdog = Watchdog::new(limits, &activity, shutdown, revocation);
    let (mut up, mut down) = (RawPump::default(), RawPump::default());
    let (mut to_backend, mut to_client) = (0u64, 0u64);
    let (mut up_done, mut down_done) = (false, false);
    let mut first_end = None;
    let mut ticks = publish_ticks(publish.wanted());
    // Made anew after each tick: its state lives in the variables above.
    let end = loop {
        let relaying = poll_fn(|cx| {
            if !up_done {
                match up.poll_pump(&mut client, &mut backend, &activity, &mut to_backend, cx) {
                    Poll::Ready(Ok(())) => {
                        up_done = true;
                        first_end.get_or_insert(SessionEnd::ClientClosed);
                    }
                    Poll::Ready(Err(PumpError::Read(e))) => {
                        return Poll::Ready(SessionEnd::ClientError(e))
                    }
                    Poll::Ready(Err(PumpError::Write(e))) => {
                        return Poll::Ready(SessionEnd::BackendError(e))
                    }
                    Poll::Pending => {}
                }
            }
            if !down_done {
                match down.poll_pump(&mut backend, &mut client, &activity, &mut to_client, cx) {
                    Poll::Ready(Ok(())) => {
                        down_done = true;
                        first_end.get_or_insert(SessionEnd::BackendClosed);
                    }
                    Poll::Ready(Err(PumpError::Read(e))) => {
                        return Poll::Ready(SessionEnd::BackendError(e))
                    }
                    Poll::Ready(Err(PumpError::Write(e))) => {
                        return Poll::Ready(SessionEnd::ClientError(e))
                    }
                    Poll::Pending => {}
                }
            }
            if up_done && down_done {
                return Poll::Ready(first_end.take().unwrap_or(SessionEnd::ClientClosed));
            }
            Poll::Pending
        });
        tokio::select! {
            stop = watchdog.stopped(&activity) => break SessionEnd::from(stop),
            end = relaying => break end,
            () = next_tick(&mut ticks) => {
                publish.counts(to_backend, to_client);
            }
        }
    };
    RelayReport {
        end,
        to_backend,
        to_client,
    }
}

#[cfg(test)]
#[path = "relay_tests.rs"]
mod tests;
