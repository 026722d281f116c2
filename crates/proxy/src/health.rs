//! The health endpoint load balancers poll: `GET /healthz`, no token.

use std::io;

use tokio::io::{AsyncWrite, AsyncWriteExt};

use crate::http_head::RequestHead;
use crate::response::response_head;

/// The path of the health endpoint.
pub const HEALTH_PATH: &str = "/healthz";

const BODY: &[u8] = b"ok\n";

/// Whether `head` asks for the health endpoint.
pub(crate) fn is_health_check(head: &RequestHead) -> bool {
    head.path() == HEALTH_PATH && matches!(head.method.as_str(), "GET" | "HEAD")
}

/// Answers a health check: the listener is accepting and serving, which
/// is what a load balancer needs to know. Returns whether the connection
/// may serve another request.
pub(crate) async fn respond<S>(
    stream: &mut S,
    head: &RequestHead,
    accepting: bool,
) -> io::Result<bool>
where
    S: AsyncWrite + Unpin,
{
    let keep_alive = head.keep_alive() && accepting;
    let (status, body): (u16, &[u8]) = if accepting {
        (200, BODY)
    } else {
        (503, b"shutting down\n")
    };
    let headers = [
        ("Content-Type", "text/plain; charset=utf-8"),
        ("Cache-Control", "no-store"),
    ];
    let mut response =
        response_head(status, &headers, Some(body.len() as u64), keep_alive).into_bytes();
    if head.method != "HEAD" {
        response.extend_from_slice(body);
    }
    stream.write_all(&response).await?;
    stream.flush().await?;
    Ok(keep_alive)
}
