//! One libvirt connection, kept open, re-opened after libvirtd restarts,
//! and used from a blocking pool (libvirt's calls block).

use std::collections::HashMap;
use std::sync::{Arc, Mutex, PoisonError};

use consoled_core::{BackendError, Server};
use virt::connect::Connect;
use virt::domain::Domain;
use virt::error::ErrorNumber;
use virt::sys;

use crate::domain_xml::{self, Reach};
use crate::events::{self, Lifecycle, Registration, Sink};

/// Seconds between keepalive probes, and how many may go unanswered
/// before libvirt closes a connection to a libvirtd that stopped answering.
const KEEPALIVE: (i32, u32) = (5, 3);

/// An open connection, closed when the last reference goes.
pub(crate) struct Conn(Connect);

impl std::ops::Deref for Conn {
    type Target = Connect;
    fn deref(&self) -> &Connect {
        &self.0
    }
}

impl Drop for Conn {
    fn drop(&mut self) {
        // virt's Connect does not close itself.
        let _ = self.0.close();
    }
}

/// What an open connection comes with.
struct Live {
    conn: Arc<Conn>,
    hostname: String,
    _events: Registration,
}

/// The libvirt host behind one URI.
pub(crate) struct Hypervisor {
    uri: String,
    reach: Reach,
    default_project: String,
    events: Sink,
    live: Mutex<Option<Arc<Live>>>,
    /// The running domains at the last look while connected: what a new
    /// connection compares with, since events are lost while there is none.
    seen: Mutex<Option<Runs>>,
}

/// Running domains: each UUID with the id libvirt gives it at each start.
type Runs = HashMap<String, u32>;

impl Hypervisor {
    /// A hypervisor at `uri`, not connected yet; its domains' lifecycle
    /// events go to `events` once it is.
    pub(crate) fn new(uri: &str, default_project: &str, events: Sink) -> Self {
        Hypervisor {
            uri: uri.to_owned(),
            reach: reach_of(uri),
            default_project: default_project.to_owned(),
            events,
            live: Mutex::new(None),
            seen: Mutex::new(None),
        }
    }

    /// The URI, for messages.
    pub(crate) fn uri(&self) -> &str {
        &self.uri
    }

    /// The server with this UUID, if this host has it. Blocking.
    pub(crate) fn server(&self, uuid: &str) -> Result<Option<Server>, BackendError> {
        self.with_live(
            |live| match Domain::lookup_by_uuid_string(&live.conn, uuid) {
                Ok(domain) => self.server_of(live, &domain).map(Some),
                Err(e) if e.code() == ErrorNumber::NoDomain => Ok(None),
                Err(e) => Err(e),
            },
        )
        .map(Option::flatten)
    }

    /// Every domain of this host, defined or running. Blocking.
    pub(crate) fn servers(&self) -> Result<Vec<Server>, BackendError> {
        self.with_live(|live| {
            let mut servers = Vec::new();
            for domain in live.conn.list_all_domains(0)? {
                // A domain undefined since the listing is just gone.
                if let Some(server) = self.server_of(live, &domain)? {
                    servers.push(server);
                }
            }
            Ok(servers)
        })
    }

    /// Looks at the running domains (connecting first if need be), for
    /// the next connection to compare with. Blocking.
    pub(crate) fn look(&self) -> Result<(), BackendError> {
        let runs = self.with_live(|live| runs_of(&live.conn))?;
        *self.seen.lock().unwrap_or_else(PoisonError::into_inner) = Some(runs);
        Ok(())
    }

    /// Whether the connection is open and libvirtd answers; a dead one is
    /// dropped, so that the next call opens a new one. Blocking.
    pub(crate) fn check(&self) -> bool {
        let Some(live) = self.current() else {
            return false;
        };
        if live.conn.is_alive().unwrap_or(false) && live.conn.get_lib_version().is_ok() {
            return true;
        }
        self.forget(&live);
        false
    }

    /// `domain` as a server, or `None` if it went away meanwhile.
    fn server_of(
        &self,
        live: &Live,
        domain: &Domain,
    ) -> Result<Option<Server>, virt::error::Error> {
        let gone = |e: &virt::error::Error| e.code() == ErrorNumber::NoDomain;
        let read = || -> Result<Server, virt::error::Error> {
            let id = domain.get_uuid_string()?;
            let name = domain.get_name()?;
            let (state, _) = domain.get_state()?;
            // The live XML when it runs: that is where libvirt writes the
            // ports it picked.
            let xml = domain.get_xml_desc(0)?;
            let facts = domain_xml::parse(&xml, &self.reach).unwrap_or_else(|e| {
                tracing::warn!(uri = %self.uri, domain = %name, error = %e, "domain XML does not parse; no consoles");
                domain_xml::DomainXml::default()
            });
            Ok(Server {
                id,
                name: facts.nova_name.unwrap_or(name),
                project_id: facts
                    .nova_project
                    .unwrap_or_else(|| self.default_project.clone()),
                status: status_of(state).to_owned(),
                task_state: None,
                host: Some(live.hostname.clone()),
                consoles: facts.consoles,
            })
        };
        match read() {
            Ok(server) => Ok(Some(server)),
            Err(e) if gone(&e) => Ok(None),
            Err(e) => Err(e),
        }
    }

    /// Runs `f` on the open connection, opening one first if there is
    /// none. A failure on a connection that then turns out dead drops it.
    fn with_live<T>(
        &self,
        f: impl FnOnce(&Live) -> Result<T, virt::error::Error>,
    ) -> Result<T, BackendError> {
        let live = self.open()?;
        f(&live).map_err(|e| {
            if !live.conn.is_alive().unwrap_or(false) {
                self.forget(&live);
            }
            BackendError(format!("libvirt {}: {}", self.uri, e.message()))
        })
    }

