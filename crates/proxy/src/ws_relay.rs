//! One WebSocket session as a single state machine over the client's raw
//! stream and the backend, polled from one task: both directions, the
//! keepalive and the write stall live in one struct, so that nothing is
//! split behind a lock and nothing waits in a buffer.
//!
//! Down (backend to client): a backend read lands in the thread's scratch
//! buffer after room for a frame header, the header is written in front
//! of it and the frame leaves in one write. Up: a client read is unmasked
//! in place and its payloads written to the backend at once, in one
//! vectored write when they lie apart. Either way, what the writer cannot
//! take now moves to the direction's [`Lane`], and that direction reads
//! nothing more until it has drained (backpressure).

use std::future::{poll_fn, Future};
use std::io::IoSlice;
use std::ops::Range;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Duration;

use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::time::{sleep, Instant, Interval, MissedTickBehavior, Sleep};

use crate::lane::{poll_write_once, poll_write_vectored_once, with_scratch, Lane};
use crate::relay::{SessionEnd, READ_SIZE};
use crate::watchdog::{Activity, SessionLimits};
use crate::ws_frames::{
    put_header, Control, ControlPayload, FrameError, FrameReader, BINARY, CLOSE, MAX_CONTROL_FRAME,
    MAX_HEADER, MAX_PIECES, PING, PONG,
};

/// The alignment of a backend read's destination. The kernel copies a
/// socket's bytes with `rep movsb`, which slows by half when it writes to
/// an unaligned address: a read right after a frame header's room did
/// (loopback profile: about 25% more CPU per GB than the plain relay).
const READ_ALIGN: usize = 64;

/// What one backend read (hence one frame to the client) may take: four
/// times the raw relay's read. The bytes land in the worker thread's
/// scratch buffer, so an idle session holds none of it, and a busy one
/// carries a full screen update in fewer reads and writes: one bulk
/// stream down costs about 0.85x the plain relay's CPU per GB with it,
/// 1.1-1.3x with reads of 64 KiB.
pub(crate) const BACKEND_READ_SIZE: usize = 4 * READ_SIZE;

/// A direction's buffer: a backend read after room for a frame header
/// and for aligning the read.
const LANE_SIZE: usize = MAX_HEADER + READ_ALIGN + BACKEND_READ_SIZE;

/// What one client read may take. Frame headers split a client read into
/// pieces, which go to the backend in one vectored write; the scratch
/// buffer is the thread's, so only a session its backend holds back
/// keeps this much.
const CLIENT_READ_SIZE: usize = 4 * READ_SIZE;

/// Control frames due to the client, sent between data frames.
#[derive(Debug, Default)]
struct ControlOut {
    /// The answer to the latest ping (RFC 6455 5.5.3 lets it stand for
    /// earlier ones).
    pong: Option<ControlPayload>,
    ping: bool,
    close: Option<ControlPayload>,
    close_sent: bool,
}

impl ControlOut {
    /// The next frame to send into `out`, with its length.
    fn next_frame(&mut self, out: &mut [u8; MAX_CONTROL_FRAME]) -> Option<usize> {
        if self.close_sent {
            return None;
        }
        if let Some(pong) = self.pong.take() {
            return Some(pong.frame(PONG, out));
        }
        if std::mem::take(&mut self.ping) {
            return Some(ControlPayload::new(&[]).frame(PING, out));
        }
        let close = self.close.take()?;
        self.close_sent = true;
        Some(close.frame(CLOSE, out))
    }

    fn is_due(&self) -> bool {
        !self.close_sent && (self.pong.is_some() || self.ping || self.close.is_some())
    }

    fn take(&mut self, control: Control<'_>) {
        match control {
            Control::Ping(payload) => self.pong = Some(ControlPayload::new(payload)),
            Control::Pong => {}
            // Echo the client's close, unless ours is already on its way.
            Control::Close(payload) => {
                if self.close.is_none() && !self.close_sent {
                    self.close = Some(ControlPayload::new(payload));
                }
            }
        }
    }
}

/// What a read-and-write step did.
enum Step {
    /// Bytes moved (or were kept); go on.
    Moved,
    /// The reader has nothing now.
    Idle,
    /// The direction is done.
    End(SessionEnd),
}

