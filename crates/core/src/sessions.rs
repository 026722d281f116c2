//! Live console sessions across proxy nodes: who is connected to which
//! server, and orders to cut them.
//!
//! Each proxy node publishes its own sessions to a [`SessionDirectory`],
//! refreshed by a heartbeat so that a node that dies takes its sessions
//! off the list when its entries expire; any node lists them all and
//! [sends](SessionDirectory::send) [`Cut`] orders, which every node hears
//! and carries out for the sessions it relays. [`LocalSessions`] is the
//! directory of one process; a shared one (Redis) spans nodes.

use std::collections::HashMap;
use std::sync::{Mutex, PoisonError};
use std::time::{Duration, Instant};

use async_trait::async_trait;
use serde::{Deserialize, Serialize};
use tokio::sync::broadcast;

use crate::record::MintedBy;
use crate::store::StoreError;

/// How many cut orders a node may fall behind by before its sessions stop
/// trusting the news and ask the store about their tokens instead.
pub const ORDER_BACKLOG: usize = 1024;

/// One live console session, as its proxy node publishes it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SessionInfo {
    /// The session's id (random, unique across nodes).
    pub id: String,
    /// The proxy node relaying it.
    pub node: String,
    /// The server it is a console of.
    pub instance_uuid: String,
    /// Its console type.
    pub console_type: String,
    /// The client's address (the browser's, through trusted proxies).
    pub client: String,
    /// When it opened, in seconds since the Unix epoch.
    pub started_at: u64,
    /// Bytes relayed to the client, as of the node's last publication.
    pub to_client: u64,
    /// Bytes relayed to the backend, as of the node's last publication.
    pub to_backend: u64,
    /// Who minted its token, when the record says.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub minted_by: Option<MintedBy>,
}

/// An order to end sessions, heard by every node.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "cut", content = "id", rename_all = "snake_case")]
pub enum Cut {
    /// Every session of this server (its tokens are revoked first).
    Server(String),
    /// The session with this id.
    Session(String),
    /// The session with this id, because a newer one of its console took
    /// over (`[consoles.<type>] sessions = "takeover"`).
    TakenOver(String),
}

/// Where proxy nodes publish their live sessions and hear cut orders.
///
/// Writes come from one task per node, off the sessions' path: a slow or
/// absent directory delays the list, never a session.
#[async_trait]
pub trait SessionDirectory: Send + Sync + 'static {
    /// Records (or refreshes) `sessions` of `node`, and keeps every
    /// session of `node` listed for `ttl` from now: a node that stops
    /// beating drops off the list.
    ///
    /// # Errors
    /// [`StoreError`] when the directory cannot be written.
    async fn heartbeat(
        &self,
        node: &str,
        sessions: &[SessionInfo],
        ttl: Duration,
    ) -> Result<(), StoreError>;

    /// Takes sessions of `node` that ended off the list.
    ///
    /// # Errors
    /// [`StoreError`] when the directory cannot be written.
    async fn ended(&self, node: &str, ids: &[String]) -> Result<(), StoreError>;

    /// Every node's live sessions, ordered by start time then id.
    ///
    /// # Errors
    /// [`StoreError`] when the directory cannot be read.
    async fn list(&self) -> Result<Vec<SessionInfo>, StoreError>;

    /// Sends `cut` to every node, this one included.
    ///
    /// # Errors
    /// [`StoreError`] when the order could not be sent.
    async fn send(&self, cut: Cut) -> Result<(), StoreError>;

    /// The orders sent from now on by any node. A receiver that falls
    /// [`ORDER_BACKLOG`] behind is told it lagged.
    fn subscribe(&self) -> broadcast::Receiver<Cut>;
}

/// The session directory of one process: its own sessions and orders.
pub struct LocalSessions {
    nodes: Mutex<HashMap<String, Node>>,
    orders: broadcast::Sender<Cut>,
}

struct Node {
    sessions: HashMap<String, SessionInfo>,
    expires: Instant,
}

impl std::fmt::Debug for LocalSessions {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LocalSessions").finish_non_exhaustive()
    }
}

impl Default for LocalSessions {
    fn default() -> Self {
        LocalSessions::new()
    }
}

