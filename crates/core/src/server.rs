//! Servers and where they come from.

use std::collections::BTreeMap;

use async_trait::async_trait;
use serde::{Deserialize, Serialize};

/// Where a server's console of one protocol listens.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Endpoint {
    /// Host or address the proxy connects to.
    pub host: String,
    /// Plain port.
    pub port: u16,
    /// TLS port (SPICE), when the hypervisor has one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tls_port: Option<u16>,
    /// A path the proxy must `CONNECT` to first, or a driver-specific
    /// access string (for webmks, a JSON object with the MKS ticket).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub internal_access_path: Option<String>,
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
}

/// A backend that could not answer (down, timed out, misconfigured).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("server backend unavailable: {0}")]
pub struct BackendError(pub String);

/// Where servers and their console endpoints come from: the embedding
/// compute service, or the binary's inventory.
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
