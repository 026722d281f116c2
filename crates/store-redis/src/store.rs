//! The store: connection, options and the [`TokenStore`] operations.

use std::collections::HashMap;
use std::fmt;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use async_trait::async_trait;
use consoled_core::{
    unix_seconds, Clock, StoreError, StoreLimits, SystemClock, TokenHash, TokenRecord, TokenStore,
};

use crate::bounded::bounded;
use crate::codec::{decode, encode};
use crate::connection::RedisConnection;
use crate::keys::{Keys, TOMBSTONE};
use crate::target::RedisTarget;

/// Deletes every token of one server and its set in one atomic step
/// (one Redis server only: it touches keys it is not given);
/// returns how many token records existed. KEYS[1] is the server's set,
/// ARGV[1] what goes before a hash to name its record.
///
/// Each record also gives its place in its project's quota set back
/// (ARGV[2] goes before a project id to name that set): the record's JSON
/// names the project that minted it.
const REVOKE_SCRIPT: &str = r"
local hashes = redis.call('SMEMBERS', KEYS[1])
local gone = 0
for _, hash in ipairs(hashes) do
  local key = ARGV[1] .. hash
  local json = redis.call('GET', key)
  if json then
    local ok, record = pcall(cjson.decode, json)
    if ok and type(record) == 'table' and type(record.minted_by) == 'table'
        and type(record.minted_by.project_id) == 'string' then
      redis.call('ZREM', ARGV[2] .. record.minted_by.project_id, hash)
    end
  end
  gone = gone + redis.call('DEL', key)
end
redis.call('DEL', KEYS[1])
return gone
";

/// Takes a place for a token in its project's set, unless the project
/// holds `cap` live tokens already: drops the set's expired members, then
/// adds the token with its expiry as score, and keeps the set alive a
/// while past its newest member (ARGV[5]). Returns 1 when the place was
/// taken, 0 when the project is at its cap. KEYS[1] is the project's
/// sorted set; ARGV: now, cap, the token hash, its expiry, the set's
/// expiry.
///
/// Members are dropped by the store's clock (ARGV[1]); the set outlives
/// them by [`QUOTA_GRACE_SECONDS`] of Redis's clock, so that Redis does
/// not drop, with a member Redis counts expired, a set whose other places
/// a node lagging behind Redis's clock still counts.
pub(crate) const QUOTA_SCRIPT: &str = r"
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', ARGV[1])
if not redis.call('ZSCORE', KEYS[1], ARGV[3]) and redis.call('ZCARD', KEYS[1]) >= tonumber(ARGV[2]) then
  return 0
end
redis.call('ZADD', KEYS[1], ARGV[4], ARGV[3])
redis.call('EXPIREAT', KEYS[1], ARGV[5], 'NX')
redis.call('EXPIREAT', KEYS[1], ARGV[5], 'GT')
return 1
";

/// How long a project's quota set outlives its newest member.
const QUOTA_GRACE_SECONDS: u64 = 60;

/// A [`TokenStore`] on Redis, shared by every API and proxy node that
/// connects to the same Redis with the same key prefix.
///
/// Cheap to share behind an `Arc`; the connection reconnects by itself
/// after Redis comes back. One Redis server or a Redis Cluster
/// ([`RedisTarget`]); the crate's front page tells the key layout of each
/// and what is atomic.
pub struct RedisTokenStore {
    pub(crate) conn: RedisConnection,
    target: RedisTarget,
    pub(crate) keys: Keys,
    pub(crate) timeout: Duration,
    pub(crate) purge_steps: usize,
    /// Where the last purge stopped, per node that SCAN walks ("" for a
    /// single server).
    purge_cursors: Mutex<HashMap<String, u64>>,
    pub(crate) clock: Arc<dyn Clock>,
    /// The most live tokens one project may hold; `None`: no cap.
    pub(crate) per_project: Option<usize>,
}

impl RedisTokenStore {
    /// The key prefix unless [`RedisTokenStore::with_key_prefix`] says
    /// otherwise.
    pub const DEFAULT_KEY_PREFIX: &'static str = "consoled:";
    /// How long connecting, and each operation, may take by default.
    pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(2);
    /// How many SCAN steps (of about 100 keys each) one
    /// [`TokenStore::purge_expired`] takes at most by default.
    pub const DEFAULT_PURGE_STEPS: usize = 10;

    /// Connects to the Redis at `url` (`redis://[:password@]host:port/db`)
    /// with the default timeout and key prefix.
    ///
    /// # Errors
    /// [`StoreError::Unavailable`] when the URL is invalid or Redis does not
    /// answer within [`RedisTokenStore::DEFAULT_TIMEOUT`].
    pub async fn connect(url: &str) -> Result<Self, StoreError> {
        Self::connect_with_timeout(url, Self::DEFAULT_TIMEOUT).await
    }

