//! The session directory on Redis: every proxy node's live sessions, and
//! cut orders through pub/sub, for nodes that share one Redis.
//!
//! Keys (every command touches one key, so a Redis Cluster serves it
//! too): `<prefix>sessions:<node>`, a hash of the node's sessions (id to
//! JSON) that expires unless the node beats; `<prefix>session-nodes`, a
//! sorted set of nodes scored by when their listing expires. Orders are
//! JSON on the channel `<prefix>cuts`.

use std::time::Duration;

use async_trait::async_trait;
use consoled_core::sessions::{sort, Cut, SessionDirectory, SessionInfo, ORDER_BACKLOG};
use consoled_core::{unix_seconds, StoreError};
use futures_util::StreamExt;
use redis::aio::{ConnectionManager, ConnectionManagerConfig};
use tokio::sync::broadcast;

use crate::bounded::{bounded, unavailable};

/// How long the subscriber waits before subscribing again after Redis
/// went away.
const RESUBSCRIBE_AFTER: Duration = Duration::from_millis(500);

/// A [`SessionDirectory`] on Redis.
pub struct RedisSessions {
    conn: ConnectionManager,
    prefix: String,
    timeout: Duration,
    orders: broadcast::Sender<Cut>,
}

impl std::fmt::Debug for RedisSessions {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RedisSessions")
            .field("prefix", &self.prefix)
            .finish_non_exhaustive()
    }
}

impl RedisSessions {
    /// A directory on the Redis at `url`, its keys under `prefix` (the
    /// token store's), connecting on first use and subscribing to orders
    /// in a task of its own that subscribes again whenever Redis comes
    /// back. `timeout` bounds each operation.
    ///
    /// # Errors
    /// [`StoreError::Unavailable`] when the URL is invalid.
    ///
    /// # Panics
    /// Outside a Tokio runtime.
    pub fn connect_lazy(url: &str, prefix: &str, timeout: Duration) -> Result<Self, StoreError> {
        // The URL may hold a password: errors name only the operation.
        let client = redis::Client::open(url).map_err(|e| unavailable("connect", &e))?;
        let config = ConnectionManagerConfig::new()
            .set_connection_timeout(Some(timeout))
            .set_response_timeout(Some(timeout))
            .set_number_of_retries(2)
            .set_min_delay(Duration::from_millis(50))
            .set_max_delay(Duration::from_millis(500));
        let conn = ConnectionManager::new_lazy_with_config(client.clone(), config)
            .map_err(|e| unavailable("connect", &e))?;
        let orders = broadcast::channel(ORDER_BACKLOG).0;
        tokio::spawn(subscribe(
            client,
            format!("{prefix}cuts"),
            orders.downgrade(),
        ));
        Ok(RedisSessions {
            conn,
            prefix: prefix.to_owned(),
            timeout,
            orders,
        })
    }

    fn node_key(&self, node: &str) -> String {
        format!("{}sessions:{node}", self.prefix)
    }

    fn nodes_key(&self) -> String {
        format!("{}session-nodes", self.prefix)
    }
}

#[async_trait]
impl SessionDirectory for RedisSessions {
    async fn heartbeat(
        &self,
        node: &str,
        sessions: &[SessionInfo],
        ttl: Duration,
    ) -> Result<(), StoreError> {
        let key = self.node_key(node);
        let until_ms = now_ms() + u64::try_from(ttl.as_millis()).unwrap_or(u64::MAX / 2);
        let mut pipe = redis::pipe();
        if !sessions.is_empty() {
            let fields: Vec<(String, String)> = sessions
                .iter()
                .map(|s| {
                    let json = serde_json::to_string(s).unwrap_or_default();
                    (s.id.clone(), json)
                })
                .collect();
            pipe.hset_multiple(&key, &fields).ignore();
        }
        pipe.cmd("PEXPIREAT").arg(&key).arg(until_ms).ignore();
        pipe.zadd(self.nodes_key(), node, until_ms).ignore();
        let mut conn = self.conn.clone();
        bounded("heartbeat", self.timeout, pipe.query_async::<()>(&mut conn)).await
    }

