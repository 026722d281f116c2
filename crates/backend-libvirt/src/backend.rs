//! The `ServerBackend` over one or more libvirt hosts, and the watch that
//! revokes a server's consoles when its domain stops.

use std::sync::Arc;
use std::time::Duration;

use consoled_core::{async_trait, BackendError, Revoker, Server, ServerBackend};
use tokio::sync::mpsc;
use tokio::task::JoinSet;

use crate::events::{self, Lifecycle};
use crate::hypervisor::Hypervisor;
use crate::settings::LibvirtSettings;

/// How often each connection is checked and re-opened when libvirtd came
/// back (a new connection catches up on the stops it missed), and the
/// running domains looked at for the next one to compare with.
const CHECK_EVERY: Duration = Duration::from_secs(2);

/// How long a revocation that the store refuses is retried.
const REVOKE_RETRIES: u32 = 10;

/// Servers from libvirt domains. Every call reads libvirt then and there
/// (nothing is cached across requests), on Tokio's blocking pool.
pub struct LibvirtBackend {
    hypervisors: Vec<Arc<Hypervisor>>,
}

impl std::fmt::Debug for LibvirtBackend {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_list()
            .entries(self.hypervisors.iter().map(|h| h.uri()))
            .finish()
    }
}

impl LibvirtBackend {
    /// A backend over `settings`' URIs, whose domain stops revoke through
    /// `revoker`. Connections open now where libvirtd answers, later
    /// (every couple of seconds, and on each request) where it does not,
    /// so that consoled and libvirtd may start in any order. Needs a Tokio
    /// runtime: the watch runs as tasks on it.
    ///
    /// # Errors
    /// When `settings` do not validate, or libvirt's event loop cannot
    /// start.
    pub async fn start(settings: &LibvirtSettings, revoker: Revoker) -> Result<Self, String> {
        settings.validate().map_err(|e| e.to_string())?;
        events::ensure_event_loop()?;
        let project = settings.default_project_id.clone().unwrap_or_default();
        let (sink, lifecycle) = mpsc::unbounded_channel();
        let hypervisors: Vec<Arc<Hypervisor>> = settings
            .libvirt_uris
            .iter()
            .map(|uri| Arc::new(Hypervisor::new(uri, &project, sink.clone())))
            .collect();
        tokio::spawn(revoke_on_events(lifecycle, revoker));
        for hypervisor in &hypervisors {
            if let Err(e) = blocking(hypervisor, |h| h.look()).await {
                tracing::warn!(error = %e, "libvirt does not answer yet; its servers get 503 until it does");
            }
            tokio::spawn(keep_connected(Arc::downgrade(hypervisor)));
        }
        Ok(LibvirtBackend { hypervisors })
    }
}

#[async_trait]
impl ServerBackend for LibvirtBackend {
    async fn get_server(&self, id: &str) -> Result<Option<Server>, BackendError> {
        // Domain UUIDs only: anything else is no domain, without asking.
        if uuid::Uuid::parse_str(id).is_err() {
            return Ok(None);
        }
        let mut asking = JoinSet::new();
        for hypervisor in &self.hypervisors {
            let id = id.to_owned();
            let hypervisor = Arc::clone(hypervisor);
            asking.spawn(async move { blocking(&hypervisor, move |h| h.server(&id)).await });
        }
        let mut failure = None;
        while let Some(answer) = asking.join_next().await {
            match answer.map_err(|e| BackendError(e.to_string()))? {
                Ok(Some(server)) => return Ok(Some(server)),
                Ok(None) => {}
                Err(e) => failure = Some(e),
            }
        }
        // Not found where libvirt answered; where it did not, it may be.
        failure.map_or(Ok(None), Err)
    }

    async fn list_servers(&self) -> Result<Vec<Server>, BackendError> {
        let mut all = Vec::new();
        for hypervisor in &self.hypervisors {
            all.extend(blocking(hypervisor, |h| h.servers()).await?);
        }
        all.sort_by(|a, b| a.name.cmp(&b.name).then_with(|| a.id.cmp(&b.id)));
        Ok(all)
    }
}

/// Runs `call` on the blocking pool.
async fn blocking<T, F>(hypervisor: &Arc<Hypervisor>, call: F) -> Result<T, BackendError>
where
    T: Send + 'static,
    F: FnOnce(&Hypervisor) -> Result<T, BackendError> + Send + 'static,
{
    let hypervisor = Arc::clone(hypervisor);
    tokio::task::spawn_blocking(move || call(&hypervisor))
        .await
        .map_err(|e| BackendError(format!("libvirt call failed: {e}")))?
}

/// Revokes the consoles of every domain whose lifecycle event ends them.
async fn revoke_on_events(mut lifecycle: mpsc::UnboundedReceiver<Lifecycle>, revoker: Revoker) {
    while let Some(event) = lifecycle.recv().await {
        if event.ends_consoles() {
            tracing::info!(
                instance = %event.uuid,
                event = event.event,
                detail = event.detail,
                "domain stopped or went away; revoking its consoles"
            );
            tokio::spawn(revoke(revoker.clone(), event.uuid));
        }
    }
}

/// Every [`CHECK_EVERY`]: checks the connection (re-opening a lost one)
/// and looks at the running domains. Ends with its hypervisor.
async fn keep_connected(hypervisor: std::sync::Weak<Hypervisor>) {
    let mut tick = tokio::time::interval(CHECK_EVERY);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tick.tick().await;
        let Some(hypervisor) = hypervisor.upgrade() else {
            return;
        };
        // Down: tried again at the next tick, and by every request.
        let _ = blocking(&hypervisor, |h| {
            h.check();
            h.look()
        })
        .await;
    }
}

/// Revokes `uuid`'s consoles, retrying while the store refuses.
async fn revoke(revoker: Revoker, uuid: String) {
    let mut wait = Duration::from_millis(100);
    for attempt in 1..=REVOKE_RETRIES {
        match revoker.revoke_server(&uuid).await {
            Ok(voided) => {
                if voided > 0 {
                    tracing::info!(instance = %uuid, voided, "console tokens revoked");
                }
                return;
            }
            Err(e) if attempt < REVOKE_RETRIES => {
                tracing::warn!(instance = %uuid, error = %e, "cannot revoke console tokens yet; retrying");
                tokio::time::sleep(wait).await;
                wait = (wait * 2).min(Duration::from_secs(5));
            }
            Err(e) => {
                tracing::error!(instance = %uuid, error = %e, "console tokens of a stopped domain could not be revoked");
            }
        }
    }
}
