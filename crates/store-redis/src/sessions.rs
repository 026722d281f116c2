//! The session directory on Redis: every proxy node's live sessions, and
//! cut orders through pub/sub, for nodes that share one Redis.
//!
//! Keys, all behind the hash tag `{sessions}` so that a Redis Cluster
//! keeps them in one slot and a heartbeat is one round trip:
//! `<prefix>{sessions}:node:<node>`, a hash of the node's sessions (id to
//! JSON) that expires unless the node beats; `<prefix>{sessions}:nodes`,
//! a sorted set of nodes scored by when their listing expires. Orders are
//! JSON on the channel `<prefix>cuts` (a cluster carries a message to
//! every node).

use std::time::Duration;

use async_trait::async_trait;
use consoled_core::sessions::{sort, Cut, SessionDirectory, SessionInfo, ORDER_BACKLOG};
use consoled_core::{unix_seconds, StoreError};
use redis::{PushInfo, PushKind, Value};
use tokio::sync::{broadcast, mpsc};

use crate::bounded::bounded;
use crate::connection::RedisConnection;
use crate::target::RedisTarget;

/// How long the subscriber waits before trying to subscribe again while
/// Redis is away at start-up (after that, the connection renews its
/// subscription whenever it reconnects).
const RESUBSCRIBE_AFTER: Duration = Duration::from_millis(500);

/// A [`SessionDirectory`] on Redis.
pub struct RedisSessions {
    conn: RedisConnection,
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
    /// A directory on the Redis (server or cluster) of `target`, its keys
    /// under `prefix` (the token store's), connecting on first use and
    /// hearing orders on a connection of its own that renews its
    /// subscription whenever it reconnects. `timeout` bounds each
    /// operation.
    ///
    /// # Errors
    /// [`StoreError::Unavailable`] when a connection cannot be set up.
    ///
    /// # Panics
    /// Outside a Tokio runtime.
    pub fn connect_lazy(
        target: &RedisTarget,
        prefix: &str,
        timeout: Duration,
    ) -> Result<Self, StoreError> {
        let conn = target.connect_lazy(timeout)?;
        let (pushes, heard) = mpsc::unbounded_channel();
        let listener = target.connect_with_pushes(timeout, pushes)?;
        let orders = broadcast::channel(ORDER_BACKLOG).0;
        tokio::spawn(subscribe(
            listener,
            heard,
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
        format!("{}{{sessions}}:node:{node}", self.prefix)
    }

    fn nodes_key(&self) -> String {
        format!("{}{{sessions}}:nodes", self.prefix)
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

/// Subscribes `listener` to `channel`, then passes every order heard on
/// to the node's sessions, for as long as the directory lives, subscribing
/// again after Redis went away. An order sent while the connection is down
/// is lost; the revoked tokens still refuse new connections.
async fn subscribe(
    mut listener: RedisConnection,
    mut heard: mpsc::UnboundedReceiver<PushInfo>,
    channel: String,
    orders: broadcast::WeakSender<Cut>,
) {
    if !subscribed(&mut listener, &channel, &orders).await {
        return;
    }
    while let Some(push) = heard.recv().await {
        let Some(sender) = orders.upgrade() else {
            return;
        };
        match push.kind {
            // The connection reconnects (and renews what it subscribed to)
            // on its next command: give it one.
            PushKind::Disconnection => {
                drop(sender);
                tracing::warn!("Redis went away; hearing session cut orders again when it is back");
                if !subscribed(&mut listener, &channel, &orders).await {
                    return;
                }
            }
            PushKind::Message => {
                let Some(Value::BulkString(payload)) = push.data.last() else {
                    continue;
                };
                match serde_json::from_slice::<Cut>(payload) {
                    Ok(cut) => {
                        let _ = sender.send(cut);
                    }
                    Err(e) => tracing::warn!(error = %e, "a cut order that does not parse"),
                }
            }
            _ => {}
        }
    }
}

/// Subscribes `listener` to `channel`, trying again while Redis is away;
/// false when the directory went meanwhile.
async fn subscribed(
    listener: &mut RedisConnection,
    channel: &str,
    orders: &broadcast::WeakSender<Cut>,
) -> bool {
    let mut failing = false;
    loop {
        match listener.subscribe(channel).await {
            Ok(()) => {
                if failing {
                    tracing::info!("session cut orders heard again");
                }
                return true;
            }
            Err(e) => {
                if orders.upgrade().is_none() {
                    return false;
                }
                if !failing {
                    tracing::warn!(error = %e, "cannot hear session cut orders yet; retrying");
                    failing = true;
                }
                tokio::time::sleep(RESUBSCRIBE_AFTER).await;
            }
        }
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
