//! The byte pumps between a client and a console backend.
//!
//! Both are written over `Stream`/`Sink` and `AsyncRead`/`AsyncWrite`, so
//! that tests drive them over in-memory pipes. Each direction owns one
//! buffer and awaits its write before it reads again: a slow side holds
//! the other back (backpressure) instead of filling our memory. Each
//! backend read leaves at once as its own frame: consoles are interactive
//! and clients such as Tempest parse the RFB handshake one frame at a time.

use std::fmt;
use std::pin::pin;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::Duration;

use bytes::{BufMut, Bytes, BytesMut};
use futures_util::{Sink, SinkExt, Stream, StreamExt};
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use tokio::sync::oneshot;
use tokio::time::{timeout, Instant, Interval, MissedTickBehavior};
use tokio_tungstenite::tungstenite::error::ProtocolError;
use tokio_tungstenite::tungstenite::protocol::frame::coding::CloseCode;
use tokio_tungstenite::tungstenite::protocol::CloseFrame;
use tokio_tungstenite::tungstenite::{Error as WsError, Message};

use crate::shutdown::ShutdownSignal;
use crate::watchdog::{Activity, SessionLimits, Stop, Watchdog};

/// The most one backend read (hence one frame) carries. A full screen
/// update arrives in several reads anyway; this bounds memory per session.
const READ_SIZE: usize = 64 * 1024;

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
    /// The client stopped answering pings or reading frames.
    DeadPeer,
    /// The client sent a frame over the size limit.
    FrameTooLarge,
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
            SessionEnd::DeadPeer => f.write_str("client stopped responding"),
            SessionEnd::FrameTooLarge => f.write_str("client frame too large"),
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
        }
    }
}