    /// Connects to the Redis at `url`, allowing `timeout` for connecting
    /// and then for each operation (each Redis round trip).
    ///
    /// # Errors
    /// [`StoreError::Unavailable`] when the URL is invalid or Redis does not
    /// answer within `timeout`.
    pub async fn connect_with_timeout(url: &str, timeout: Duration) -> Result<Self, StoreError> {
        Self::connect_target(&RedisTarget::standalone(url)?, timeout).await
    }

    /// Connects to `target` (one server or a cluster, see
    /// [`RedisSettings::target`](crate::RedisSettings::target)), allowing
    /// `timeout` for connecting and then for each operation.
    ///
    /// # Errors
    /// [`StoreError::Unavailable`] when Redis does not answer within
    /// `timeout`; the message names the addresses, never a password.
    pub async fn connect_target(
        target: &RedisTarget,
        timeout: Duration,
    ) -> Result<Self, StoreError> {
        let store = Self::connect_target_lazy(target, timeout)?;
        let mut conn = store.conn.clone();
        bounded(
            "connect",
            timeout,
            redis::cmd("PING").query_async::<()>(&mut conn),
        )
        .await
        .map_err(|e| match e {
            StoreError::Unavailable(msg) => {
                StoreError::Unavailable(format!("{msg} ({})", store.target.addresses()))
            }
            other => other,
        })?;
        Ok(store)
    }

    /// A store for the Redis at `url` that connects on its first
    /// operation: for a node that must start while Redis is still down.
    /// `timeout` bounds each operation, connecting included.
    ///
    /// # Errors
    /// [`StoreError::Unavailable`] when the URL is invalid.
    ///
    /// # Panics
    /// Outside a Tokio runtime.
    pub fn connect_lazy(url: &str, timeout: Duration) -> Result<Self, StoreError> {
        Self::connect_target_lazy(&RedisTarget::standalone(url)?, timeout)
    }

    /// A store for `target` that connects on its first operation, as
    /// [`RedisTokenStore::connect_lazy`].
    ///
    /// # Errors
    /// [`StoreError::Unavailable`] when the client cannot be built.
    ///
    /// # Panics
    /// Outside a Tokio runtime.
    pub fn connect_target_lazy(
        target: &RedisTarget,
        timeout: Duration,
    ) -> Result<Self, StoreError> {
        let conn = target.connect_lazy(timeout)?;
        Ok(RedisTokenStore {
            conn,
            target: target.clone(),
            keys: Keys::new(Self::DEFAULT_KEY_PREFIX),
            timeout,
            purge_steps: Self::DEFAULT_PURGE_STEPS,
            purge_cursors: Mutex::new(HashMap::new()),
            clock: Arc::new(SystemClock),
            per_project: StoreLimits::default().per_project(),
        })
    }

    /// Puts every key under `prefix` instead of `consoled:`: stores with
    /// different prefixes on one Redis do not see each other's tokens.
    pub fn with_key_prefix(mut self, prefix: impl Into<String>) -> Self {
        self.keys = Keys::new(prefix);
        self.lock_cursors().clear();
        self
    }

    /// The clock that decides whether a record read back has expired
    /// (Redis expires records by its own clock in any case).
    pub fn with_clock(mut self, clock: Arc<dyn Clock>) -> Self {
        self.clock = clock;
        self
    }

    /// Caps the live tokens of one project at
    /// [`StoreLimits::max_live_records_per_project`] (the default limits'
    /// unless told); the total is Redis's own `maxmemory`'s business.
    pub fn with_limits(mut self, limits: StoreLimits) -> Self {
        self.per_project = limits.per_project();
        self
    }

    /// How many SCAN steps one purge takes at most (at least one).
    pub fn with_purge_steps(mut self, steps: usize) -> Self {
        self.purge_steps = steps.max(1);
        self
    }

    /// The key prefix in use.
    pub fn key_prefix(&self) -> &str {
        self.keys.prefix()
    }

    /// Where the store's Redis is: what other users of the same Redis
    /// (such as a registry of live sessions) connect to, with
    /// [`RedisTarget::connect_with_pushes`] for pub/sub.
    pub fn target(&self) -> &RedisTarget {
        &self.target
    }

    /// A clone of the store's connection, for plain commands on the same
    /// Redis (it shares the store's sockets; it cannot subscribe).
    pub fn connection(&self) -> RedisConnection {
        self.conn.clone()
    }

    /// The timeout of connecting and of each operation.
    pub fn timeout(&self) -> Duration {
        self.timeout
    }

    /// Prunes the per-server sets every `every` until the store is
    /// dropped ([`consoled_core::store::spawn_purger`]); failures are
    /// logged and retried at the next tick. Needs a Tokio runtime.
    pub fn spawn_purger(self: &Arc<Self>, every: Duration) -> tokio::task::JoinHandle<()> {
        consoled_core::store::spawn_purger(self, every)
    }

    pub(crate) fn purge_cursor(&self, node: &str) -> u64 {
        self.lock_cursors().get(node).copied().unwrap_or(0)
    }

    pub(crate) fn set_purge_cursor(&self, node: &str, cursor: u64) {
        self.lock_cursors().insert(node.to_owned(), cursor);
    }

