//! Servers and where they come from.

use std::collections::BTreeMap;

use async_trait::async_trait;
use serde::{Deserialize, Serialize};

use crate::error::ConsoleError;
use crate::record::ConnectInfo;

/// Where a server's console of one protocol listens: a TCP address, or a
/// UNIX socket on the proxy's own host.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Endpoint {
    /// Host or address the proxy connects to; with a
    /// [`unix_socket`](Self::unix_socket), the host the socket is on.
    pub host: String,
    /// Plain port (0 with a UNIX socket).
    #[serde(default)]
    pub port: u16,
    /// TLS port (SPICE), when the hypervisor has one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tls_port: Option<u16>,
    /// A path the proxy must `CONNECT` to first, or a driver-specific
    /// access string (for webmks, a JSON object with the MKS ticket).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub internal_access_path: Option<String>,
    /// The absolute path of a UNIX socket to connect to instead of
    /// `host:port` (libvirt's VNC `socket=`, a `<serial type='unix'>`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub unix_socket: Option<String>,
}

/// A server as the backend knows it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Server {
    /// The server's UUID.
    pub id: String,
    /// Its display name.
    pub name: String,
    /// The project that owns it.
    pub project_id: String,
    /// Nova's status: `ACTIVE`, `BUILD`, `SHUTOFF`, `PAUSED`, `ERROR`, ...
    pub status: String,
    /// Nova's task state (`deleting`, `migrating`, ...); `None` when idle.
    pub task_state: Option<String>,
    /// The compute host it runs on; `None` until scheduled.
    pub host: Option<String>,
    /// Console endpoints keyed by protocol (`vnc`, `spice`, ...).
    pub consoles: BTreeMap<String, Endpoint>,
}

impl Server {
    /// The endpoint of `protocol`, if the server has one.
    pub fn endpoint(&self, protocol: &str) -> Option<&Endpoint> {
        self.consoles.get(protocol)
    }

    /// The connect info of this server's `protocol` console as most drivers
    /// mint it: the endpoint's host, port, TLS port and internal access path.
    /// `label` names the console in messages (`"VNC"`).
    ///
    /// # Errors
    /// 400 when the server has no such endpoint, or one without a host or
    /// port (or, for a UNIX socket, without an absolute path).
    pub fn connect_info(&self, protocol: &str, label: &str) -> Result<ConnectInfo, ConsoleError> {
        let endpoint = self.endpoint(protocol).ok_or_else(|| {
            ConsoleError::BadRequest(format!(
                "Instance {} has no {label} console configured.",
                self.id
            ))
        })?;
        let usable = match &endpoint.unix_socket {
            Some(path) => path.starts_with('/'),
            None => !endpoint.host.trim().is_empty() && endpoint.port != 0,
        };
        if !usable {
            return Err(ConsoleError::BadRequest(format!(
                "Instance {} has a {label} console without a host or port.",
                self.id
            )));
        }
        Ok(ConnectInfo {
            host: endpoint.host.clone(),
            port: endpoint.port,
            tls_port: endpoint.tls_port,
            internal_access_path: endpoint.internal_access_path.clone(),
            unix_socket: endpoint.unix_socket.clone(),
        })
    }
}

/// A backend that could not answer (down, timed out, misconfigured).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("server backend unavailable: {0}")]
pub struct BackendError(pub String);

/// Where servers and their console endpoints come from: the embedding
/// compute service, or the binary's inventory.
///
/// Called once per console request (`get_server`) and for the compute
/// API's server listings (`list_servers`); an outage is a
/// [`BackendError`], which the API answers with 503. `examples/compute` in
/// the repository implements it over SQLite.
///
/// # Example
///
/// ```
/// use std::collections::BTreeMap;
/// use std::sync::RwLock;
/// use consoled_core::{async_trait, BackendError, Server, ServerBackend};
///
/// /// Servers kept in memory, by id.
/// struct InMemory(RwLock<BTreeMap<String, Server>>);
///
/// #[async_trait]
/// impl ServerBackend for InMemory {
///     async fn get_server(&self, id: &str) -> Result<Option<Server>, BackendError> {
///         let servers = self.0.read().map_err(|_| BackendError("poisoned".into()))?;
///         Ok(servers.get(id).cloned())
///     }
///
///     async fn list_servers(&self) -> Result<Vec<Server>, BackendError> {
///         let servers = self.0.read().map_err(|_| BackendError("poisoned".into()))?;
///         Ok(servers.values().cloned().collect())
///     }
/// }
/// ```
#[async_trait]
pub trait ServerBackend: Send + Sync + 'static {
    /// The server with this id, or `None`.
    ///
    /// # Errors
    /// [`BackendError`] when the backend cannot answer now.
    async fn get_server(&self, id: &str) -> Result<Option<Server>, BackendError>;

    /// Every server, in a stable order.
    ///
    /// # Errors
    /// [`BackendError`] when the backend cannot answer now.
    async fn list_servers(&self) -> Result<Vec<Server>, BackendError>;
}

#[cfg(test)]
mod tests {
    use super::*;

    fn server(consoles: &[(&str, &str, u16)]) -> Server {
        Server {
            id: "s1".into(),
            name: "web".into(),
            project_id: "p".into(),
            status: "ACTIVE".into(),
            task_state: None,
            host: Some("c1".into()),
            consoles: consoles
                .iter()
                .map(|(protocol, host, port)| {
                    let endpoint = Endpoint {
                        host: (*host).into(),
                        port: *port,
                        tls_port: Some(5931),
                        internal_access_path: Some("/p".into()),
                        unix_socket: None,
                    };
                    ((*protocol).to_owned(), endpoint)
                })
                .collect(),
        }
    }

    #[test]
    fn connect_info_copies_the_endpoint() {
        let info = server(&[("vnc", "10.0.0.5", 5901)])
            .connect_info("vnc", "VNC")
            .unwrap();
        assert_eq!((info.host.as_str(), info.port), ("10.0.0.5", 5901));
        assert_eq!(info.tls_port, Some(5931));
        assert_eq!(info.internal_access_path.as_deref(), Some("/p"));
    }

    #[test]
    fn missing_or_unusable_endpoint_is_400() {
        let err = server(&[("vnc", "h", 1)])
            .connect_info("serial", "serial")
            .unwrap_err();
        assert_eq!(
            err,
            ConsoleError::BadRequest("Instance s1 has no serial console configured.".into())
        );
        for bad in [server(&[("vnc", " ", 5901)]), server(&[("vnc", "h", 0)])] {
            assert_eq!(bad.connect_info("vnc", "VNC").unwrap_err().status(), 400);
        }
    }

    #[test]
    fn a_unix_socket_needs_an_absolute_path_and_no_port() {
        let mut s = server(&[("vnc", "hv1", 0)]);
        let endpoint = s.consoles.get_mut("vnc").unwrap();
        endpoint.unix_socket = Some("/run/vnc.sock".into());
        let info = s.connect_info("vnc", "VNC").unwrap();
        assert_eq!(info.unix_socket.as_deref(), Some("/run/vnc.sock"));
        s.consoles.get_mut("vnc").unwrap().unix_socket = Some("vnc.sock".into());
        assert_eq!(s.connect_info("vnc", "VNC").unwrap_err().status(), 400);
    }
}