    async fn ended(&self, node: &str, ids: &[String]) -> Result<(), StoreError> {
        if ids.is_empty() {
            return Ok(());
        }
        let mut conn = self.conn.clone();
        bounded(
            "ended",
            self.timeout,
            redis::cmd("HDEL")
                .arg(self.node_key(node))
                .arg(ids)
                .query_async::<()>(&mut conn),
        )
        .await
    }

    async fn list(&self) -> Result<Vec<SessionInfo>, StoreError> {
        let mut conn = self.conn.clone();
        let now = now_ms();
        let nodes: Vec<String> = bounded(
            "list",
            self.timeout,
            redis::cmd("ZRANGE")
                .arg(self.nodes_key())
                .arg(now)
                .arg("+inf")
                .arg("BYSCORE")
                .query_async(&mut conn),
        )
        .await?;
        // Nodes that stopped beating are forgotten; their hashes expire.
        let _ = bounded(
            "list",
            self.timeout,
            redis::cmd("ZREMRANGEBYSCORE")
                .arg(self.nodes_key())
                .arg("-inf")
                .arg(format!("({now}"))
                .query_async::<()>(&mut conn),
        )
        .await;
        let mut all = Vec::new();
        for node in nodes {
            let values: Vec<Vec<u8>> = bounded(
                "list",
                self.timeout,
                redis::cmd("HVALS")
                    .arg(self.node_key(&node))
                    .query_async(&mut conn),
            )
            .await?;
            all.extend(
                values
                    .iter()
                    .filter_map(|json| serde_json::from_slice::<SessionInfo>(json).ok()),
            );
        }
        sort(&mut all);
        Ok(all)
    }

    async fn send(&self, cut: Cut) -> Result<(), StoreError> {
        let json = serde_json::to_string(&cut).unwrap_or_default();
        let mut conn = self.conn.clone();
        bounded(
            "send",
            self.timeout,
            redis::cmd("PUBLISH")
                .arg(format!("{}cuts", self.prefix))
                .arg(json)
                .query_async::<()>(&mut conn),
        )
        .await
    }

    fn subscribe(&self) -> broadcast::Receiver<Cut> {
        self.orders.subscribe()
    }
}

/// Hears `channel` for as long as the directory lives, passing every
/// order on to the node's sessions; subscribes again after Redis went
/// away. An order sent while no subscription stood is lost, and the
/// revoked tokens still refuse new connections.
async fn subscribe(client: redis::Client, channel: String, orders: broadcast::WeakSender<Cut>) {
    let mut failing = false;
    loop {
        if orders.upgrade().is_none() {
            return;
        }
        match client.get_async_pubsub().await {
            Ok(mut pubsub) => match pubsub.subscribe(&channel).await {
                Ok(()) => {
                    if failing {
                        tracing::info!("session cut orders heard again");
                        failing = false;
                    }
                    let mut messages = pubsub.into_on_message();
                    while let Some(message) = messages.next().await {
                        let Some(orders) = orders.upgrade() else {
                            return;
                        };
                        match serde_json::from_slice::<Cut>(message.get_payload_bytes()) {
                            Ok(cut) => {
                                let _ = orders.send(cut);
                            }
                            Err(e) => tracing::warn!(error = %e, "a cut order that does not parse"),
                        }
                    }
                }
                Err(e) if !failing => {
                    tracing::warn!(error = %e, "cannot hear session cut orders; retrying");
                    failing = true;
                }
                Err(_) => {}
            },
            Err(e) if !failing => {
                tracing::warn!(error = %e, "cannot hear session cut orders; retrying");
                failing = true;
            }
            Err(_) => {}
        }
        tokio::time::sleep(RESUBSCRIBE_AFTER).await;
    }
}

fn now_ms() -> u64 {
    let now = std::time::SystemTime::now();
    let ms = now
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.subsec_millis())
        .unwrap_or(0);
    unix_seconds(now) * 1000 + u64::from(ms)
}