    /// Forgets the cursors of nodes that are no longer masters.
    pub(crate) fn keep_purge_cursors(&self, nodes: &[String]) {
        self.lock_cursors().retain(|node, _| nodes.contains(node));
    }

    // The cursors are plain numbers: a panic elsewhere cannot leave one
    // half-written, so a poisoned lock is still good.
    fn lock_cursors(&self) -> std::sync::MutexGuard<'_, HashMap<String, u64>> {
        self.purge_cursors
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// Takes a place in the record's project's quota set, when projects
    /// are capped: its own step, before the record is written, since a
    /// record written after a refusal would be a token nobody was given. A
    /// write that fails after it leaves a place taken until the expiry.
    pub(crate) async fn take_quota_place(
        &self,
        record: &TokenRecord,
        hex: &str,
    ) -> Result<(), StoreError> {
        let (Some(limit), Some(project)) = (self.per_project, record.quota_project()) else {
            return Ok(());
        };
        let mut conn = self.conn.clone();
        let taken: i64 = bounded(
            "authorize",
            self.timeout,
            redis::cmd("EVAL")
                .arg(QUOTA_SCRIPT)
                .arg(1)
                .arg(self.keys.project(project))
                .arg(unix_seconds(self.clock.now()))
                .arg(limit)
                .arg(hex)
                .arg(record.expires_at)
                .arg(record.expires_at + QUOTA_GRACE_SECONDS)
                .query_async(&mut conn),
        )
        .await?;
        if taken == 0 {
            return Err(StoreError::OverQuota {
                project: project.to_owned(),
                limit,
            });
        }
        Ok(())
    }
}

impl fmt::Debug for RedisTokenStore {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RedisTokenStore")
            .field("target", &self.target)
            .field("key_prefix", &self.keys.prefix())
            .field("timeout", &self.timeout)
            .field("purge_steps", &self.purge_steps)
            .finish_non_exhaustive()
    }
}

#[async_trait]
impl TokenStore for RedisTokenStore {
    async fn authorize(&self, record: TokenRecord) -> Result<(), StoreError> {
        let now = self.clock.now();
        if record.is_expired(now) {
            // Void already: storing it would only make Redis delete it.
            tracing::debug!(
                token = %record.token_hash.fingerprint(),
                "not storing an already expired console token"
            );
            return Ok(());
        }
        let hex = record.token_hash.to_hex();
        let json = encode(&record)?;
        self.take_quota_place(&record, &hex).await?;
        if self.conn.is_cluster() {
            return self.authorize_in_cluster(&record, &hex, &json).await;
        }
        let server = self.keys.server(&record.instance_uuid);
        let expires_at = record.expires_at;
        let mut conn = self.conn.clone();
        let mut pipe = redis::pipe();
        pipe.atomic()
            .cmd("SET")
            .arg(self.keys.token(&hex))
            .arg(json)
            .arg("EXAT")
            .arg(expires_at)
            .ignore()
            .cmd("SADD")
            .arg(&server)
            .arg(&hex)
            .ignore()
            // A new set has no expiry, which GT counts as infinite: NX
            // gives it one, GT then pushes it to the newest token's.
            .cmd("EXPIREAT")
            .arg(&server)
            .arg(expires_at)
            .arg("NX")
            .ignore()
            .cmd("EXPIREAT")
            .arg(&server)
            .arg(expires_at)
            .arg("GT")
            .ignore();
        bounded("authorize", self.timeout, pipe.exec_async(&mut conn)).await
    }

    async fn validate(&self, hash: &TokenHash) -> Result<Option<TokenRecord>, StoreError> {
        let mut conn = self.conn.clone();
        let raw: Option<Vec<u8>> = bounded(
            "validate",
            self.timeout,
            redis::cmd("GET")
                .arg(self.keys.token(&hash.to_hex()))
                .query_async(&mut conn),
        )
        .await?;
        let Some(raw) = raw else { return Ok(None) };
        if raw == TOMBSTONE.as_bytes() {
            // Revoked in a cluster, where the record stays as this mark.
            return Ok(None);
        }
        let record = decode(hash, &raw).inspect_err(|e| {
            tracing::warn!(token = %hash.fingerprint(), error = %e, "unreadable console token record");
        })?;
        // Redis expires by its own clock; ours decides when they disagree.
        if record.is_expired(self.clock.now()) {
            return Ok(None);
        }
        Ok(Some(record))
    }

    async fn revoke_server(&self, instance_uuid: &str) -> Result<usize, StoreError> {
        if self.conn.is_cluster() {
            return self.revoke_in_cluster(instance_uuid).await;
        }
        let mut conn = self.conn.clone();
        bounded(
            "revoke_server",
            self.timeout,
            redis::cmd("EVAL")
                .arg(REVOKE_SCRIPT)
                .arg(1)
                .arg(self.keys.server(instance_uuid))
                .arg(self.keys.token_prefix())
                .arg(self.keys.project_prefix())
                .query_async(&mut conn),
        )
        .await
    }

    async fn purge_expired(&self) -> Result<usize, StoreError> {
        self.purge_pass().await
    }
}
