//! Pruning the per-server sets of hashes whose record Redis has expired.
//!
//! Redis drops token records by itself at their `expires_at`, but the set
//! of a server that keeps getting new tokens lives on and would collect
//! the hashes of every token it ever had. A purge walks the sets with
//! SCAN, a few at a time, and removes the hashes whose record is gone. In
//! a cluster, SCAN sees one node's keys: the purge walks every master, each
//! with its own cursor.

use consoled_core::StoreError;
use futures_util::future::try_join_all;
use redis::cluster_routing::{MultipleNodeRoutingInfo, RoutingInfo, SingleNodeRoutingInfo};
use redis::{Cmd, Value};

use crate::bounded::{bounded, unavailable};
use crate::connection::RedisConnection;
use crate::store::RedisTokenStore;

/// How many keys one SCAN step asks Redis to look at: small, so that no
/// step holds Redis up.
pub(crate) const SCAN_COUNT: usize = 100;
/// How many commands are in flight at once: the connection pipelines them
/// (per node, in a cluster).
const IN_FLIGHT_MAX: usize = 500;

/// The node a single server's cursor is filed under.
const STANDALONE: &str = "";

impl RedisTokenStore {
    /// One bounded pass: at most `purge_steps` SCAN steps (on each master,
    /// in a cluster), resuming where the previous pass stopped. Returns
    /// how many stale hashes went.
    pub(crate) async fn purge_pass(&self) -> Result<usize, StoreError> {
        let nodes = match &self.conn {
            RedisConnection::Cluster(_) => self.masters().await?,
            _ => vec![STANDALONE.to_owned()],
        };
        let mut removed = 0;
        for node in &nodes {
            removed += self.purge_node(node).await?;
        }
        Ok(removed)
    }

    /// The cluster's masters as `host:port`, as the cluster client knows
    /// them; the cursors of nodes that are masters no more are dropped.
    async fn masters(&self) -> Result<Vec<String>, StoreError> {
        let RedisConnection::Cluster(conn) = &self.conn else {
            return Ok(vec![STANDALONE.to_owned()]);
        };
        let mut conn = conn.clone();
        let answers = bounded(
            "purge (masters)",
            self.timeout,
            conn.route_command(
                redis::cmd("PING"),
                RoutingInfo::MultiNode((MultipleNodeRoutingInfo::AllMasters, None)),
            ),
        )
        .await?;
        let mut masters: Vec<String> = match answers {
            Value::Map(pairs) => pairs
                .into_iter()
                .filter_map(|(addr, _)| redis::from_redis_value::<String>(addr).ok())
                .collect(),
            // A cluster of one master answers as one node would.
            _ => Vec::new(),
        };
        masters.sort();
        self.keep_purge_cursors(&masters);
        Ok(masters)
    }

    /// Up to `purge_steps` SCAN steps on `node`.
    async fn purge_node(&self, node: &str) -> Result<usize, StoreError> {
        let pattern = self.keys.server_pattern();
        let mut cursor = self.purge_cursor(node);
        let mut removed = 0;
        for _ in 0..self.purge_steps {
            let mut scan = redis::cmd("SCAN");
            scan.arg(cursor)
                .arg("MATCH")
                .arg(&pattern)
                .arg("COUNT")
                .arg(SCAN_COUNT)
                // Anything else under the pattern (not ours) must not
                // make SMEMBERS fail and the purge stick there.
                .arg("TYPE")
                .arg("set");
            let (next, sets): (u64, Vec<Vec<u8>>) = self.on_node(node, scan).await?;
            removed += self.prune_sets(&sets).await?;
            // Saved after each step, so that a failure later in this pass
            // does not make the next pass redo the work.
            cursor = next;
            self.set_purge_cursor(node, cursor);
            if cursor == 0 {
                break;
            }
        }
        Ok(removed)
    }

    /// Runs `cmd` on `node` (a cluster master's `host:port`, or the one
    /// server).
    async fn on_node<T: redis::FromRedisValue>(
        &self,
        node: &str,
        cmd: Cmd,
    ) -> Result<T, StoreError> {
        let value = match &self.conn {
            RedisConnection::Cluster(conn) => {
                let (host, port) = node
                    .rsplit_once(':')
                    .and_then(|(h, p)| Some((h.to_owned(), p.parse().ok()?)))
                    .ok_or_else(|| {
                        StoreError::Unavailable(format!("redis purge (scan): no node {node}"))
                    })?;
                let mut conn = conn.clone();
                bounded(
                    "purge (scan)",
                    self.timeout,
                    conn.route_command(
                        cmd,
                        RoutingInfo::SingleNode(SingleNodeRoutingInfo::ByAddress { host, port }),
                    ),
                )
                .await?
            }
            conn => {
                let mut conn = conn.clone();
                bounded(
                    "purge (scan)",
                    self.timeout,
                    cmd.query_async::<Value>(&mut conn),
                )
                .await?
            }
        };
        redis::from_redis_value(value).map_err(|e| unavailable("purge (scan)", &e.into()))
    }

    /// Removes, from each of `sets`, the hashes whose record is gone.
    async fn prune_sets(&self, sets: &[Vec<u8>]) -> Result<usize, StoreError> {
        let mut members: Vec<(usize, Vec<u8>)> = Vec::new();
        for (first, chunk) in (0..).step_by(IN_FLIGHT_MAX).zip(sets.chunks(IN_FLIGHT_MAX)) {
            let listed: Vec<Vec<Vec<u8>>> = self
                .each(
                    "purge (smembers)",
                    chunk.iter().map(|set| {
                        let mut cmd = redis::cmd("SMEMBERS");
                        cmd.arg(set);
                        cmd
                    }),
                )
                .await?;
            for (i, list) in listed.into_iter().enumerate() {
                members.extend(list.into_iter().map(|m| (first + i, m)));
            }
        }

        let mut stale = Vec::new();
        for chunk in members.chunks(IN_FLIGHT_MAX) {
            let exists: Vec<bool> = self
                .each(
                    "purge (exists)",
                    chunk.iter().map(|(_, member)| {
                        let mut cmd = redis::cmd("EXISTS");
                        cmd.arg(self.keys.token_from_member(member));
                        cmd
                    }),
                )
                .await?;
            stale.extend(
                chunk
                    .iter()
                    .zip(exists)
                    .filter(|(_, alive)| !alive)
                    .map(|(m, _)| m),
            );
        }

        // A hash re-authorized between EXISTS and SREM would lose its set
        // entry, but a hash is a fresh token's: it is never authorized twice.
        let mut removed = 0;
        for chunk in stale.chunks(IN_FLIGHT_MAX) {
            let counts: Vec<usize> = self
                .each(
                    "purge (srem)",
                    chunk.iter().map(|(set, member)| {
                        let mut cmd = redis::cmd("SREM");
                        cmd.arg(&sets[*set]).arg(member);
                        cmd
                    }),
                )
                .await?;
            removed += counts.iter().sum::<usize>();
        }
        Ok(removed)
    }

    /// Sends `cmds` at once and waits for every answer: one round trip on
    /// a single server (the connection pipelines them), one per master
    /// in parallel in a cluster, where each command goes to its key's
    /// slot.
    async fn each<T: redis::FromRedisValue>(
        &self,
        op: &'static str,
        cmds: impl Iterator<Item = Cmd>,
    ) -> Result<Vec<T>, StoreError> {
        let calls = cmds.map(|cmd| {
            let mut conn = self.conn.clone();
            async move { cmd.query_async::<T>(&mut conn).await }
        });
        bounded(op, self.timeout, try_join_all(calls)).await
    }
}
