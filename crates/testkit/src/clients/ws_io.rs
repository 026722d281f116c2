//! A WebSocket seen as a byte stream, so that the test kit's protocol
//! clients (RFB, SPICE) run through the proxy unchanged.

use std::io;
use std::pin::Pin;
use std::task::{ready, Context, Poll};

use bytes::{Buf, Bytes};
use futures_util::{Sink, Stream};
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio_tungstenite::tungstenite::{Error as WsError, Message};

/// Writes become binary frames; frames read become bytes. Counts the
/// frames received.
pub struct WsIo<W> {
    ws: W,
    pending: Bytes,
    /// Data frames received so far.
    pub frames: usize,
}

impl<W> WsIo<W> {
    /// Wraps `ws`; `pending` holds bytes of a frame already taken off it.
    pub fn new(ws: W, pending: Bytes) -> Self {
        WsIo {
            ws,
            pending,
            frames: 0,
        }
    }

    /// The WebSocket.
    pub fn into_inner(self) -> W {
        self.ws
    }
}

fn other(e: WsError) -> io::Error {
    io::Error::other(e)
}

impl<W> AsyncRead for WsIo<W>
where
    W: Stream<Item = Result<Message, WsError>> + Unpin,
{
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        loop {
            if !self.pending.is_empty() {
                let n = self.pending.len().min(buf.remaining());
                buf.put_slice(&self.pending[..n]);
                self.pending.advance(n);
                return Poll::Ready(Ok(()));
            }
            match ready!(Pin::new(&mut self.ws).poll_next(cx)) {
                Some(Ok(Message::Binary(data))) => {
                    self.frames += 1;
                    self.pending = data;
                }
                Some(Ok(Message::Text(text))) => {
                    self.frames += 1;
                    self.pending = text.into();
                }
                Some(Ok(Message::Close(_))) | None => return Poll::Ready(Ok(())),
                Some(Ok(_)) => {}
                Some(Err(e)) => return Poll::Ready(Err(other(e))),
            }
        }
    }
}

impl<W> AsyncWrite for WsIo<W>
where
    W: Sink<Message, Error = WsError> + Unpin,
{
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        data: &[u8],
    ) -> Poll<io::Result<usize>> {
        ready!(Pin::new(&mut self.ws).poll_ready(cx)).map_err(other)?;
        Pin::new(&mut self.ws)
            .start_send(Message::binary(data.to_vec()))
            .map_err(other)?;
        // Push it out now; a pending flush completes on the next call.
        let _ = Pin::new(&mut self.ws).poll_flush(cx).map_err(other)?;
        Poll::Ready(Ok(data.len()))
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.ws).poll_flush(cx).map_err(other)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.ws).poll_close(cx).map_err(other)
    }
}