impl SessionEnd {
    /// The close frame the client gets for this end, if one is due. A
    /// closed or dead client gets none.
    fn close_frame(&self) -> Option<CloseFrame> {
        let (code, reason) = match self {
            SessionEnd::ClientClosed | SessionEnd::DeadPeer | SessionEnd::ClientError(_) => {
                return None
            }
            SessionEnd::BackendClosed => (CloseCode::Normal, "console closed"),
            SessionEnd::Idle => (CloseCode::Normal, "idle timeout"),
            SessionEnd::Expired => (CloseCode::Normal, "session expired"),
            SessionEnd::Shutdown => (CloseCode::Away, "proxy shutting down"),
            SessionEnd::FrameTooLarge => (CloseCode::Size, "frame too large"),
            SessionEnd::BackendError(_) => (CloseCode::Error, "console connection failed"),
        };
        Some(CloseFrame {
            code,
            reason: reason.into(),
        })
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

/// State both directions of one session share.
struct Shared {
    activity: Activity,
    to_backend: AtomicU64,
    to_client: AtomicU64,
    /// A ping is out and nothing has come back from the client since.
    pong_due: AtomicBool,
    /// The client-to-backend direction is waiting on the backend, so the
    /// client's frames (pongs included) are not being read.
    backend_stalled: AtomicBool,
}

impl Shared {
    fn new() -> Self {
        Shared {
            activity: Activity::new(),
            to_backend: AtomicU64::new(0),
            to_client: AtomicU64::new(0),
            pong_due: AtomicBool::new(false),
            backend_stalled: AtomicBool::new(false),
        }
    }

    fn report(&self, end: SessionEnd) -> RelayReport {
        RelayReport {
            end,
            to_backend: self.to_backend.load(Ordering::Relaxed),
            to_client: self.to_client.load(Ordering::Relaxed),
        }
    }
}

/// Relays between a WebSocket client and a backend until either side is
/// done or the session's limits stop it.
pub(crate) async fn relay_websocket<W, B>(
    ws: W,
    backend: B,
    limits: &SessionLimits,
    shutdown: ShutdownSignal,
) -> RelayReport
where
    W: Stream<Item = Result<Message, WsError>> + Sink<Message, Error = WsError> + Send + Unpin,
    B: AsyncRead + AsyncWrite + Send + Unpin,
{
    let shared = Shared::new();
    let (sink, stream) = ws.split();
    let (backend_rx, backend_tx) = tokio::io::split(backend);
    let watchdog = Watchdog::new(limits, &shared.activity, shutdown);
    let (close_tx, close_rx) = oneshot::channel();
    let mut up = pin!(client_to_backend(stream, backend_tx, &shared));
    let mut down = pin!(backend_to_client(
        backend_rx, sink, &shared, limits, watchdog, close_rx
    ));
    let end = tokio::select! {
        end = &mut up => {
            // A client that broke a rule still hears why; one that left
            // does not need to.
            if let Some(frame) = end.close_frame() {
                let _ = close_tx.send(frame);
                let _ = timeout(limits.close_wait, &mut down).await;
            }
            end
        }
        end = &mut down => {
            // Let the client answer our close frame, and let bytes it sent
            // before it saw the frame reach the backend. A dead client
            // got no frame and will answer nothing.
            if end.close_frame().is_some() {
                let _ = timeout(limits.close_wait, &mut up).await;
            }
            end
        }
    };
    shared.report(end)
}

async fn client_to_backend<S, W>(mut client: S, mut backend: W, shared: &Shared) -> SessionEnd
where
    S: Stream<Item = Result<Message, WsError>> + Unpin,
    W: AsyncWrite + Unpin,
{
    let end = loop {
        let message = match client.next().await {
            None => break SessionEnd::ClientClosed,
            Some(Ok(message)) => message,
            Some(Err(e)) => break client_failure(e),
        };
        shared.pong_due.store(false, Ordering::Relaxed);
        let data: Bytes = match message {
            Message::Binary(data) => data,
            // Horizon's serial console types into text frames.
            Message::Text(text) => text.into(),
            // Keep reading: the stream flushes our reply, then ends.
            Message::Close(_) | Message::Ping(_) | Message::Pong(_) | Message::Frame(_) => continue,
        };
        if data.is_empty() {
            continue;
        }
        shared.activity.touch();
        shared.backend_stalled.store(true, Ordering::Relaxed);
        let written = backend.write_all(&data).await;
        shared.backend_stalled.store(false, Ordering::Relaxed);
        if let Err(e) = written {
            break SessionEnd::BackendError(e.to_string());
        }
        shared
            .to_backend
            .fetch_add(data.len() as u64, Ordering::Relaxed);
    };
    // Half-close: the backend sees the end of its input and may still
    // finish what it was sending.
    let _ = backend.shutdown().await;
    end
}

fn client_failure(e: WsError) -> SessionEnd {
    match e {
        WsError::ConnectionClosed | WsError::AlreadyClosed => SessionEnd::ClientClosed,
        WsError::Protocol(ProtocolError::ResetWithoutClosingHandshake) => SessionEnd::ClientClosed,
        WsError::Capacity(_) => SessionEnd::FrameTooLarge,
        other => SessionEnd::ClientError(other.to_string()),
    }
}

async fn backend_to_client<R, K>(
    mut backend: R,
    mut client: K,
    shared: &Shared,
    limits: &SessionLimits,
    mut watchdog: Watchdog,
    mut close_request: oneshot::Receiver<CloseFrame>,
) -> SessionEnd
where
    R: AsyncRead + Unpin,
    K: Sink<Message, Error = WsError> + Unpin,
{
    let stall = limits.write_stall();
    let mut keepalive = limits.keepalive.map(|every| {
        let mut ticks = tokio::time::interval_at(Instant::now() + every, every);
        ticks.set_missed_tick_behavior(MissedTickBehavior::Delay);
        ticks
    });
    let mut close_requested = false;
    let mut buf = BytesMut::with_capacity(READ_SIZE);
    let end = loop {
        // Once the client has sent the last frame, the previous one is
        // gone and this reclaims its memory instead of allocating.
        buf.reserve(READ_SIZE);
        let mut room = (&mut buf).limit(READ_SIZE);
        tokio::select! {
            stop = watchdog.stopped(&shared.activity) => break SessionEnd::from(stop),
            frame = &mut close_request, if !close_requested => {
                close_requested = true;
                if let Ok(frame) = frame {
                    let _ = timeout(limits.close_wait, client.send(Message::Close(Some(frame)))).await;
                    // The caller reports its own reason.
                    return SessionEnd::ClientClosed;
                }
            }
            () = next_tick(&mut keepalive) => {
                let stalled = shared.backend_stalled.load(Ordering::Relaxed);
                if shared.pong_due.swap(true, Ordering::Relaxed) && !stalled {
                    break SessionEnd::DeadPeer;
                }
                if let Err(end) = send(&mut client, Message::Ping(Bytes::new()), stall).await {
                    return end;
                }
            }
            read = backend.read_buf(&mut room) => match read {
                Ok(0) => break SessionEnd::BackendClosed,
                Ok(n) => {
                    shared.activity.touch();
                    let frame = buf.split().freeze();
                    if let Err(end) = send(&mut client, Message::Binary(frame), stall).await {
                        return end;
                    }
                    shared.to_client.fetch_add(n as u64, Ordering::Relaxed);
                }
                Err(e) => break SessionEnd::BackendError(e.to_string()),
            },
        }
    };
    if let Some(frame) = end.close_frame() {
        let _ = timeout(limits.close_wait, client.send(Message::Close(Some(frame)))).await;
    }
    end
}

async fn next_tick(ticks: &mut Option<Interval>) {
    match ticks {
        Some(ticks) => {
            ticks.tick().await;
        }
        None => std::future::pending().await,
    }
}

/// Sends one frame and flushes it, within `stall` when set.
async fn send<K>(
    client: &mut K,
    message: Message,
    stall: Option<Duration>,
) -> Result<(), SessionEnd>
where
    K: Sink<Message, Error = WsError> + Unpin,
{
    let sent = match stall {
        Some(limit) => timeout(limit, client.send(message))
            .await
            .map_err(|_| SessionEnd::DeadPeer)?,
        None => client.send(message).await,
    };
    sent.map_err(client_failure)
}

/// Relays raw bytes between a TCP client (xvpvnc) and a backend, with
/// half-close in each direction, until both directions are done, one
/// fails, or the session's limits stop it.
pub(crate) async fn relay_raw<C, B>(
    client: C,
    backend: B,
    limits: &SessionLimits,
    shutdown: ShutdownSignal,
) -> RelayReport
where
    C: AsyncRead + AsyncWrite + Send + Unpin,
    B: AsyncRead + AsyncWrite + Send + Unpin,
{
    let shared = Shared::new();
    let mut watchdog = Watchdog::new(limits, &shared.activity, shutdown);
    let (client_rx, client_tx) = tokio::io::split(client);
    let (backend_rx, backend_tx) = tokio::io::split(backend);
    let mut up = pin!(pump(
        client_rx,
        backend_tx,
        &shared.activity,
        &shared.to_backend
    ));
    let mut down = pin!(pump(
        backend_rx,
        client_tx,
        &shared.activity,
        &shared.to_client
    ));
    let (mut up_done, mut down_done) = (false, false);
    let mut first_end = None;
    let end = loop {
        tokio::select! {
            done = &mut up, if !up_done => {
                up_done = true;
                match done {
                    Ok(()) => { first_end.get_or_insert(SessionEnd::ClientClosed); }
                    Err(PumpError::Read(e)) => break SessionEnd::ClientError(e),
                    Err(PumpError::Write(e)) => break SessionEnd::BackendError(e),
                }
            }
            done = &mut down, if !down_done => {
                down_done = true;
                match done {
                    Ok(()) => { first_end.get_or_insert(SessionEnd::BackendClosed); }
                    Err(PumpError::Read(e)) => break SessionEnd::BackendError(e),
                    Err(PumpError::Write(e)) => break SessionEnd::ClientError(e),
                }
            }
            stop = watchdog.stopped(&shared.activity) => break SessionEnd::from(stop),
        }
        if up_done && down_done {
            break first_end.unwrap_or(SessionEnd::ClientClosed);
        }
    };
    shared.report(end)
}

enum PumpError {
    Read(String),
    Write(String),
}

/// Copies `from` to `to` until `from` ends, then shuts `to` down.
async fn pump<R, W>(
    mut from: R,
    mut to: W,
    activity: &Activity,
    count: &AtomicU64,
) -> Result<(), PumpError>
where
    R: AsyncRead + Unpin,
    W: AsyncWrite + Unpin,
{
    let mut buf = vec![0u8; READ_SIZE];
    loop {
        let n = from
            .read(&mut buf)
            .await
            .map_err(|e| PumpError::Read(e.to_string()))?;
        if n == 0 {
            return to
                .shutdown()
                .await
                .map_err(|e| PumpError::Write(e.to_string()));
        }
        activity.touch();
        to.write_all(&buf[..n])
            .await
            .map_err(|e| PumpError::Write(e.to_string()))?;
        count.fetch_add(n as u64, Ordering::Relaxed);
    }
}

#[cfg(test)]
#[path = "relay_tests.rs"]
mod tests;
