//! The raw TCP front (xvpvnc): the client sends an HTTP request line whose
//! query carries the token; we answer `200 OK` and relay raw bytes.

use std::net::SocketAddr;
use std::sync::Arc;

use consoled_core::Front;
use tokio::io::{AsyncRead, AsyncWrite, AsyncWriteExt};

use crate::context::ListenerContext;
use crate::http_head::RequestHead;
use crate::relay::relay_raw;
use crate::session::{authorize, log_closed, log_open};
use crate::token::token_from_query;

/// The answer that hands the connection over to the console protocol.
const ACCEPTED: &[u8] = b"HTTP/1.1 200 OK\r\n\r\n";

/// Whether `head` is a raw-front console request: it carries a token in
/// its query.
pub(crate) fn token_of(head: &RequestHead) -> Option<String> {
    head.query().and_then(token_from_query)
}

/// Serves one raw TCP console request to its end.
pub(crate) async fn tcp_session<S>(
    ctx: Arc<ListenerContext>,
    mut stream: S,
    head: RequestHead,
    leftover: Vec<u8>,
    peer: SocketAddr,
) where
    S: AsyncRead + AsyncWrite + Send + Unpin,
{
    let token = token_of(&head);
    let mut session = match authorize(&ctx, &head, token.as_deref(), Front::RawTcp).await {
        Ok(session) => session,
        Err(refusal) => {
            return refusal
                .send(&mut stream, &ctx, peer, token.as_deref())
                .await
        }
    };
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
        return;
    }
    let limits = ctx.limits_for(&session.record);
    log_open(&ctx, peer, &session.record, "tcp");
    let began = tokio::time::Instant::now();
    let report = relay_raw(stream, session.backend, &limits, ctx.closing.clone()).await;
    log_closed(&ctx, peer, &session.record, &report, began);
}
