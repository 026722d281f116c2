//! Opening TCP backends, with Nova's `CONNECT <path>` handshake.

use std::time::Duration;

use tokio::io::{AsyncRead, AsyncWrite, AsyncWriteExt};
use tokio::net::TcpStream;

use crate::error::ConsoleError;
use crate::http_head::read_response;
use crate::record::ConnectInfo;

/// How long a backend may take to accept a connection.
pub(crate) const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);

/// Opens TCP to `host:port`, with `TCP_NODELAY` (consoles are interactive).
///
/// # Errors
/// [`ConsoleError::ServiceUnavailable`] when the backend refuses or does not
/// answer within ten seconds.
pub async fn open_tcp(host: &str, port: u16) -> Result<TcpStream, ConsoleError> {
    let connecting = TcpStream::connect((host, port));
    let stream = tokio::time::timeout(CONNECT_TIMEOUT, connecting)
        .await
        .map_err(|_| unavailable(host, port, "timed out"))?
        .map_err(|e| unavailable(host, port, &e.to_string()))?;
    // Nagle would hold back single keystrokes; failure to set it is harmless.
    let _ = stream.set_nodelay(true);
    Ok(stream)
}

/// Opens the backend of `info`: TCP to its host and port, then, when it
/// has an internal access path, the `CONNECT` handshake.
///
/// # Errors
/// [`ConsoleError::ServiceUnavailable`] when either step fails.
pub async fn open_tcp_backend(info: &ConnectInfo) -> Result<TcpStream, ConsoleError> {
    let mut stream = open_tcp(&info.host, info.port).await?;
    if let Some(path) = info
        .internal_access_path
        .as_deref()
        .filter(|p| !p.is_empty())
    {
        tokio::time::timeout(CONNECT_TIMEOUT, connect_path_handshake(&mut stream, path))
            .await
            .map_err(|_| unavailable(&info.host, info.port, "CONNECT handshake timed out"))??;
    }
    Ok(stream)
}

/// Sends `CONNECT <path> HTTP/1.1` and requires the status code `200`,
/// consuming the response head up to its blank line and not one byte more
/// (the console protocol follows at once).
///
/// # Errors
/// [`ConsoleError::ServiceUnavailable`] when the backend refuses or answers
/// something else.
pub(crate) async fn connect_path_handshake<S>(
    stream: &mut S,
    path: &str,
) -> Result<(), ConsoleError>
where
    S: AsyncRead + AsyncWrite + Unpin,
{
    if path.bytes().any(|b| b.is_ascii_control() || b == b' ') {
        return Err(ConsoleError::ServiceUnavailable(
            "invalid internal access path".into(),
        ));
    }
    let failed =
        |why: String| ConsoleError::ServiceUnavailable(format!("CONNECT handshake failed: {why}"));
    stream
        .write_all(format!("CONNECT {path} HTTP/1.1\r\n\r\n").as_bytes())
        .await
        .map_err(|e| failed(e.to_string()))?;
    let head = read_response(stream)
        .await
        .map_err(|e| failed(e.to_string()))?;
    if head.code != 200 {
        return Err(failed(format!(
            "backend answered {} {:?}",
            head.code, head.reason
        )));
    }
    Ok(())
}

fn unavailable(host: &str, port: u16, why: &str) -> ConsoleError {
    ConsoleError::ServiceUnavailable(format!("console backend {host}:{port} unreachable: {why}"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use tokio::io::{duplex, AsyncReadExt};

    #[tokio::test]
    async fn handshake_consumes_exactly_the_head() {
        let (mut ours, mut theirs) = duplex(1024);
        let peer = tokio::spawn(async move {
            let mut buf = vec![0u8; 64];
            let n = theirs.read(&mut buf).await.unwrap();
            assert_eq!(&buf[..n], b"CONNECT /vm/1 HTTP/1.1\r\n\r\n");
            theirs
                .write_all(b"HTTP/1.1 200 OK\r\nX: y\r\n\r\nRFB 003.008\n")
                .await
                .unwrap();
        });
        connect_path_handshake(&mut ours, "/vm/1").await.unwrap();
        let mut rest = [0u8; 12];
        ours.read_exact(&mut rest).await.unwrap();
        assert_eq!(&rest, b"RFB 003.008\n");
        peer.await.unwrap();
    }

    #[tokio::test]
    async fn handshake_refused() {
        let (mut ours, mut theirs) = duplex(1024);
        tokio::spawn(async move {
            let mut buf = vec![0u8; 64];
            let _ = theirs.read(&mut buf).await;
            let _ = theirs.write_all(b"HTTP/1.1 403 Forbidden\r\n\r\n").await;
        });
        let err = connect_path_handshake(&mut ours, "/vm/1")
            .await
            .unwrap_err();
        assert_eq!(err.status(), 503);
    }

    #[tokio::test]
    async fn the_status_code_itself_must_be_200() {
        for answer in [
            &b"HTTP/1.1 404 not 200\r\n\r\n"[..],
            b"HTTP/1.1 2000 OK\r\n\r\n",
            b"200 OK\r\n\r\n",
        ] {
            let (mut ours, mut theirs) = duplex(1024);
            tokio::spawn(async move {
                let mut buf = vec![0u8; 64];
                let _ = theirs.read(&mut buf).await;
                let _ = theirs.write_all(answer).await;
            });
            let err = connect_path_handshake(&mut ours, "/vm/1")
                .await
                .unwrap_err();
            assert_eq!(err.status(), 503, "{answer:?}");
        }
    }

    #[tokio::test]
    async fn refuses_injection_in_path() {
        let (mut ours, _theirs) = duplex(64);
        assert!(connect_path_handshake(&mut ours, "/a HTTP/1.1\r\nHost: x")
            .await
            .is_err());
    }
}
