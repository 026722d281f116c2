//! The backend side of Nova's `CONNECT <path>` handshake.

use std::io;

use consoled_core::http_head::{read_request_exactly, ReadHeadError};
use tokio::io::{AsyncRead, AsyncWrite, AsyncWriteExt};

/// How long a connection may take to send its `CONNECT` request.
const CONNECT_WAIT: std::time::Duration = std::time::Duration::from_secs(5);

/// How long a refused peer gets to read the refusal and close.
const DRAIN_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(2);

/// Reads `CONNECT <path> HTTP/1.1` up to its blank line and answers `200`
/// when the path is `expected`, `404` (then an error: the caller closes)
/// when it is another, `400` when the request is no `CONNECT` at all.
///
/// Every endpoint of the kit that can sit behind a `CONNECT` path uses it;
/// a driver crate's own fake endpoint can too.
///
/// # Errors
/// When the stream fails, no `CONNECT` request arrives within five seconds,
/// or the request is not `CONNECT <expected>`; the peer has then been
/// answered and the caller should close.
pub async fn expect_connect_path<S>(stream: &mut S, expected: &str) -> io::Result<()>
where
    S: AsyncRead + AsyncWrite + Unpin,
{
    // Nothing past the head: a client may send console bytes right behind
    // it, and they are the console's.
    let read = match tokio::time::timeout(CONNECT_WAIT, read_request_exactly(stream)).await {
        Ok(read) => read,
        Err(_) => {
            // A client that skipped the handshake waits for us to speak
            // first; answering breaks the deadlock and fails it quickly.
            refuse(stream, b"HTTP/1.1 400 Bad Request\r\n\r\n").await?;
            return Err(invalid("no CONNECT request arrived".into()));
        }
    };
    let head = match read {
        Ok(Some(done)) => done,
        Ok(None) => return Err(io::ErrorKind::UnexpectedEof.into()),
        Err(ReadHeadError::Io(e)) => return Err(e),
        Err(e) => {
            refuse(stream, b"HTTP/1.1 400 Bad Request\r\n\r\n").await?;
            return Err(invalid(format!("expected a CONNECT request: {e}")));
        }
    };
    if head.method != "CONNECT" {
        refuse(stream, b"HTTP/1.1 400 Bad Request\r\n\r\n").await?;
        return Err(invalid(format!(
            "expected a CONNECT request, got {} {}",
            head.method, head.target
        )));
    }
    if head.target != expected {
        refuse(stream, b"HTTP/1.1 404 Not Found\r\n\r\n").await?;
        return Err(invalid(format!(
            "CONNECT to unknown path {:?}",
            head.target
        )));
    }
    stream.write_all(b"HTTP/1.1 200 OK\r\n\r\n").await
}

/// Sends the refusal and lets the peer read it: closing with unread input
/// would make the kernel send a reset, which can destroy the answer before
/// the peer reads it.
async fn refuse<S>(stream: &mut S, answer: &[u8]) -> io::Result<()>
where
    S: AsyncRead + AsyncWrite + Unpin,
{
    stream.write_all(answer).await?;
    stream.shutdown().await?;
    let mut sink = tokio::io::sink();
    let drain = tokio::io::copy(stream, &mut sink);
    let _ = tokio::time::timeout(DRAIN_TIMEOUT, drain).await;
    Ok(())
}

pub(crate) fn invalid(message: String) -> io::Error {
    io::Error::new(io::ErrorKind::InvalidData, message)
}
