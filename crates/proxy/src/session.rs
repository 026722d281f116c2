//! A console session on a WebSocket: the token, the Origin, the backend,
//! then the relay. Nothing reaches the backend, and no `101` reaches the
//! client, before the token is good.

use std::future::Future;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::Arc;

use consoled_core::{
    guarded, BackendStream, ConsoleDriver, ConsoleError, Front, RevocationWatch, SessionMode,
    Token, TokenRecord,
};
use http::header::{RETRY_AFTER, SEC_WEBSOCKET_VERSION};
use http::{HeaderMap, HeaderValue, Request, Response, StatusCode};
use hyper::upgrade::OnUpgrade;
use hyper_util::rt::TokioIo;
use tokio::sync::OwnedSemaphorePermit;

use consoled_core::sessions::SessionInfo;
use consoled_core::unix_seconds;

use crate::claims::Claim;
use crate::client_addr::client_of;
use crate::context::ListenerContext;
use crate::live::Listed;
use crate::origin::{OriginCheck, OriginError};
use crate::relay::{relay_websocket, Publish, RelayReport};
use crate::reply::{empty, Body};
use crate::token::token_from_request;
use crate::websocket::{negotiate, switching_protocols, UpgradeError};

/// A console session that runs once hyper has handed its connection over.
pub(crate) type PendingSession = Pin<Box<dyn Future<Output = ()> + Send>>;

/// Why a console request is turned away. Logged on our side; the client
/// only sees the status, with an empty body.
#[derive(Debug)]
pub(crate) enum Refusal {
    /// The listener has no console of this front.
    WrongFront,
    /// The upgrade request breaks RFC 6455.
    BadUpgrade(UpgradeError),
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
    /// The console is exclusive and another session has it open.
    Exclusive,
    /// The token store or the backend failed.
    Unavailable(ConsoleError),
}

impl Refusal {
    pub(crate) fn status(&self) -> StatusCode {
        match self {
            Refusal::WrongFront => StatusCode::BAD_REQUEST,
            Refusal::BadUpgrade(e) => e.status(),
            Refusal::NoToken
            | Refusal::UnknownToken
            | Refusal::OtherListener(_)
            | Refusal::Origin(_) => StatusCode::FORBIDDEN,
            Refusal::Busy | Refusal::Exclusive | Refusal::NoDriver(_) | Refusal::Unavailable(_) => {
                StatusCode::SERVICE_UNAVAILABLE
            }
        }
    }

    /// The headers that tell the client what to do next.
    pub(crate) fn headers(&self) -> HeaderMap {
        let mut headers = HeaderMap::new();
        match self {
            Refusal::Busy => {
                headers.insert(RETRY_AFTER, HeaderValue::from_static("5"));
            }
            Refusal::BadUpgrade(UpgradeError::Version) => {
                headers.insert(SEC_WEBSOCKET_VERSION, HeaderValue::from_static("13"));
            }
            _ => {}
        }
        headers
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
            Refusal::Exclusive => {
                "the console is exclusive ([consoles.<type>] sessions) and another session has it open"
                    .into()
            }
            Refusal::Origin(e) => e.to_string(),
            Refusal::Unavailable(e) => e.to_string(),
        }
    }

    /// Logs why the client is turned away, with the token's fingerprint
    /// only.
    pub(crate) fn log(&self, ctx: &ListenerContext, peer: SocketAddr, token: Option<&str>) {
        let status = self.status().as_u16();
        let fingerprint = token.map(|t| Token::new(t).hash().fingerprint());
        let reason = self.reason();
        if matches!(self, Refusal::Unavailable(ref e) if e.is_server_fault()) {
            tracing::warn!(%peer, listener = %ctx.listen, status, token = ?fingerprint, %reason, "console refused");
        } else {
            tracing::info!(%peer, listener = %ctx.listen, status, token = ?fingerprint, %reason, "console refused");
        }
    }

    /// Logs why, and answers the client with an empty-bodied status.
    fn respond(
        self,
        ctx: &ListenerContext,
        peer: SocketAddr,
        token: Option<&str>,
    ) -> Response<Body> {
        self.log(ctx, peer, token);
        empty(self.status(), self.headers())
    }
}

