//! Memory for bytes in flight. A read lands in the worker thread's scratch
//! buffer and is written on within the same poll, so an idle session
//! holds no buffer at all; only when the writer cannot take everything at
//! once does the rest move into a buffer of the session's own, which it
//! keeps while it stays busy and drops as soon as its reader is idle.

use std::cell::RefCell;
use std::io::{self, IoSlice};
use std::pin::Pin;
use std::task::{ready, Context, Poll};

use tokio::io::AsyncWrite;

thread_local! {
    static SCRATCH: RefCell<Vec<u8>> = const { RefCell::new(Vec::new()) };
}

/// Runs `f` on this thread's scratch buffer of `size` bytes. `f` must not
/// keep anything in it: the next session on the thread overwrites it.
pub(crate) fn with_scratch<R>(size: usize, f: impl FnOnce(&mut [u8]) -> R) -> R {
    SCRATCH.with(|cell| match cell.try_borrow_mut() {
        Ok(mut scratch) => {
            if scratch.len() < size {
                scratch.resize(size, 0);
            }
            f(&mut scratch[..size])
        }
        // Only a relay polled from inside another's read could get here.
        Err(_) => f(&mut vec![0; size]),
    })
}

/// Bytes one direction has read and not yet written on.
#[derive(Debug, Default)]
pub(crate) struct Lane {
    buf: Vec<u8>,
    start: usize,
    end: usize,
}

impl Lane {
    /// Whether every byte has been written on.
    pub(crate) fn is_drained(&self) -> bool {
        self.start == self.end
    }

    /// Whether the lane has a buffer of its own to read into.
    pub(crate) fn is_held(&self) -> bool {
        !self.buf.is_empty()
    }

    /// Lends the lane's own buffer (empty when it has none); give it back
    /// with [`Lane::restore`].
    pub(crate) fn lend(&mut self) -> Vec<u8> {
        std::mem::take(&mut self.buf)
    }

    /// Takes the lent buffer back, with `pending` of it still to write.
    pub(crate) fn restore(&mut self, buf: Vec<u8>, pending: std::ops::Range<usize>) {
        self.buf = buf;
        (self.start, self.end) = (pending.start, pending.end);
    }

    /// Keeps `rest`, which the writer could not take, in a buffer of
    /// `size` bytes of the lane's own.
    pub(crate) fn keep(&mut self, rest: &[u8], size: usize) {
        debug_assert!(self.is_drained());
        if self.buf.len() < size.max(rest.len()) {
            self.buf = vec![0; size.max(rest.len())];
        }
        self.buf[..rest.len()].copy_from_slice(rest);
        (self.start, self.end) = (0, rest.len());
    }

    /// Drops the lane's buffer once it is drained: the reader is idle.
    pub(crate) fn release(&mut self) {
        if self.is_drained() {
            self.buf = Vec::new();
            (self.start, self.end) = (0, 0);
        }
    }

    /// Writes what the lane holds to `to`.
    pub(crate) fn poll_drain<W: AsyncWrite + Unpin>(
        &mut self,
        to: &mut W,
        cx: &mut Context<'_>,
    ) -> Poll<io::Result<()>> {
        while self.start < self.end {
            let n = ready!(Pin::new(&mut *to).poll_write(cx, &self.buf[self.start..self.end]))?;
            if n == 0 {
                return Poll::Ready(Err(io::ErrorKind::WriteZero.into()));
            }
            self.start += n;
        }
        Poll::Ready(Ok(()))
    }
}

/// What one attempt to write `bytes` to `to` left over: `None` when all
/// went out, else the offset of the first byte still to write.
pub(crate) fn poll_write_once<W: AsyncWrite + Unpin>(
    to: &mut W,
    cx: &mut Context<'_>,
    bytes: &[u8],
) -> io::Result<Option<usize>> {
    left_over(Pin::new(to).poll_write(cx, bytes), bytes.len())
}

/// [`poll_write_once`] of `parts`, `total` bytes in all, in one vectored
/// write.
pub(crate) fn poll_write_vectored_once<W: AsyncWrite + Unpin>(
    to: &mut W,
    cx: &mut Context<'_>,
    parts: &[IoSlice<'_>],
    total: usize,
) -> io::Result<Option<usize>> {
    left_over(Pin::new(to).poll_write_vectored(cx, parts), total)
}

/// What a write of `total` bytes that went as `written` left over.
fn left_over(written: Poll<io::Result<usize>>, total: usize) -> io::Result<Option<usize>> {
    match written {
        Poll::Ready(Ok(n)) if n == total => Ok(None),
        Poll::Ready(Ok(0)) => Err(io::ErrorKind::WriteZero.into()),
        Poll::Ready(Ok(n)) => Ok(Some(n)),
        Poll::Ready(Err(e)) => Err(e),
        Poll::Pending => Ok(Some(0)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_lane_holds_memory_only_while_it_must() {
        let mut lane = Lane::default();
        assert!(lane.is_drained() && !lane.is_held());
        lane.keep(b"rest", 64);
        assert!(!lane.is_drained() && lane.is_held());
        // Not drained: release keeps the bytes.
        lane.release();
        assert!(lane.is_held());
        let buf = lane.lend();
        assert_eq!(&buf[..4], b"rest");
        lane.restore(buf, 4..4);
        lane.release();
        assert!(!lane.is_held());
    }

    #[test]
    fn scratch_is_as_large_as_asked() {
        assert_eq!(with_scratch(100, |b| b.len()), 100);
        assert_eq!(with_scratch(10, |b| b.len()), 10);
        // Re-entered, it still works (with a buffer of its own).
        let nested = with_scratch(8, |outer| {
            outer[0] = 1;
            with_scratch(8, |inner| inner.len())
        });
        assert_eq!(nested, 8);
    }
}
