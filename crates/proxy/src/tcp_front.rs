//! xvpvnc's raw TCP front: the client sends one HTTP request line whose
//! query carries `token=`, we answer `HTTP/1.1 200 OK` and relay raw bytes
//! on the same socket. Not an HTTP server: the head is read with the
//! core's small reader, and anything that is not a raw console request
//! (a health check, a page, a WebSocket on a listener that also has one)
//! goes to hyper with the bytes read so far.

use std::io;
use std::net::SocketAddr;
use std::sync::Arc;

use consoled_core::http_head::{read_request, ReadHeadError, RequestHead};
use consoled_core::Front;
use http::{HeaderMap, Request, StatusCode, Version};
use tokio::io::{AsyncRead, AsyncWrite, AsyncWriteExt};
use tokio::time::timeout;

use crate::connection;
use crate::context::ListenerContext;
use crate::health::is_health_check;
use crate::pages::is_open_redirect;
use crate::prefixed::Prefixed;
use crate::relay::{relay_raw, Publish};
use crate::session::{authorize, Authorized, OpenSession, PendingSession, Refusal};
use crate::token::token_from_query;
use crate::websocket::is_upgrade;

/// The answer that hands the connection over to the console protocol.
const ACCEPTED: &[u8] = b"HTTP/1.1 200 OK\r\n\r\n";

/// Serves a connection of a listener with a raw TCP type: a console
/// session when its first request is a raw console request, else HTTP.
/// Returns the session to run, once it has been accepted.
pub(crate) async fn serve<S>(
    ctx: Arc<ListenerContext>,
    mut stream: S,
    peer: SocketAddr,
) -> Option<PendingSession>
where
    S: AsyncRead + AsyncWrite + Send + Unpin + 'static,
{
    let mut buf = Vec::new();
    let reading = timeout(
        ctx.settings.handshake_timeout,
        read_request(&mut stream, &mut buf),
    );
    match reading.await {
        Ok(Ok(Some((head, len)))) => {
            if let Some(token) = console_token(&ctx, &head) {
                buf.drain(..len);
                return tcp_session(ctx, stream, &token, buf, peer).await;
            }
        }
        // hyper answers a bad head (400, 431) as on any listener.
        Ok(Err(ReadHeadError::Head(_))) => {}
        Ok(Ok(None)) => return None,
        Ok(Err(e)) => {
            tracing::debug!(%peer, listener = %ctx.listen, error = %e, "connection ended");
            return None;
        }
        Err(_) => {
            tracing::debug!(%peer, listener = %ctx.listen, "no request head in time");
            return None;
        }
    }
    connection::serve(ctx, Prefixed::new(buf, stream), peer).await
}

/// The token of a raw console request: one whose query carries `token=`,
/// on a listener with a raw TCP type, that the HTTP routes would not take
/// first (a `//` path, the health check, a WebSocket upgrade).
fn console_token(ctx: &ListenerContext, head: &RequestHead) -> Option<String> {
    if !ctx.serves(Front::RawTcp) {
        return None;
    }
    let request = as_request(head)?;
    if is_open_redirect(request.uri().path()) || is_health_check(&request) || is_upgrade(&request) {
        return None;
    }
    request.uri().query().and_then(token_from_query)
}

/// `head` as the HTTP routes see it; `None` when hyper would refuse it.
fn as_request(head: &RequestHead) -> Option<Request<()>> {
    let version = match head.minor_version {
        0 => Version::HTTP_10,
        _ => Version::HTTP_11,
    };
    let mut request = Request::builder()
        .method(head.method.as_str())
        .uri(head.target.as_str())
        .version(version);
    for (name, value) in &head.headers {
        request = request.header(name.as_str(), value.as_str());
    }
    request.body(()).ok()
}

/// Checks the token, opens the backend and accepts the connection;
/// returns the relay to run, or `None` once refused.
async fn tcp_session<S>(
    ctx: Arc<ListenerContext>,
    mut stream: S,
    token: &str,
    leftover: Vec<u8>,
    peer: SocketAddr,
) -> Option<PendingSession>
where
    S: AsyncRead + AsyncWrite + Send + Unpin + 'static,
{
    let mut session = match authorize(&ctx, &HeaderMap::new(), Some(token), Front::RawTcp).await {
        Ok(session) => session,
        Err(refusal) => {
            refusal.log(&ctx, peer, Some(token));
            let _ = refuse(&mut stream, &refusal).await;
            return None;
        }
    };
    // No headers on a raw connection: the peer is the client.
    let client = peer.to_string();
    session.backend = ctx.recorded(
        session.backend,
        &session.session_id,
        &client,
        &session.record,
    );
    // Bytes the client sent after its request line belong to the console.
    let started = async {
        if !leftover.is_empty() {
            session.backend.write_all(&leftover).await?;
        }
        stream.write_all(ACCEPTED).await?;
        stream.flush().await
    };
    if let Err(e) = started.await {
        tracing::info!(%peer, error = %e, "raw console session failed to start");
        return None;
    }
    Some(Box::pin(raw_session(ctx, stream, session, client)))
}