    fn current(&self) -> Option<Arc<Live>> {
        self.live
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }

    /// The open connection, or a new one: keepalive on, lifecycle events
    /// registered.
    fn open(&self) -> Result<Arc<Live>, BackendError> {
        let mut slot = self.live.lock().unwrap_or_else(PoisonError::into_inner);
        if let Some(live) = slot.as_ref() {
            return Ok(Arc::clone(live));
        }
        let failed = |e: virt::error::Error| {
            BackendError(format!(
                "libvirt {}: cannot connect: {}",
                self.uri,
                e.message()
            ))
        };
        let conn = Arc::new(Conn(Connect::open(Some(&self.uri)).map_err(failed)?));
        let hostname = conn.get_hostname().map_err(failed)?;
        // Only connections through libvirtd have keepalive; for the others
        // there is no libvirtd to lose.
        let _ = conn.set_keep_alive(KEEPALIVE.0, KEEPALIVE.1);
        let registration = events::register(&conn, self.events.clone()).map_err(failed)?;
        tracing::info!(uri = %self.uri, %hostname, "connected to libvirt");
        self.catch_up(&conn);
        let live = Arc::new(Live {
            conn,
            hostname,
            _events: registration,
        });
        *slot = Some(Arc::clone(&live));
        Ok(live)
    }

    /// Events are lost while there is no connection: a domain that ran at
    /// the last look and no longer runs as it did (stopped, or stopped
    /// and started again) is reported as stopped, before the connection
    /// serves any request.
    fn catch_up(&self, conn: &Connect) {
        let Ok(now) = runs_of(conn) else {
            return;
        };
        let before = self
            .seen
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .replace(now.clone());
        for (uuid, run) in before.unwrap_or_default() {
            if now.get(&uuid) != Some(&run) {
                tracing::info!(uri = %self.uri, instance = %uuid, "domain stopped while libvirt was away");
                let _ = self.events.send(Lifecycle {
                    uuid,
                    event: sys::VIR_DOMAIN_EVENT_STOPPED,
                    detail: -1,
                });
            }
        }
    }

    fn forget(&self, dead: &Arc<Live>) {
        let mut slot = self.live.lock().unwrap_or_else(PoisonError::into_inner);
        if slot.as_ref().is_some_and(|live| Arc::ptr_eq(live, dead)) {
            tracing::warn!(uri = %self.uri, "libvirt connection lost; reconnecting on next use");
            *slot = None;
        }
    }
}

/// The running domains, each with the id of its current run.
fn runs_of(conn: &Connect) -> Result<Runs, virt::error::Error> {
    let mut runs = Runs::new();
    for domain in conn.list_all_domains(sys::VIR_CONNECT_LIST_DOMAINS_ACTIVE)? {
        if let (Ok(uuid), Some(id)) = (domain.get_uuid_string(), domain.get_id()) {
            runs.insert(uuid, id);
        }
    }
    Ok(runs)
}

/// Nova's status for a libvirt domain state.
fn status_of(state: sys::virDomainState) -> &'static str {
    match state {
        sys::VIR_DOMAIN_RUNNING | sys::VIR_DOMAIN_BLOCKED => "ACTIVE",
        sys::VIR_DOMAIN_PAUSED => "PAUSED",
        sys::VIR_DOMAIN_SHUTOFF | sys::VIR_DOMAIN_SHUTDOWN => "SHUTOFF",
        sys::VIR_DOMAIN_CRASHED => "ERROR",
        sys::VIR_DOMAIN_PMSUSPENDED => "SUSPENDED",
        _ => "UNKNOWN",
    }
}

/// How the proxy reaches `uri`'s consoles: its host, or loopback for a
/// local URI (whose UNIX sockets are ours too).
fn reach_of(uri: &str) -> Reach {
    let host = consoled_core::Url::parse(uri)
        .ok()
        .and_then(|u| u.host_str().map(str::to_owned))
        .filter(|h| !h.is_empty());
    match host {
        Some(host) if !matches!(host.as_str(), "localhost" | "127.0.0.1" | "[::1]") => Reach {
            address: host
                .trim_start_matches('[')
                .trim_end_matches(']')
                .to_owned(),
            local: false,
        },
        _ => Reach {
            address: "127.0.0.1".to_owned(),
            local: true,
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn local_uris_reach_loopback_and_remote_ones_their_host() {
        for local in [
            "qemu:///system",
            "qemu:///session",
            "qemu+unix:///system",
            "qemu://localhost/system",
        ] {
            assert_eq!(
                reach_of(local),
                Reach {
                    address: "127.0.0.1".into(),
                    local: true
                },
                "{local}"
            );
        }
        let remote = reach_of("qemu+ssh://root@hv2.example.com/system");
        assert_eq!(
            (remote.address.as_str(), remote.local),
            ("hv2.example.com", false)
        );
        assert_eq!(reach_of("qemu+tcp://[fd00::3]/system").address, "fd00::3");
    }

    #[test]
    fn states_map_to_novas_statuses() {
        assert_eq!(status_of(sys::VIR_DOMAIN_RUNNING), "ACTIVE");
        assert_eq!(status_of(sys::VIR_DOMAIN_PAUSED), "PAUSED");
        assert_eq!(status_of(sys::VIR_DOMAIN_SHUTOFF), "SHUTOFF");
        assert_eq!(status_of(sys::VIR_DOMAIN_CRASHED), "ERROR");
        assert_eq!(status_of(sys::VIR_DOMAIN_PMSUSPENDED), "SUSPENDED");
    }
}
