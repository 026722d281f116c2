//! One direction of a raw (xvpvnc) session, polled: a read lands in the
//! worker thread's scratch buffer and is written on in the same poll, so
//! an idle session holds no buffer; what the writer cannot take yet waits
//! in the direction's [`Lane`], and nothing more is read until it is gone.

use std::pin::Pin;
use std::task::{ready, Context, Poll};

use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};

use crate::lane::{poll_write_once, with_scratch, Lane};
use crate::relay::READ_SIZE;
use crate::watchdog::Activity;

/// Which side failed.
#[derive(Debug)]
pub(crate) enum PumpError {
    /// Reading `from`.
    Read(String),
    /// Writing or shutting down `to`.
    Write(String),
}

#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
enum State {
    #[default]
    Relaying,
    /// `from` ended: `to` is being shut down (half-close).
    ShuttingDown,
    Done,
}

/// Copies one stream to another until the first ends, then shuts the
/// other down.
#[derive(Debug, Default)]
pub(crate) struct RawPump {
    lane: Lane,
    unflushed: bool,
    state: State,
}

/// What one read-and-write did.
enum Step {
    Moved,
    Idle,
    Ended,
}

impl RawPump {
    /// Moves what `from` has to `to`, counting it in `count`; ready once
    /// `from` has ended and `to` is shut down, or either fails.
    pub(crate) fn poll_pump<R, W>(
        &mut self,
        from: &mut R,
        to: &mut W,
        activity: &Activity,
        count: &mut u64,
        cx: &mut Context<'_>,
    ) -> Poll<Result<(), PumpError>>
    where
        R: AsyncRead + Unpin,
        W: AsyncWrite + Unpin,
    {
        let write_error = |e: std::io::Error| PumpError::Write(e.to_string());
        loop {
            match self.state {
                State::Done => return Poll::Ready(Ok(())),
                State::ShuttingDown => {
                    ready!(Pin::new(&mut *to).poll_shutdown(cx)).map_err(write_error)?;
                    self.state = State::Done;
                    continue;
                }
                State::Relaying => {}
            }
            ready!(self.lane.poll_drain(to, cx)).map_err(write_error)?;
            let step = if self.lane.is_held() {
                let mut buf = self.lane.lend();
                let moved = read_and_write(from, to, &mut buf, activity, count, cx);
                let (step, pending) = moved?;
                self.lane.restore(buf, pending);
                step
            } else {
                let lane = &mut self.lane;
                with_scratch(READ_SIZE, |buf| {
                    let (step, pending) = read_and_write(from, to, buf, activity, count, cx)?;
                    if !pending.is_empty() {
                        lane.keep(&buf[pending], READ_SIZE);
                    }
                    Ok(step)
                })?
            };
            match step {
                Step::Moved => self.unflushed = true,
                Step::Ended => self.state = State::ShuttingDown,
                Step::Idle => {
                    self.lane.release();
                    if self.unflushed {
                        if let Poll::Ready(flushed) = Pin::new(&mut *to).poll_flush(cx) {
                            flushed.map_err(write_error)?;
                            self.unflushed = false;
                        }
                    }
                    return Poll::Pending;
                }
            }
        }
    }
}

/// One read of `from` into `buf`, written on to `to` at once; returns
/// the part of `buf` still to write.
fn read_and_write<R, W>(
    from: &mut R,
    to: &mut W,
    buf: &mut [u8],
    activity: &Activity,
    count: &mut u64,
    cx: &mut Context<'_>,
) -> Result<(Step, std::ops::Range<usize>), PumpError>
where
    R: AsyncRead + Unpin,
    W: AsyncWrite + Unpin,
{
    let mut room = ReadBuf::new(buf);
    let n = match Pin::new(from).poll_read(cx, &mut room) {
        Poll::Pending => return Ok((Step::Idle, 0..0)),
        Poll::Ready(Err(e)) => return Err(PumpError::Read(e.to_string())),
        Poll::Ready(Ok(())) => room.filled().len(),
    };
    if n == 0 {
        return Ok((Step::Ended, 0..0));
    }
    activity.touch();
    *count += n as u64;
    match poll_write_once(to, cx, &buf[..n]) {
        Ok(None) => Ok((Step::Moved, 0..0)),
        Ok(Some(at)) => Ok((Step::Moved, at..n)),
        Err(e) => Err(PumpError::Write(e.to_string())),
    }
}
