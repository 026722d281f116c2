//! The tap on a recorded session's backend stream: what the relay reads
//! from it went to the client, what the relay wrote to it came from the
//! client. Each chunk is copied into a bounded queue without waiting; a
//! full queue drops the chunk and marks the recording incomplete, so a
//! disk that cannot keep up never slows the session.

use std::io::{self, IoSlice};
use std::pin::Pin;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::Arc;
use std::task::{Context, Poll};

use bytes::{Bytes, BytesMut};
use consoled_core::BackendStream;
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::sync::mpsc;
use tokio::sync::mpsc::error::TrySendError;
use tokio::time::Instant;

use super::{Chunk, Direction, Lost};

/// The most bytes a session's queue holds for its writer; beyond it chunks
/// are dropped (the disk is not keeping up).
pub(crate) const QUEUE_BYTES: usize = 8 * 1024 * 1024;

/// The most chunks it holds.
pub(crate) const QUEUE_CHUNKS: usize = 1024;

/// What the tap and the writer share.
#[derive(Default)]
pub(crate) struct Shared {
    /// Bytes queued and not yet encoded.
    pub(crate) queued: AtomicUsize,
    /// Bytes dropped after the last chunk that was queued.
    lost_at_end: [AtomicU64; 2],
}

impl Shared {
    pub(crate) fn lost_at_end(&self) -> Lost {
        Lost {
            to_client: self.lost_at_end[0].load(Ordering::Relaxed),
            to_backend: self.lost_at_end[1].load(Ordering::Relaxed),
        }
    }
}

/// A backend stream that copies what passes into a recording.
pub(crate) struct Tap {
    inner: BackendStream,
    feed: Option<Feed>,
}

struct Feed {
    chunks: mpsc::Sender<Chunk>,
    shared: Arc<Shared>,
    started: Instant,
    /// Dropped since the last chunk queued.
    lost: Lost,
    session: String,
    warned: bool,
}

impl Tap {
    pub(crate) fn new(
        inner: BackendStream,
        chunks: mpsc::Sender<Chunk>,
        shared: Arc<Shared>,
        started: Instant,
        session: String,
    ) -> Tap {
        Tap {
            inner,
            feed: Some(Feed {
                chunks,
                shared,
                started,
                lost: Lost::default(),
                session,
                warned: false,
            }),
        }
    }

    fn record(&mut self, direction: Direction, bytes: impl FnOnce() -> Bytes, len: usize) {
        let Some(feed) = &mut self.feed else {
            return;
        };
        if feed.shared.queued.load(Ordering::Relaxed) + len > QUEUE_BYTES {
            feed.drop_chunk(direction, len);
            return;
        }
        let chunk = Chunk {
            at: feed.started.elapsed(),
            direction,
            bytes: bytes(),
            lost_before: feed.lost,
        };
        feed.shared.queued.fetch_add(len, Ordering::Relaxed);
        match feed.chunks.try_send(chunk) {
            Ok(()) => feed.lost = Lost::default(),
            Err(TrySendError::Full(_)) => {
                feed.shared.queued.fetch_sub(len, Ordering::Relaxed);
                feed.drop_chunk(direction, len);
            }
            // The writer gave up (logged there): record no more.
            Err(TrySendError::Closed(_)) => self.feed = None,
        }
    }
}

impl Feed {
    fn drop_chunk(&mut self, direction: Direction, len: usize) {
        match direction {
            Direction::ToClient => self.lost.to_client += len as u64,
            Direction::ToBackend => self.lost.to_backend += len as u64,
        }
        if !std::mem::replace(&mut self.warned, true) {
            tracing::warn!(
                session = %self.session,
                "recording cannot keep up: bytes dropped, the recording is marked incomplete \
                 (the session goes on)"
            );
        }
    }
}

impl Drop for Tap {
    fn drop(&mut self) {
        if let Some(feed) = &self.feed {
            feed.shared.lost_at_end[0].store(feed.lost.to_client, Ordering::Relaxed);
            feed.shared.lost_at_end[1].store(feed.lost.to_backend, Ordering::Relaxed);
        }
    }
}

impl AsyncRead for Tap {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        let before = buf.filled().len();
        let read = Pin::new(&mut this.inner).poll_read(cx, buf);
        if let Poll::Ready(Ok(())) = read {
            let new = &buf.filled()[before..];
            if !new.is_empty() {
                this.record(
                    Direction::ToClient,
                    || Bytes::copy_from_slice(new),
                    new.len(),
                );
            }
        }
        read
    }
}

impl AsyncWrite for Tap {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        let this = self.get_mut();
        let written = Pin::new(&mut this.inner).poll_write(cx, buf);
        if let Poll::Ready(Ok(n)) = written {
            if n > 0 {
                this.record(
                    Direction::ToBackend,
                    || Bytes::copy_from_slice(&buf[..n]),
                    n,
                );
            }
        }
        written
    }

    fn poll_write_vectored(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        let this = self.get_mut();
        let written = Pin::new(&mut this.inner).poll_write_vectored(cx, bufs);
        if let Poll::Ready(Ok(n)) = written {
            if n > 0 {
                this.record(Direction::ToBackend, || written_prefix(bufs, n), n);
            }
        }
        written
    }

    fn is_write_vectored(&self) -> bool {
        self.inner.is_write_vectored()
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().inner).poll_flush(cx)
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().inner).poll_shutdown(cx)
    }
}

/// The first `n` bytes of `bufs`, in one piece.
fn written_prefix(bufs: &[IoSlice<'_>], n: usize) -> Bytes {
    let mut prefix = BytesMut::with_capacity(n);
    for buf in bufs {
        let take = (n - prefix.len()).min(buf.len());
        prefix.extend_from_slice(&buf[..take]);
        if prefix.len() == n {
            break;
        }
    }
    prefix.freeze()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_vectored_write_records_what_was_written_across_slices() {
        let bufs = [
            IoSlice::new(b"ab"),
            IoSlice::new(b""),
            IoSlice::new(b"cdef"),
        ];
        assert_eq!(&written_prefix(&bufs, 4)[..], b"abcd");
        assert_eq!(&written_prefix(&bufs, 1)[..], b"a");
        assert_eq!(&written_prefix(&bufs, 6)[..], b"abcdef");
    }
}
