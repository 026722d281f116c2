//! Opening backends (TCP or a UNIX socket), with Nova's `CONNECT <path>`
//! handshake.

use std::time::Duration;

use tokio::io::{AsyncRead, AsyncWrite, AsyncWriteExt};
use tokio::net::{TcpStream, UnixStream};

use crate::driver::BackendStream;
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

/// Opens the UNIX socket at `path`.
///
/// # Errors
/// [`ConsoleError::ServiceUnavailable`] when nothing listens there or the
/// connection does not complete within ten seconds.
pub async fn open_unix(path: &str) -> Result<UnixStream, ConsoleError> {
    let failed =
        |why: &str| ConsoleError::ServiceUnavailable(format!("console socket {path}: {why}"));
    tokio::time::timeout(CONNECT_TIMEOUT, UnixStream::connect(path))
        .await
        .map_err(|_| failed("timed out"))?
        .map_err(|e| failed(&e.to_string()))
}

/// Opens the backend of `info`: its UNIX socket when it has one, else TCP
/// to its host and port; then, when it has an internal access path, the
/// `CONNECT` handshake.
///
/// # Errors
/// [`ConsoleError::ServiceUnavailable`] when either step fails.
pub async fn open_backend(info: &ConnectInfo) -> Result<BackendStream, ConsoleError> {
    match &info.unix_socket {
        Some(path) => {
            let mut stream = open_unix(path).await?;
            handshake_if_asked(&mut stream, info, path).await?;
            Ok(Box::new(stream))
        }
        None => Ok(Box::new(open_tcp_backend(info).await?)),
    }
}

/// Opens TCP to `info`'s host and port, then, when it has an internal
/// access path, the `CONNECT` handshake. A UNIX socket in `info` is not
/// looked at: [`open_backend`] is the one that honours it.
///
/// # Errors
/// [`ConsoleError::ServiceUnavailable`] when either step fails.
pub async fn open_tcp_backend(info: &ConnectInfo) -> Result<TcpStream, ConsoleError> {
    let mut stream = open_tcp(&info.host, info.port).await?;
    let place = format!("{}:{}", info.host, info.port);
    handshake_if_asked(&mut stream, info, &place).await?;
    Ok(stream)
}

async fn handshake_if_asked<S>(
    stream: &mut S,
    info: &ConnectInfo,
    place: &str,
) -> Result<(), ConsoleError>
where
    S: AsyncRead + AsyncWrite + Unpin,
{
    let Some(path) = info
        .internal_access_path
        .as_deref()
        .filter(|p| !p.is_empty())
    else {
        return Ok(());
    };
    tokio::time::timeout(CONNECT_TIMEOUT, connect_path_handshake(stream, path))
        .await
        .map_err(|_| {
            ConsoleError::ServiceUnavailable(format!(
                "console backend {place} unreachable: CONNECT handshake timed out"
            ))
        })?
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
    async fn a_unix_socket_is_opened_instead_of_tcp() {
        let dir = std::env::temp_dir().join(format!("consoled-unix-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("console.sock");
        let _ = std::fs::remove_file(&path);
        let listener = tokio::net::UnixListener::bind(&path).unwrap();
        let info = ConnectInfo {
            host: "hv1".into(),
            port: 0,
            tls_port: None,
            internal_access_path: None,
            unix_socket: Some(path.display().to_string()),
        };
        let peer = tokio::spawn(async move {
            let (mut s, _) = listener.accept().await.unwrap();
            s.write_all(b"RFB 003.008\n").await.unwrap();
        });
        let mut stream = open_backend(&info).await.unwrap();
        let mut hello = [0u8; 12];
        stream.read_exact(&mut hello).await.unwrap();
        assert_eq!(&hello, b"RFB 003.008\n");
        peer.await.unwrap();
        std::fs::remove_file(&path).unwrap();
        let err = open_backend(&info).await.err().expect("nothing listens");
        assert_eq!(err.status(), 503);
        assert!(err.to_string().contains("console.sock"), "{err}");
        let _ = std::fs::remove_dir_all(&dir);
    }

    #[tokio::test]
    async fn refuses_injection_in_path() {
        let (mut ours, _theirs) = duplex(64);
        assert!(connect_path_handshake(&mut ours, "/a HTTP/1.1\r\nHost: x")
            .await
            .is_err());
    }
}
