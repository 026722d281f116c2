//! A console session on a WebSocket: the token, the Origin, the backend,
//! then the relay. Nothing reaches the backend, and no `101` reaches the
//! client, before the token is good.

use std::net::SocketAddr;
use std::sync::Arc;

use consoled_core::{
    guarded, BackendStream, ConsoleDriver, ConsoleError, Front, Token, TokenRecord,
};
use tokio::io::{AsyncRead, AsyncWrite, AsyncWriteExt};
use tokio::sync::OwnedSemaphorePermit;

use crate::context::ListenerContext;
use crate::http_head::RequestHead;
use crate::origin::{OriginCheck, OriginError};
use crate::relay::{relay_websocket, RelayReport};
use crate::response::write_empty;
use crate::token::token_from_request;
use crate::websocket::{negotiate, server_stream, switching_protocols};

/// Why a console request is turned away. Logged on our side; the client
/// only sees the status, with an empty body.
#[derive(Debug)]
pub(crate) enum Refusal {
    /// The listener has no console of this front.
    WrongFront,
    /// The upgrade request breaks RFC 6455.
    BadUpgrade(crate::websocket::UpgradeError),
    /// The listener's session limit is reached.
    Busy,
    /// No token in the query or a cookie.
    NoToken,
    /// Unknown or expired.
    UnknownToken,
    /// A good token of a type this listener does not serve.
    OtherListener(String),
    /// No linked driver for the record's pair, or one of another front.
    NoDriver(String),
    /// The Origin check failed.
    Origin(OriginError),
    /// The token store or the backend failed.
    Unavailable(ConsoleError),
}

impl Refusal {
    fn status(&self) -> u16 {
        match self {
            Refusal::WrongFront => 400,
            Refusal::BadUpgrade(e) => e.status(),
            Refusal::NoToken
            | Refusal::UnknownToken
            | Refusal::OtherListener(_)
            | Refusal::Origin(_) => 403,
            Refusal::Busy | Refusal::NoDriver(_) | Refusal::Unavailable(_) => 503,
        }
    }

    fn reason(&self) -> String {
        match self {
            Refusal::WrongFront => "this listener has no console of that kind".into(),
            Refusal::BadUpgrade(e) => e.to_string(),
            Refusal::Busy => "too many console sessions on this listener".into(),
            Refusal::NoToken => "no token in the query or a cookie".into(),
            Refusal::UnknownToken => "unknown or expired token".into(),
            Refusal::OtherListener(t) => {
                format!("token is for console type {t}, not served by this listener")
            }
            Refusal::NoDriver(why) => why.clone(),
            Refusal::Origin(e) => e.to_string(),
            Refusal::Unavailable(e) => e.to_string(),
        }
    }

    /// Answers the client with an empty-bodied status and logs why.
    pub(crate) async fn send<S>(
        self,
        stream: &mut S,
        ctx: &ListenerContext,
        peer: SocketAddr,
        token: Option<&str>,
    ) where
        S: AsyncWrite + Unpin,
    {
        let status = self.status();
        let fingerprint = token.map(|t| Token::new(t).hash().fingerprint());
        let reason = self.reason();
        if matches!(self, Refusal::Unavailable(ref e) if e.is_server_fault()) {
            tracing::warn!(%peer, listener = %ctx.listen, status, token = ?fingerprint, %reason, "console refused");
        } else {
            tracing::info!(%peer, listener = %ctx.listen, status, token = ?fingerprint, %reason, "console refused");
        }
        let retry = [("Retry-After", "5")];
        let headers: &[(&str, &str)] = match self {
            Refusal::Busy => &retry,
            Refusal::BadUpgrade(crate::websocket::UpgradeError::Version) => {
                &[("Sec-WebSocket-Version", "13")]
            }
            _ => &[],
        };
        let _ = write_empty(stream, status, headers).await;
    }
}

/// A validated token with its driver and an open backend.
pub(crate) struct Authorized {
    pub(crate) record: TokenRecord,
    pub(crate) backend: BackendStream,
    /// Held for the life of the session.
    pub(crate) _permit: OwnedSemaphorePermit,
}