/// A validated token with its driver and an open backend.
pub(crate) struct Authorized {
    /// The session's id, unique across nodes.
    pub(crate) session_id: String,
    pub(crate) record: TokenRecord,
    pub(crate) backend: BackendStream,
    /// Ends the session when its server is revoked.
    pub(crate) revocation: RevocationWatch,
    /// The console, held for the session when it is exclusive.
    pub(crate) _claim: Option<Claim>,
    /// The console is not shared: the next session of it, on any node,
    /// looks for this one in the session list, so it is listed at once.
    pub(crate) list_at_once: bool,
    /// Held for the life of the session.
    pub(crate) _permit: OwnedSemaphorePermit,
}

/// Takes a session slot, validates `token` for `front`, checks the Origin
/// of a request with `headers` (WebSocket only: browsers send it) and
/// opens the backend; counts a refusal.
pub(crate) async fn authorize(
    ctx: &ListenerContext,
    headers: &HeaderMap,
    token: Option<&str>,
    front: Front,
) -> Result<Authorized, Refusal> {
    let mut validated_type = None;
    let authorized = admit(ctx, headers, token, front, &mut validated_type).await;
    if let Err(refusal) = &authorized {
        ctx.count_refusal(validated_type.as_deref(), refusal);
    }
    authorized
}

