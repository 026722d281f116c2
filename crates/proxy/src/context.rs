//! What every connection of one listener shares.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use consoled_core::{BackendStream, Dispatcher, Front, TokenRecord};
use tokio::sync::Semaphore;
use tokio::time::Instant;

use crate::claims::Claims;
use crate::config::ProxySettings;
use crate::live::LiveSessions;
use crate::metrics::{refusal_reason, ProxyMetrics};
use crate::pages::Pages;
use crate::recording::{Recorder, SessionAudit};
use crate::serial_hub::SerialHubs;
use crate::session::Refusal;
use crate::shutdown::ShutdownSignal;
use crate::watchdog::SessionLimits;
use ipnet::IpNet;

/// How long a closing handshake may take before the connection is dropped.
pub(crate) const CLOSE_WAIT: Duration = Duration::from_secs(5);

/// One listener's view of the proxy.
pub(crate) struct ListenerContext {
    /// The bound address, for logs.
    pub(crate) listen: SocketAddr,
    pub(crate) dispatcher: Dispatcher,
    pub(crate) settings: Arc<ProxySettings>,
    /// The console types accepted here.
    pub(crate) types: Vec<String>,
    /// The fronts of those types.
    pub(crate) fronts: Vec<Front>,
    /// The web root, if any.
    pub(crate) pages: Option<Pages>,
    /// One permit per open console session.
    pub(crate) sessions: Arc<Semaphore>,
    /// Fires when the listener stops accepting.
    pub(crate) draining: ShutdownSignal,
    /// Fires when open sessions must close (the grace period is over).
    pub(crate) closing: ShutdownSignal,
    /// This node's sessions, as the session list shows them.
    pub(crate) live: LiveSessions,
    /// `trusted_proxies`, parsed.
    pub(crate) trusted_proxies: Arc<Vec<IpNet>>,
    /// The consoles this node has open exclusively.
    pub(crate) claims: Arc<Claims>,
    /// The shared serial consoles of this node.
    pub(crate) serial_hubs: Arc<SerialHubs>,
    /// Where sessions and refusals are counted, if anywhere.
    pub(crate) metrics: Option<Arc<ProxyMetrics>>,
    /// Where sessions are recorded, if anywhere.
    pub(crate) recorder: Option<Arc<Recorder>>,
}

impl ListenerContext {
    /// Whether a type of this front is served here.
    pub(crate) fn serves(&self, front: Front) -> bool {
        self.fronts.contains(&front)
    }

    /// Whether tokens of `console_type` are accepted here.
    pub(crate) fn accepts_type(&self, console_type: &str) -> bool {
        self.types.iter().any(|t| t == console_type)
    }

    /// Counts `refusal`, of a token of `console_type` when one was found
    /// good (`None` before that), when counting.
    pub(crate) fn count_refusal(&self, console_type: Option<&str>, refusal: &Refusal) {
        let Some(metrics) = &self.metrics else {
            return;
        };
        let reason = refusal_reason(refusal, console_type.is_some());
        let console_type = match (console_type, self.types.as_slice()) {
            (Some(t), _) => t,
            (None, [only]) => only.as_str(),
            (None, _) => "unknown",
        };
        metrics.refused(console_type, reason);
    }

    /// `backend` as the relay gets it: tapped into a recording when
    /// sessions of `record`'s type are recorded, else untouched (no
    /// wrapper, no cost).
    pub(crate) fn recorded(
        &self,
        backend: BackendStream,
        session_id: &str,
        client: &str,
        record: &TokenRecord,
    ) -> BackendStream {
        let Some(recorder) = &self.recorder else {
            return backend;
        };
        let minted_by = record.minted_by.as_ref();
        let audit = SessionAudit {
            session: session_id.to_owned(),
            node: self.live.node().to_owned(),
            server: record.instance_uuid.clone(),
            console_type: record.console_type.clone(),
            protocol: record.protocol.clone(),
            client: client.to_owned(),
            started_at: 0,
            started: String::new(),
            minted_by_user: minted_by.map(|m| m.user_id.clone()),
            minted_by_project: minted_by.map(|m| m.project_id.clone()),
            token_fingerprint: record.token_hash.fingerprint(),
        };
        recorder.tap(backend, record, audit)
    }

    /// The limits of a session on `record`.
    pub(crate) fn limits_for(&self, record: &TokenRecord) -> SessionLimits {
        // An expiry too far off for an Instant (a huge TTL, maybe set on
        // another node) is never reached; `+` would panic.
        let expires = self
            .settings
            .enforce_session_timeout
            .then(|| Instant::now().checked_add(record.remaining(self.dispatcher.now())))
            .flatten();
        SessionLimits {
            keepalive: self.settings.keepalive_interval,
            idle_timeout: self.settings.idle_timeout,
            expires,
            close_wait: CLOSE_WAIT,
        }
    }
}
