//! One connection type for one Redis server and for a Redis Cluster.

use redis::aio::{ConnectionLike, ConnectionManager};
use redis::cluster_async::ClusterConnection;
use redis::{Cmd, Pipeline, RedisFuture, RedisResult, ToRedisArgs, Value};

/// A connection to the Redis a [`RedisTarget`](crate::RedisTarget) names:
/// a reconnecting multiplexed connection to one server, or the cluster
/// client's connection, which routes each command to the master of its
/// key's slot and follows the cluster as it changes.
///
/// Cheap to clone: clones share the underlying connections. Commands go
/// through [`ConnectionLike`], so `redis::cmd(..).query_async(&mut conn)`
/// and `redis::AsyncCommands` work in both modes; in a cluster, a
/// pipeline or script must keep to one hash slot.
///
/// A connection made by
/// [`RedisTarget::connect_with_pushes`](crate::RedisTarget::connect_with_pushes)
/// speaks RESP3 and can also [`subscribe`](RedisConnection::subscribe):
/// messages arrive on the push sender it was given, and subscriptions are
/// renewed after a reconnection.
#[derive(Clone)]
#[non_exhaustive]
pub enum RedisConnection {
    /// One Redis server (or the primary of a replicated set).
    Standalone(ConnectionManager),
    /// A Redis Cluster.
    Cluster(ClusterConnection),
}

impl RedisConnection {
    /// Whether this is a cluster connection, where multi-key commands must
    /// keep to one hash slot.
    pub fn is_cluster(&self) -> bool {
        matches!(self, RedisConnection::Cluster(_))
    }

    /// Subscribes to `channels`; messages go to the connection's push
    /// sender.
    ///
    /// # Errors
    /// Redis's, including when the connection does not speak RESP3 (it was
    /// not made by `connect_with_pushes`).
    pub async fn subscribe(&mut self, channels: impl ToRedisArgs) -> RedisResult<()> {
        match self {
            RedisConnection::Standalone(c) => c.subscribe(channels).await,
            RedisConnection::Cluster(c) => c.subscribe(channels).await,
        }
    }

    /// Ends the subscription to `channels`.
    ///
    /// # Errors
    /// As [`RedisConnection::subscribe`].
    pub async fn unsubscribe(&mut self, channels: impl ToRedisArgs) -> RedisResult<()> {
        match self {
            RedisConnection::Standalone(c) => c.unsubscribe(channels).await,
            RedisConnection::Cluster(c) => c.unsubscribe(channels).await,
        }
    }

    /// Subscribes to the channels matching `patterns`.
    ///
    /// # Errors
    /// As [`RedisConnection::subscribe`].
    pub async fn psubscribe(&mut self, patterns: impl ToRedisArgs) -> RedisResult<()> {
        match self {
            RedisConnection::Standalone(c) => c.psubscribe(patterns).await,
            RedisConnection::Cluster(c) => c.psubscribe(patterns).await,
        }
    }

    /// Ends the subscription to `patterns`.
    ///
    /// # Errors
    /// As [`RedisConnection::subscribe`].
    pub async fn punsubscribe(&mut self, patterns: impl ToRedisArgs) -> RedisResult<()> {
        match self {
            RedisConnection::Standalone(c) => c.punsubscribe(patterns).await,
            RedisConnection::Cluster(c) => c.punsubscribe(patterns).await,
        }
    }
}

impl ConnectionLike for RedisConnection {
    fn req_packed_command<'a>(&'a mut self, cmd: &'a Cmd) -> RedisFuture<'a, Value> {
        match self {
            RedisConnection::Standalone(c) => c.req_packed_command(cmd),
            RedisConnection::Cluster(c) => c.req_packed_command(cmd),
        }
    }

    fn req_packed_commands<'a>(
        &'a mut self,
        cmd: &'a Pipeline,
        offset: usize,
        count: usize,
    ) -> RedisFuture<'a, Vec<Value>> {
        match self {
            RedisConnection::Standalone(c) => c.req_packed_commands(cmd, offset, count),
            RedisConnection::Cluster(c) => c.req_packed_commands(cmd, offset, count),
        }
    }

    fn get_db(&self) -> i64 {
        match self {
            RedisConnection::Standalone(c) => c.get_db(),
            RedisConnection::Cluster(c) => c.get_db(),
        }
    }
}

impl std::fmt::Debug for RedisConnection {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            RedisConnection::Standalone(_) => "RedisConnection::Standalone",
            RedisConnection::Cluster(_) => "RedisConnection::Cluster",
        })
    }
}
