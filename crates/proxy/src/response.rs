//! Writing the few plain HTTP responses the proxy gives.

use std::io;

use tokio::io::{AsyncWrite, AsyncWriteExt};

/// The head of a response, ending in its blank line.
pub(crate) fn response_head(
    status: u16,
    headers: &[(&str, &str)],
    content_length: Option<u64>,
    keep_alive: bool,
) -> String {
    let reason = http::StatusCode::from_u16(status)
        .ok()
        .and_then(|s| s.canonical_reason())
        .unwrap_or("Unknown");
    let mut head = format!("HTTP/1.1 {status} {reason}\r\n");
    for (name, value) in headers {
        head.push_str(name);
        head.push_str(": ");
        head.push_str(value);
        head.push_str("\r\n");
    }
    if let Some(len) = content_length {
        head.push_str(&format!("Content-Length: {len}\r\n"));
    }
    head.push_str(if keep_alive {
        "Connection: keep-alive\r\n\r\n"
    } else {
        "Connection: close\r\n\r\n"
    });
    head
}

/// A response with an empty body, after which the connection closes.
///
/// Refusals use it: a client must find nothing it could read as data
/// (Tempest reads whatever follows the head as a WebSocket frame).
pub(crate) async fn write_empty<S>(
    stream: &mut S,
    status: u16,
    headers: &[(&str, &str)],
) -> io::Result<()>
where
    S: AsyncWrite + Unpin,
{
    stream
        .write_all(response_head(status, headers, Some(0), false).as_bytes())
        .await?;
    stream.flush().await?;
    // Closing our write side lets the client see the end at once, even
    // while it still has bytes in flight to us.
    stream.shutdown().await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn heads_are_well_formed() {
        assert_eq!(
            response_head(403, &[], Some(0), false),
            "HTTP/1.1 403 Forbidden\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"
        );
        assert_eq!(
            response_head(200, &[("Content-Type", "text/html")], Some(5), true),
            "HTTP/1.1 200 OK\r\nContent-Type: text/html\r\nContent-Length: 5\r\nConnection: keep-alive\r\n\r\n"
        );
    }
}