/// [`authorize`]'s checks; sets `validated_type` once the token is good,
/// so that a refusal after that is counted under the token's type.
async fn admit(
    ctx: &ListenerContext,
    headers: &HeaderMap,
    token: Option<&str>,
    front: Front,
    validated_type: &mut Option<String>,
) -> Result<Authorized, Refusal> {
    let permit = ctx
        .sessions
        .clone()
        .try_acquire_owned()
        .map_err(|_| Refusal::Busy)?;
    let token = token.ok_or(Refusal::NoToken)?;
    // Before the check, so that a revocation right after it is heard.
    let listening = ctx.dispatcher.revoker().listen();
    let record = ctx
        .dispatcher
        .validate_token(&Token::new(token))
        .await
        .map_err(Refusal::Unavailable)?
        .ok_or(Refusal::UnknownToken)?;
    *validated_type = Some(record.console_type.clone());
    if !ctx.accepts_type(&record.console_type) {
        return Err(Refusal::OtherListener(record.console_type));
    }
    let driver = driver_for(ctx, &record, front)?;
    if front == Front::WebSocket {
        let header = |name: &str| headers.get(name).and_then(|v| v.to_str().ok());
        OriginCheck {
            origin: header("origin"),
            host: header("host"),
            forwarded_proto: header("x-forwarded-proto"),
            allowed_origins: &ctx.settings.allowed_origins,
            access_url_base: &record.access_url_base,
        }
        .verify()
        .map_err(Refusal::Origin)?;
    }
    let session_id = uuid::Uuid::new_v4().simple().to_string();
    let mode = session_mode(ctx, &record);
    let claim = match mode {
        SessionMode::Shared => None,
        SessionMode::Exclusive => Some(exclusive(ctx, &record).await?),
        SessionMode::Takeover => {
            // Before the backend: a serial port serves one client at a time.
            take_over(ctx, &record, &session_id).await;
            None
        }
    };
    let what = format!("driver {}/{}", record.protocol, record.console_type);
    let limit = ctx.dispatcher.settings().call_timeout;
    let connect = guarded(&what, limit, driver.connect(&record));
    // A backend that serves one client at a time is shared by the
    // console's sessions, when the console is shared.
    let backend = if mode == SessionMode::Shared && driver.descriptor().one_client {
        ctx.serial_hubs.join(&record.instance_uuid, connect).await
    } else {
        connect.await
    }
    .map_err(Refusal::Unavailable)?;
    Ok(Authorized {
        revocation: listening.watch(&record, &session_id),
        _claim: claim,
        list_at_once: mode != SessionMode::Shared,
        session_id,
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

/// What a second session of `record`'s console does, as its type says.
fn session_mode(ctx: &ListenerContext, record: &TokenRecord) -> SessionMode {
    ctx.dispatcher
        .settings()
        .types
        .get(&record.console_type)
        .map(|t| t.sessions)
        .unwrap_or_default()
}

/// Holds `record`'s console for this session, unless a session of this
/// node or, as far as the session directory tells, of another has it.
async fn exclusive(ctx: &ListenerContext, record: &TokenRecord) -> Result<Claim, Refusal> {
    let claim = ctx
        .claims
        .claim(&record.instance_uuid, &record.console_type)
        .ok_or(Refusal::Exclusive)?;
    let elsewhere = ctx
        .dispatcher
        .revoker()
        .directory()
        .list()
        .await
        .map_err(|e| Refusal::Unavailable(ConsoleError::ServiceUnavailable(e.to_string())))?;
    if elsewhere
        .iter()
        .any(|s| s.instance_uuid == record.instance_uuid && s.console_type == record.console_type)
    {
        return Err(Refusal::Exclusive);
    }
    Ok(claim)
}

/// Ends every other session of `record`'s console, on every node. A
/// directory that cannot be reached is logged: the new session goes on.
async fn take_over(ctx: &ListenerContext, record: &TokenRecord, session_id: &str) {
    match ctx.dispatcher.revoker().take_over(record, session_id).await {
        Ok(0) => {}
        Ok(told) => tracing::info!(
            session = %session_id,
            instance = %record.instance_uuid,
            console_type = %record.console_type,
            taken_over = told,
            "console taken over from its open sessions"
        ),
        Err(e) => tracing::warn!(
            session = %session_id,
            error = %e,
            "cannot tell the console's open sessions to end"
        ),
    }
}

/// Answers one WebSocket console request: a refusal, or `101` and the
/// session to run on the connection once hyper hands it over.
pub(crate) async fn websocket_session<B>(
    ctx: Arc<ListenerContext>,
    mut request: Request<B>,
    peer: SocketAddr,
) -> (Response<Body>, Option<PendingSession>) {
    let on_upgrade = hyper::upgrade::on(&mut request);
    // What is left is hyper's record of how the client spelled its header
    // names. Our answer reuses it: hyper would write `Sec-Websocket-Version`,
    // and clients that compare names byte for byte look for RFC 6455's
    // `Sec-WebSocket-Version`.
    let spelling = std::mem::take(request.extensions_mut());
    let token = token_from_request(&request);
    let client = client_of(peer, request.headers(), &ctx.trusted_proxies);
    let (mut response, session) = match accept(&ctx, &request, token.as_deref()).await {
        Ok((response, authorized)) => {
            let session = relay_upgraded(ctx.clone(), on_upgrade, authorized, client);
            (response, Some(Box::pin(session) as PendingSession))
        }
        Err(refusal) => (refusal.respond(&ctx, peer, token.as_deref()), None),
    };
    response.extensions_mut().extend(spelling);
    (response, session)
}

/// Relays between the upgraded client connection and the backend.
async fn relay_upgraded(
    ctx: Arc<ListenerContext>,
    on_upgrade: OnUpgrade,
    authorized: Authorized,
    client: String,
) {
    let upgraded = match on_upgrade.await {
        Ok(upgraded) => upgraded,
        Err(e) => {
            tracing::info!(%client, error = %e, "client left during the WebSocket handshake");
            return;
        }
    };
    let Authorized {
        session_id,
        record,
        backend,
        revocation,
        _claim,
        list_at_once,
        _permit,
    } = authorized;
    let limits = ctx.limits_for(&record);
    let backend = ctx.recorded(backend, &session_id, &client, &record);
    let open = OpenSession::begin(&ctx, session_id, client, &record, "websocket", list_at_once);
    let mut tally = ctx
        .metrics
        .as_ref()
        .map(|m| m.session_started(&record.console_type));
    let report = relay_websocket(
        TokioIo::new(upgraded),
        backend,
        &limits,
        ctx.settings.max_frame_size,
        ctx.closing.clone(),
        Some(revocation),
        Publish {
            tally: tally.as_mut(),
            listed: Some(open.listed()),
        },
    )
    .await;
    open.end(&ctx, &record, &report);
    if let Some(tally) = tally {
        tally.finish(&report);
    }
}

/// Checks the upgrade and the token and opens the backend: our `101` and
/// the session it starts.
async fn accept<B>(
    ctx: &ListenerContext,
    request: &Request<B>,
    token: Option<&str>,
) -> Result<(Response<Body>, Authorized), Refusal> {
    let upgrade = if ctx.serves(Front::WebSocket) {
        negotiate(request).map_err(Refusal::BadUpgrade)
    } else {
        Err(Refusal::WrongFront)
    };
    let upgrade = upgrade.inspect_err(|refusal| ctx.count_refusal(None, refusal))?;
    let session = authorize(ctx, request.headers(), token, Front::WebSocket).await?;
    Ok((switching_protocols(&upgrade), session))
}

/// A session between its opening and its end: on the node's session list,
/// with its audit events (never the token, only its fingerprint).
pub(crate) struct OpenSession {
    id: String,
    client: String,
    started: tokio::time::Instant,
    listed: Listed,
}

impl OpenSession {
    /// Lists the session (`at_once`, or within the list's gathering
    /// window) and logs its opening.
    pub(crate) fn begin(
        ctx: &ListenerContext,
        id: String,
        client: String,
        record: &TokenRecord,
        front: &str,
        at_once: bool,
    ) -> OpenSession {
        let minted_by = record.minted_by.as_ref();
        tracing::info!(
            session = %id,
            node = %ctx.live.node(),
            client = %client,
            listener = %ctx.listen,
            console_type = %record.console_type,
            instance = %record.instance_uuid,
            token = %record.token_hash.fingerprint(),
            minted_by_user = minted_by.map(|m| m.user_id.as_str()),
            minted_by_project = minted_by.map(|m| m.project_id.as_str()),
            front,
            "console session open"
        );
        let info = SessionInfo {
            id: id.clone(),
            node: ctx.live.node().to_owned(),
            instance_uuid: record.instance_uuid.clone(),
            console_type: record.console_type.clone(),
            client: client.clone(),
            started_at: unix_seconds(std::time::SystemTime::now()),
            to_client: 0,
            to_backend: 0,
            minted_by: record.minted_by.clone(),
        };
        let listed = ctx.live.opened(info, at_once);
        OpenSession {
            id,
            client,
            started: tokio::time::Instant::now(),
            listed,
        }
    }

    /// Its place on the node's session list.
    pub(crate) fn listed(&self) -> &Listed {
        &self.listed
    }

    /// Logs the session's end; dropping it takes it off the list.
    pub(crate) fn end(self, ctx: &ListenerContext, record: &TokenRecord, report: &RelayReport) {
        tracing::info!(
            session = %self.id,
            node = %ctx.live.node(),
            client = %self.client,
            listener = %ctx.listen,
            console_type = %record.console_type,
            instance = %record.instance_uuid,
            token = %record.token_hash.fingerprint(),
            reason = %report.end,
            end = report.end.label(),
            to_backend = report.to_backend,
            to_client = report.to_client,
            seconds = self.started.elapsed().as_secs(),
            "console session closed"
        );
    }
}
