//! The browser's side of the security proxy: a stream that plays the VNC
//! server's part of the RFB 3.8 handshake with security type None, then
//! relays to the real server, whose security the proxy has already
//! negotiated.

use std::io;
use std::pin::Pin;
use std::task::{Context, Poll, Waker};

use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};

use crate::handshake::RFB_3_8;

/// RFB security type None.
const NONE: u8 = 1;

/// Nova's words to a client that picks another security type.
const ONLY_NONE: &str = "Only the security type None (1) is supported";

/// Where the client is in the handshake the stream plays.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Phase {
    /// Collecting the client's 12-byte ProtocolVersion.
    Version,
    /// Collecting the client's one-byte security type.
    Choice,
    /// Handshake done: everything passes through.
    Relay,
    /// The client broke the handshake: it reads the refusal, then end of
    /// stream; what it writes is dropped.
    Refused,
}

/// Wraps the stream to a VNC server whose handshake is done up to and
/// including SecurityResult, and presents it to an RFB 3.8 client as a
/// server offering security type None.
///
/// The client reads `RFB 003.008\n`, then, once it has sent the same
/// version, `[1, 1]` (one type: None), then, once it has chosen None,
/// SecurityResult OK; its 13 handshake bytes never reach the server.
/// Everything after that (ClientInit onwards) passes through both ways. A
/// client that asks for another version or type reads RFB's failure
/// message for that step and then end of stream; nothing it sent reaches
/// the server.
#[derive(Debug)]
pub struct PresentedNone<S> {
    inner: S,
    phase: Phase,
    /// What the client has yet to read of our side of the handshake.
    to_client: Vec<u8>,
    read_at: usize,
    version: [u8; 12],
    version_len: usize,
    /// A read waiting for the client's next handshake write.
    reader: Option<Waker>,
}

impl<S> PresentedNone<S> {
    /// Presents `inner` (past the server's SecurityResult) to a client.
    pub fn new(inner: S) -> Self {
        PresentedNone {
            inner,
            phase: Phase::Version,
            to_client: RFB_3_8.to_vec(),
            read_at: 0,
            version: [0; 12],
            version_len: 0,
            reader: None,
        }
    }

    /// Whether the client has finished the handshake and bytes now pass
    /// through.
    pub fn relaying(&self) -> bool {
        self.phase == Phase::Relay && self.read_at == self.to_client.len()
    }

    /// The stream to the server.
    pub fn into_inner(self) -> S {
        self.inner
    }

    /// Takes the client's handshake bytes from `buf`; returns how many.
    fn take_handshake(&mut self, buf: &[u8]) -> usize {
        match self.phase {
            Phase::Version => {
                let n = (self.version.len() - self.version_len).min(buf.len());
                self.version[self.version_len..self.version_len + n].copy_from_slice(&buf[..n]);
                self.version_len += n;
                if self.version_len == self.version.len() {
                    if &self.version == RFB_3_8 {
                        self.say(&[1, NONE], Phase::Choice);
                    } else {
                        let reason = format!(
                            "The security proxy needs RFB 003.008; the client asked for {:?}",
                            String::from_utf8_lossy(&self.version)
                        );
                        let mut refusal = vec![0];
                        refusal.extend_from_slice(&reason_string(&reason));
                        self.say(&refusal, Phase::Refused);
                    }
                }
                n
            }
            Phase::Choice => {
                if buf[0] == NONE {
                    self.say(&[0, 0, 0, 0], Phase::Relay);
                } else {
                    let mut refusal = vec![0, 0, 0, 1];
                    refusal.extend_from_slice(&reason_string(ONLY_NONE));
                    self.say(&refusal, Phase::Refused);
                }
                1
            }
            Phase::Refused => buf.len(),
            Phase::Relay => unreachable!("relayed writes are not handshake bytes"),
        }
    }

    /// Queues `bytes` for the client, moves to `next` and wakes a read
    /// that was waiting for them.
    fn say(&mut self, bytes: &[u8], next: Phase) {
        self.to_client.drain(..self.read_at);
        self.read_at = 0;
        self.to_client.extend_from_slice(bytes);
        self.phase = next;
        if let Some(reader) = self.reader.take() {
            reader.wake();
        }
    }
}

/// An RFB reason string: `u32` length, then the text.
fn reason_string(text: &str) -> Vec<u8> {
    let len = u32::try_from(text.len()).unwrap_or(u32::MAX);
    let mut out = len.to_be_bytes().to_vec();
    out.extend_from_slice(text.as_bytes());
    out
}

impl<S: AsyncRead + Unpin> AsyncRead for PresentedNone<S> {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        if this.read_at < this.to_client.len() {
            let pending = &this.to_client[this.read_at..];
            let n = pending.len().min(buf.remaining());
            buf.put_slice(&pending[..n]);
            this.read_at += n;
            if this.read_at == this.to_client.len() && this.phase == Phase::Relay {
                // Idle sessions hold no handshake buffer.
                this.to_client = Vec::new();
                this.read_at = 0;
            }
            return Poll::Ready(Ok(()));
        }
        match this.phase {
            Phase::Relay => Pin::new(&mut this.inner).poll_read(cx, buf),
            Phase::Refused => Poll::Ready(Ok(())),
            Phase::Version | Phase::Choice => {
                this.reader = Some(cx.waker().clone());
                Poll::Pending
            }
        }
    }
}