/// One session.
pub(crate) struct WsRelay<'a, C, B> {
    client: C,
    backend: B,
    activity: &'a Activity,
    reader: FrameReader,
    /// Frames bound for the client.
    down: Lane,
    /// Payload bound for the backend.
    up: Lane,
    control: ControlOut,
    client_unflushed: bool,
    backend_unflushed: bool,
    /// Reading the backend (off once the session is closing).
    reading_backend: bool,
    keepalive: Option<Interval>,
    pong_due: bool,
    stall: Option<Duration>,
    stall_timer: Option<Pin<Box<Sleep>>>,
    stall_armed: bool,
    /// Payload bytes relayed to the backend.
    pub(crate) to_backend: u64,
    /// Payload bytes relayed to the client.
    pub(crate) to_client: u64,
}

impl<'a, C, B> WsRelay<'a, C, B>
where
    C: AsyncRead + AsyncWrite + Unpin,
    B: AsyncRead + AsyncWrite + Unpin,
{
    /// A session between `client` (right after the upgrade) and `backend`.
    pub(crate) fn new(
        client: C,
        backend: B,
        limits: &SessionLimits,
        max_frame_size: usize,
        activity: &'a Activity,
    ) -> Self {
        let keepalive = limits.keepalive.map(|every| {
            let mut ticks = tokio::time::interval_at(Instant::now() + every, every);
            ticks.set_missed_tick_behavior(MissedTickBehavior::Delay);
            ticks
        });
        WsRelay {
            client,
            backend,
            activity,
            reader: FrameReader::new(max_frame_size),
            down: Lane::default(),
            up: Lane::default(),
            control: ControlOut::default(),
            client_unflushed: false,
            backend_unflushed: false,
            reading_backend: true,
            keepalive,
            pong_due: false,
            stall: limits.write_stall(),
            stall_timer: None,
            stall_armed: false,
            to_backend: 0,
            to_client: 0,
        }
    }

    /// Relays both ways until one side is done or breaks a rule.
    pub(crate) async fn run(&mut self) -> SessionEnd {
        poll_fn(|cx| self.poll_active(cx)).await
    }

    /// Ends the session as `end` says: sends its close frame (or the echo
    /// of the client's), lets the client answer ours and the bytes it sent
    /// before it saw it reach the backend, and half-closes the backend.
    /// Each step within `wait`.
    pub(crate) async fn finish(&mut self, end: &SessionEnd, wait: Duration) {
        self.reading_backend = false;
        self.keepalive = None;
        let close = end.close_frame();
        if let Some((code, reason)) = close {
            self.control.close = Some(ControlPayload::close(code, reason));
        }
        // A client that broke a rule, or left, is not read on.
        let read_client = close.is_some()
            && !matches!(
                end,
                SessionEnd::FrameTooLarge | SessionEnd::ProtocolError(_)
            );
        let mut client_done = !read_client;
        let dead = matches!(end, SessionEnd::DeadPeer | SessionEnd::ClientError(_));
        if !dead {
            let closing = poll_fn(|cx| {
                if !client_done && self.poll_up(cx).is_ready() {
                    client_done = true;
                }
                if self.poll_down(cx).is_ready() {
                    return Poll::Ready(());
                }
                let sent = !self.control.is_due() && self.down.is_drained();
                if sent && !self.client_unflushed && client_done {
                    return Poll::Ready(());
                }
                Poll::Pending
            });
            let _ = tokio::time::timeout(wait, closing).await;
        }
        let half_close = poll_fn(|cx| {
            if !self.up.is_drained() {
                std::task::ready!(self.up.poll_drain(&mut self.backend, cx))?;
            }
            Pin::new(&mut self.backend).poll_shutdown(cx)
        });
        let _ = tokio::time::timeout(wait, half_close).await;
    }

    fn poll_active(&mut self, cx: &mut Context<'_>) -> Poll<SessionEnd> {
        if let Some(ticks) = self.keepalive.as_mut() {
            while ticks.poll_tick(cx).is_ready() {
                // A client held back by a slow backend cannot answer.
                if self.pong_due && self.up.is_drained() {
                    return Poll::Ready(SessionEnd::DeadPeer);
                }
                self.pong_due = true;
                self.control.ping = true;
            }
        }
        if let Poll::Ready(end) = self.poll_up(cx) {
            return Poll::Ready(end);
        }
        // After up: a pong it queued goes out in this poll.
        self.poll_down(cx)
    }

    /// Backend to client, and every control frame.
    fn poll_down(&mut self, cx: &mut Context<'_>) -> Poll<SessionEnd> {
        loop {
            match self.down.poll_drain(&mut self.client, cx) {
                Poll::Pending => return self.poll_stall(cx),
                Poll::Ready(Err(e)) => return Poll::Ready(SessionEnd::ClientError(e.to_string())),
                Poll::Ready(Ok(())) => self.stall_armed = false,
            }
            if self.control.is_due() {
                let mut frame = [0u8; MAX_CONTROL_FRAME];
                if let Some(len) = self.control.next_frame(&mut frame) {
                    self.client_unflushed = true;
                    match poll_write_once(&mut self.client, cx, &frame[..len]) {
                        Ok(None) => {}
                        Ok(Some(at)) => self.down.keep(&frame[at..len], LANE_SIZE),
                        Err(e) => return Poll::Ready(SessionEnd::ClientError(e.to_string())),
                    }
                }
                continue;
            }
            let step = if !self.reading_backend {
                Step::Idle
            } else if self.down.is_held() {
                let mut buf = self.down.lend();
                let (step, pending) = self.read_backend(&mut buf, cx);
                self.down.restore(buf, pending);
                step
            } else {
                with_scratch(LANE_SIZE, |buf| {
                    let (step, pending) = self.read_backend(buf, cx);
                    if !pending.is_empty() {
                        self.down.keep(&buf[pending], LANE_SIZE);
                    }
                    step
                })
            };
            match step {
                Step::Moved => continue,
                Step::End(end) => return Poll::Ready(end),
                Step::Idle => {
                    self.down.release();
                    if self.client_unflushed {
                        match Pin::new(&mut self.client).poll_flush(cx) {
                            Poll::Ready(Ok(())) => self.client_unflushed = false,
                            Poll::Ready(Err(e)) => {
                                return Poll::Ready(SessionEnd::ClientError(e.to_string()))
                            }
                            Poll::Pending => {}
                        }
                    }
                    return Poll::Pending;
                }
            }
        }
    }

    /// One backend read into `buf` (at an aligned offset past room for a
    /// header), sent on as one frame: the header and the payload in one
    /// vectored write, each copied by the kernel from where it lies.
    /// Returns what is left of the frame to write.
    fn read_backend(&mut self, buf: &mut [u8], cx: &mut Context<'_>) -> (Step, Range<usize>) {
        // `min` only guards against an `align_offset` that gives up.
        let at = MAX_HEADER
            + buf[MAX_HEADER..]
                .as_ptr()
                .align_offset(READ_ALIGN)
                .min(READ_ALIGN - 1);
        let mut room = ReadBuf::new(&mut buf[at..at + BACKEND_READ_SIZE]);
        let n = match Pin::new(&mut self.backend).poll_read(cx, &mut room) {
            Poll::Pending => return (Step::Idle, 0..0),
            Poll::Ready(Err(e)) => {
                return (Step::End(SessionEnd::BackendError(e.to_string())), 0..0)
            }
            Poll::Ready(Ok(())) => room.filled().len(),
        };
        if n == 0 {
            return (Step::End(SessionEnd::BackendClosed), 0..0);
        }
        self.activity.touch();
        self.to_client += n as u64;
        self.client_unflushed = true;
        let start = at - put_header(BINARY, n, &mut buf[at - MAX_HEADER..at]);
        let frame = start..at + n;
        let sent = if self.client.is_write_vectored() {
            let parts = [
                IoSlice::new(&buf[start..at]),
                IoSlice::new(&buf[at..frame.end]),
            ];
            poll_write_vectored_once(&mut self.client, cx, &parts, frame.len())
        } else {
            poll_write_once(&mut self.client, cx, &buf[frame.clone()])
        };
        match sent {
            Ok(None) => (Step::Moved, 0..0),
            Ok(Some(written)) => (Step::Moved, frame.start + written..frame.end),
            Err(e) => (Step::End(SessionEnd::ClientError(e.to_string())), 0..0),
        }
    }

    /// The client is not taking a frame: past the write stall it is dead.
    fn poll_stall(&mut self, cx: &mut Context<'_>) -> Poll<SessionEnd> {
        let Some(stall) = self.stall else {
            return Poll::Pending;
        };
        let timer = self
            .stall_timer
            .get_or_insert_with(|| Box::pin(sleep(stall)));
        if !self.stall_armed {
            self.stall_armed = true;
            timer.as_mut().reset(Instant::now() + stall);
        }
        match timer.as_mut().poll(cx) {
            Poll::Ready(()) => Poll::Ready(SessionEnd::DeadPeer),
            Poll::Pending => Poll::Pending,
        }
    }

    /// Client to backend.
    fn poll_up(&mut self, cx: &mut Context<'_>) -> Poll<SessionEnd> {
        loop {
            match self.up.poll_drain(&mut self.backend, cx) {
                Poll::Pending => return Poll::Pending,
                Poll::Ready(Err(e)) => return Poll::Ready(SessionEnd::BackendError(e.to_string())),
                Poll::Ready(Ok(())) => {}
            }
            if self.reader.closed() {
                return Poll::Ready(SessionEnd::ClientClosed);
            }
            let step = if self.up.is_held() {
                let mut buf = self.up.lend();
                let (step, pending) = self.read_client(&mut buf, cx);
                self.up.restore(buf, pending);
                step
            } else {
                with_scratch(CLIENT_READ_SIZE, |buf| {
                    let (step, pending) = self.read_client(buf, cx);
                    if !pending.is_empty() {
                        self.up.keep(&buf[pending], CLIENT_READ_SIZE);
                    }
                    step
                })
            };
            match step {
                Step::Moved => continue,
                Step::End(end) => return Poll::Ready(end),
                Step::Idle => {
                    self.up.release();
                    if self.backend_unflushed {
                        match Pin::new(&mut self.backend).poll_flush(cx) {
                            Poll::Ready(Ok(())) => self.backend_unflushed = false,
                            Poll::Ready(Err(e)) => {
                                return Poll::Ready(SessionEnd::BackendError(e.to_string()))
                            }
                            Poll::Pending => {}
                        }
                    }
                    return Poll::Pending;
                }
            }
        }
    }

    /// One client read into `buf`, its payloads written on to the backend;
    /// returns what is left of them to write.
    fn read_client(&mut self, buf: &mut [u8], cx: &mut Context<'_>) -> (Step, Range<usize>) {
        let mut room = ReadBuf::new(&mut buf[..CLIENT_READ_SIZE]);
        let n = match Pin::new(&mut self.client).poll_read(cx, &mut room) {
            Poll::Pending => return (Step::Idle, 0..0),
            Poll::Ready(Err(e)) => {
                return (Step::End(SessionEnd::ClientError(e.to_string())), 0..0)
            }
            Poll::Ready(Ok(())) => room.filled().len(),
        };
        if n == 0 {
            return (Step::End(SessionEnd::ClientClosed), 0..0);
        }
        // Any frame shows the client alive, as a pong would.
        self.pong_due = false;
        let control = &mut self.control;
        let pieces = match self.reader.feed(&mut buf[..n], |c| control.take(c)) {
            Ok(pieces) => pieces,
            Err(FrameError::TooLarge) => return (Step::End(SessionEnd::FrameTooLarge), 0..0),
            Err(FrameError::Protocol(why)) => {
                return (Step::End(SessionEnd::ProtocolError(why.into())), 0..0)
            }
        };
        let total = pieces.total();
        if total == 0 {
            return (Step::Moved, 0..0);
        }
        self.activity.touch();
        self.to_backend += total as u64;
        self.backend_unflushed = true;
        // Apart, the pieces go in one vectored write; a stream that cannot
        // gather gets them moved together first.
        let (written, together) = if pieces.len() > 1 && self.backend.is_write_vectored() {
            let mut slices = [IoSlice::new(&[]); MAX_PIECES];
            for (slice, piece) in slices.iter_mut().zip(pieces.ranges()) {
                *slice = IoSlice::new(&buf[piece]);
            }
            let written =
                Pin::new(&mut self.backend).poll_write_vectored(cx, &slices[..pieces.len()]);
            (written, None)
        } else {
            let data = pieces.gather_from(buf, 0);
            let written = Pin::new(&mut self.backend).poll_write(cx, &buf[data.clone()]);
            (written, Some(data))
        };
        let written = match written {
            Poll::Ready(Ok(n)) if n == total => return (Step::Moved, 0..0),
            Poll::Ready(Ok(0)) => {
                let e = "the backend took no bytes".to_owned();
                return (Step::End(SessionEnd::BackendError(e)), 0..0);
            }
            Poll::Ready(Ok(n)) => n,
            Poll::Pending => 0,
            Poll::Ready(Err(e)) => {
                return (Step::End(SessionEnd::BackendError(e.to_string())), 0..0)
            }
        };
        let rest = match together {
            Some(data) => data.start + written..data.end,
            None => pieces.gather_from(buf, written),
        };
        (Step::Moved, rest)
    }
}