/// Relays an accepted raw console session until either side ends it.
async fn raw_session<S>(ctx: Arc<ListenerContext>, stream: S, session: Authorized, client: String)
where
    S: AsyncRead + AsyncWrite + Send + Unpin,
{
    let limits = ctx.limits_for(&session.record);
    let open = OpenSession::begin(
        &ctx,
        session.session_id.clone(),
        client,
        &session.record,
        "tcp",
        session.list_at_once,
    );
    let mut tally = ctx
        .metrics
        .as_ref()
        .map(|m| m.session_started(&session.record.console_type));
    let report = relay_raw(
        stream,
        session.backend,
        &limits,
        ctx.closing.clone(),
        Some(session.revocation),
        Publish {
            tally: tally.as_mut(),
            listed: Some(open.listed()),
        },
    )
    .await;
    open.end(&ctx, &session.record, &report);
    if let Some(tally) = tally {
        tally.finish(&report);
    }
}

/// Writes `refusal` as an empty-bodied response and closes our side.
async fn refuse<S: AsyncWrite + Unpin>(stream: &mut S, refusal: &Refusal) -> io::Result<()> {
    stream
        .write_all(&refusal_head(refusal.status(), &refusal.headers()))
        .await?;
    stream.flush().await?;
    // Closing our write side lets the client see the end at once, even
    // while it still has bytes in flight to us.
    stream.shutdown().await
}

/// The head of an empty-bodied response that ends the connection, header
/// names in title case as hyper writes them on the other fronts.
fn refusal_head(status: StatusCode, headers: &HeaderMap) -> Vec<u8> {
    let mut head = format!(
        "HTTP/1.1 {} {}\r\n",
        status.as_str(),
        status.canonical_reason().unwrap_or_default()
    )
    .into_bytes();
    for (name, value) in headers {
        for (i, word) in name.as_str().split('-').enumerate() {
            if i > 0 {
                head.push(b'-');
            }
            let mut chars = word.chars();
            if let Some(first) = chars.next() {
                head.extend(first.to_uppercase().to_string().bytes());
                head.extend(chars.as_str().bytes());
            }
        }
        head.extend_from_slice(b": ");
        head.extend_from_slice(value.as_bytes());
        head.extend_from_slice(b"\r\n");
    }
    head.extend_from_slice(b"Content-Length: 0\r\nConnection: close\r\n\r\n");
    head
}

#[cfg(test)]
mod tests {
    use super::*;
    use http::header::RETRY_AFTER;
    use http::HeaderValue;

    #[test]
    fn refusals_are_empty_and_final() {
        let mut headers = HeaderMap::new();
        headers.insert(RETRY_AFTER, HeaderValue::from_static("5"));
        assert_eq!(
            String::from_utf8(refusal_head(StatusCode::SERVICE_UNAVAILABLE, &headers)).unwrap(),
            "HTTP/1.1 503 Service Unavailable\r\nRetry-After: 5\r\n\
             Content-Length: 0\r\nConnection: close\r\n\r\n"
        );
        assert_eq!(
            String::from_utf8(refusal_head(StatusCode::FORBIDDEN, &HeaderMap::new())).unwrap(),
            "HTTP/1.1 403 Forbidden\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"
        );
    }

    #[test]
    fn a_head_becomes_the_request_the_routes_see() {
        let head = RequestHead {
            method: "GET".into(),
            target: "/console?token=t".into(),
            minor_version: 0,
            headers: vec![("Upgrade".into(), "websocket".into())],
        };
        let request = as_request(&head).unwrap();
        assert_eq!(request.uri().query(), Some("token=t"));
        assert_eq!(request.version(), Version::HTTP_10);
        assert!(is_upgrade(&request));
        let bad = RequestHead {
            target: "not a target".into(),
            ..head
        };
        assert!(as_request(&bad).is_none());
    }
}