impl LocalSessions {
    /// An empty directory.
    pub fn new() -> Self {
        LocalSessions {
            nodes: Mutex::new(HashMap::new()),
            orders: broadcast::channel(ORDER_BACKLOG).0,
        }
    }
}

#[async_trait]
impl SessionDirectory for LocalSessions {
    async fn heartbeat(
        &self,
        node: &str,
        sessions: &[SessionInfo],
        ttl: Duration,
    ) -> Result<(), StoreError> {
        let mut nodes = self.nodes.lock().unwrap_or_else(PoisonError::into_inner);
        let entry = nodes.entry(node.to_owned()).or_insert_with(|| Node {
            sessions: HashMap::new(),
            expires: Instant::now(),
        });
        for session in sessions {
            entry.sessions.insert(session.id.clone(), session.clone());
        }
        entry.expires = Instant::now() + ttl;
        Ok(())
    }

    async fn ended(&self, node: &str, ids: &[String]) -> Result<(), StoreError> {
        let mut nodes = self.nodes.lock().unwrap_or_else(PoisonError::into_inner);
        if let Some(entry) = nodes.get_mut(node) {
            for id in ids {
                entry.sessions.remove(id);
            }
        }
        Ok(())
    }

    async fn list(&self) -> Result<Vec<SessionInfo>, StoreError> {
        let mut nodes = self.nodes.lock().unwrap_or_else(PoisonError::into_inner);
        let now = Instant::now();
        nodes.retain(|_, node| node.expires > now);
        let mut all: Vec<SessionInfo> = nodes
            .values()
            .flat_map(|node| node.sessions.values().cloned())
            .collect();
        sort(&mut all);
        Ok(all)
    }

    async fn send(&self, cut: Cut) -> Result<(), StoreError> {
        // No receiver is no session: nothing to tell.
        let _ = self.orders.send(cut);
        Ok(())
    }

    fn subscribe(&self) -> broadcast::Receiver<Cut> {
        self.orders.subscribe()
    }
}

/// The order [`SessionDirectory::list`] promises: by start, then id.
pub fn sort(sessions: &mut [SessionInfo]) {
    sessions.sort_by(|a, b| {
        a.started_at
            .cmp(&b.started_at)
            .then_with(|| a.id.cmp(&b.id))
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    fn session(id: &str, node: &str, started_at: u64) -> SessionInfo {
        SessionInfo {
            id: id.into(),
            node: node.into(),
            instance_uuid: "vm".into(),
            console_type: "novnc".into(),
            client: "192.0.2.1:5000".into(),
            started_at,
            to_client: 0,
            to_backend: 0,
            minted_by: None,
        }
    }

    #[tokio::test]
    async fn nodes_list_together_until_they_end_or_stop_beating() {
        let dir = LocalSessions::new();
        let long = Duration::from_secs(60);
        dir.heartbeat("n1", &[session("b", "n1", 2)], long)
            .await
            .unwrap();
        dir.heartbeat("n2", &[session("a", "n2", 1)], long)
            .await
            .unwrap();
        dir.heartbeat("gone", &[session("c", "gone", 3)], Duration::ZERO)
            .await
            .unwrap();
        let ids: Vec<String> = dir
            .list()
            .await
            .unwrap()
            .into_iter()
            .map(|s| s.id)
            .collect();
        assert_eq!(
            ids,
            ["a", "b"],
            "by start; the node that stopped beating is gone"
        );
        dir.ended("n1", &["b".into()]).await.unwrap();
        assert_eq!(dir.list().await.unwrap().len(), 1);
    }

    #[tokio::test]
    async fn every_subscriber_hears_every_order() {
        let dir = LocalSessions::new();
        let (mut one, mut two) = (dir.subscribe(), dir.subscribe());
        dir.send(Cut::Session("s1".into())).await.unwrap();
        assert_eq!(one.recv().await.unwrap(), Cut::Session("s1".into()));
        assert_eq!(two.recv().await.unwrap(), Cut::Session("s1".into()));
    }

    #[test]
    fn orders_have_a_plain_wire_form() {
        let json = serde_json::to_string(&Cut::Server("vm-1".into())).unwrap();
        assert_eq!(json, r#"{"cut":"server","id":"vm-1"}"#);
        assert_eq!(
            serde_json::from_str::<Cut>(r#"{"cut":"session","id":"s"}"#).unwrap(),
            Cut::Session("s".into())
        );
    }
}