impl<S: AsyncWrite + Unpin> AsyncWrite for PresentedNone<S> {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        let this = self.get_mut();
        if this.phase == Phase::Relay {
            return Pin::new(&mut this.inner).poll_write(cx, buf);
        }
        if buf.is_empty() {
            return Poll::Ready(Ok(0));
        }
        Poll::Ready(Ok(this.take_handshake(buf)))
    }

    fn poll_write_vectored(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        let this = self.get_mut();
        if this.phase == Phase::Relay {
            return Pin::new(&mut this.inner).poll_write_vectored(cx, bufs);
        }
        let first = bufs.iter().find(|b| !b.is_empty()).map_or(&[][..], |b| b);
        Pin::new(this).poll_write(cx, first)
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

#[cfg(test)]
mod tests {
    use super::*;
    use tokio::io::{duplex, AsyncReadExt, AsyncWriteExt, DuplexStream};

    async fn read_n<R: AsyncRead + Unpin>(r: &mut R, n: usize) -> Vec<u8> {
        let mut buf = vec![0u8; n];
        r.read_exact(&mut buf).await.unwrap();
        buf
    }

    fn pair() -> (PresentedNone<DuplexStream>, DuplexStream) {
        let (ours, server) = duplex(1024);
        (PresentedNone::new(ours), server)
    }

    #[tokio::test]
    async fn a_client_sees_security_none_and_then_the_server() {
        let (mut client, mut server) = pair();
        assert_eq!(read_n(&mut client, 12).await, b"RFB 003.008\n");
        client.write_all(b"RFB 003.008\n").await.unwrap();
        assert_eq!(read_n(&mut client, 2).await, [1, 1]);
        client.write_all(&[1]).await.unwrap();
        assert_eq!(read_n(&mut client, 4).await, [0, 0, 0, 0]);
        assert!(client.relaying());
        // ClientInit (shared) is the first byte the server sees.
        client.write_all(&[1]).await.unwrap();
        assert_eq!(read_n(&mut server, 1).await, [1]);
        server.write_all(b"ServerInit").await.unwrap();
        assert_eq!(read_n(&mut client, 10).await, b"ServerInit");
        drop(client);
        let mut rest = Vec::new();
        server.read_to_end(&mut rest).await.unwrap();
        assert!(rest.is_empty(), "only ClientInit reached the server");
    }

    #[tokio::test]
    async fn a_client_that_sends_everything_at_once_is_served_in_order() {
        let (mut client, mut server) = pair();
        client
            .write_all(b"RFB 003.008\n\x01\x01more")
            .await
            .unwrap();
        assert_eq!(
            read_n(&mut client, 18).await,
            b"RFB 003.008\n\x01\x01\0\0\0\0"
        );
        assert_eq!(read_n(&mut server, 5).await, b"\x01more");
    }

    #[tokio::test]
    async fn handshake_bytes_may_come_one_at_a_time() {
        let (mut client, mut server) = pair();
        for b in b"RFB 003.008\n\x01\x00" {
            client.write_all(&[*b]).await.unwrap();
        }
        assert_eq!(
            read_n(&mut client, 18).await,
            b"RFB 003.008\n\x01\x01\0\0\0\0"
        );
        assert_eq!(read_n(&mut server, 1).await, [0]);
    }

    #[tokio::test]
    async fn a_waiting_read_is_woken_by_the_clients_version() {
        let (client, mut server) = pair();
        let (mut reader, mut writer) = tokio::io::split(client);
        let reading = tokio::spawn(async move { read_n(&mut reader, 14).await });
        // The read is parked once the version is consumed; the write wakes it.
        tokio::task::yield_now().await;
        writer.write_all(b"RFB 003.008\n").await.unwrap();
        assert_eq!(reading.await.unwrap(), b"RFB 003.008\n\x01\x01");
        writer.write_all(&[1, 1]).await.unwrap();
        assert_eq!(read_n(&mut server, 1).await, [1]);
    }

    #[tokio::test]
    async fn another_version_is_refused_with_a_reason_and_nothing_reaches_the_server() {
        let (mut client, mut server) = pair();
        client.write_all(b"RFB 003.003\n").await.unwrap();
        let mut seen = Vec::new();
        client.read_to_end(&mut seen).await.unwrap();
        assert_eq!(&seen[..12], b"RFB 003.008\n");
        assert_eq!(seen[12], 0, "no security types: a failure");
        let reason = String::from_utf8_lossy(&seen[17..]).into_owned();
        assert!(
            reason.contains("RFB 003.008") && reason.contains("003.003"),
            "{reason}"
        );
        assert_eq!(
            u32::from_be_bytes(seen[13..17].try_into().unwrap()) as usize,
            reason.len()
        );
        client.write_all(b"ignored").await.unwrap();
        drop(client);
        let mut rest = Vec::new();
        server.read_to_end(&mut rest).await.unwrap();
        assert!(rest.is_empty());
    }

    #[tokio::test]
    async fn another_security_type_is_refused_as_nova_refuses_it() {
        let (mut client, mut server) = pair();
        client.write_all(b"RFB 003.008\n\x02").await.unwrap();
        let mut seen = Vec::new();
        client.read_to_end(&mut seen).await.unwrap();
        assert_eq!(&seen[..14], b"RFB 003.008\n\x01\x01");
        assert_eq!(&seen[14..18], [0, 0, 0, 1], "SecurityResult failed");
        assert_eq!(&seen[22..], ONLY_NONE.as_bytes());
        drop(client);
        let mut rest = Vec::new();
        server.read_to_end(&mut rest).await.unwrap();
        assert!(rest.is_empty());
    }
}