/// Takes a session slot, validates the token of `head` for `front`, checks
/// the Origin (WebSocket only: browsers send it) and opens the backend.
pub(crate) async fn authorize(
    ctx: &ListenerContext,
    head: &RequestHead,
    token: Option<&str>,
    front: Front,
) -> Result<Authorized, Refusal> {
    let permit = ctx
        .sessions
        .clone()
        .try_acquire_owned()
        .map_err(|_| Refusal::Busy)?;
    let token = token.ok_or(Refusal::NoToken)?;
    let record = ctx
        .dispatcher
        .validate_token(&Token::new(token))
        .await
        .map_err(Refusal::Unavailable)?
        .ok_or(Refusal::UnknownToken)?;
    if !ctx.accepts_type(&record.console_type) {
        return Err(Refusal::OtherListener(record.console_type));
    }
    let driver = driver_for(ctx, &record, front)?;
    if front == Front::WebSocket {
        OriginCheck {
            origin: head.header("origin"),
            host: head.header("host"),
            forwarded_proto: head.header("x-forwarded-proto"),
            allowed_origins: &ctx.settings.allowed_origins,
            access_url_base: &record.access_url_base,
        }
        .verify()
        .map_err(Refusal::Origin)?;
    }
    let what = format!("driver {}/{}", record.protocol, record.console_type);
    let limit = ctx.dispatcher.settings().call_timeout;
    let backend = guarded(&what, limit, driver.connect(&record))
        .await
        .map_err(Refusal::Unavailable)?;
    Ok(Authorized {
        record,
        backend,
        _permit: permit,
    })
}

fn driver_for(
    ctx: &ListenerContext,
    record: &TokenRecord,
    front: Front,
) -> Result<Arc<dyn ConsoleDriver>, Refusal> {
    let driver = ctx
        .dispatcher
        .registry()
        .get(&record.protocol, &record.console_type)
        .ok_or_else(|| {
            Refusal::NoDriver(format!(
                "no driver for {}/{}",
                record.protocol, record.console_type
            ))
        })?;
    let offered = driver.descriptor().front;
    if offered != front {
        return Err(Refusal::NoDriver(format!(
            "console type {} is served over {offered}, not {front}",
            record.console_type
        )));
    }
    Ok(driver.clone())
}

/// Serves one WebSocket console request to its end.
pub(crate) async fn websocket_session<S>(
    ctx: Arc<ListenerContext>,
    mut stream: S,
    head: RequestHead,
    leftover: Vec<u8>,
    peer: SocketAddr,
) where
    S: AsyncRead + AsyncWrite + Send + Unpin,
{
    let token = token_from_request(&head);
    if !ctx.serves(Front::WebSocket) {
        return Refusal::WrongFront
            .send(&mut stream, &ctx, peer, token.as_deref())
            .await;
    }
    let upgrade = match negotiate(&head) {
        Ok(upgrade) => upgrade,
        Err(e) => {
            return Refusal::BadUpgrade(e)
                .send(&mut stream, &ctx, peer, token.as_deref())
                .await
        }
    };
    let session = match authorize(&ctx, &head, token.as_deref(), Front::WebSocket).await {
        Ok(session) => session,
        Err(refusal) => {
            return refusal
                .send(&mut stream, &ctx, peer, token.as_deref())
                .await
        }
    };
    let answered = async {
        stream
            .write_all(switching_protocols(&upgrade).as_bytes())
            .await?;
        stream.flush().await
    };
    if let Err(e) = answered.await {
        tracing::info!(%peer, error = %e, "client left during the WebSocket handshake");
        return;
    }
    let limits = ctx.limits_for(&session.record);
    log_open(&ctx, peer, &session.record, "websocket");
    let ws = server_stream(stream, leftover, ctx.settings.max_frame_size).await;
    let started = tokio::time::Instant::now();
    let report = relay_websocket(ws, session.backend, &limits, ctx.closing.clone()).await;
    log_closed(&ctx, peer, &session.record, &report, started);
}

pub(crate) fn log_open(ctx: &ListenerContext, peer: SocketAddr, record: &TokenRecord, front: &str) {
    tracing::info!(
        %peer,
        listener = %ctx.listen,
        console_type = %record.console_type,
        instance = %record.instance_uuid,
        token = %record.token_hash.fingerprint(),
        front,
        "console session open"
    );
}

pub(crate) fn log_closed(
    ctx: &ListenerContext,
    peer: SocketAddr,
    record: &TokenRecord,
    report: &RelayReport,
    started: tokio::time::Instant,
) {
    tracing::info!(
        %peer,
        listener = %ctx.listen,
        console_type = %record.console_type,
        token = %record.token_hash.fingerprint(),
        reason = %report.end,
        to_backend = report.to_backend,
        to_client = report.to_client,
        seconds = started.elapsed().as_secs(),
        "console session closed"
    );
}
