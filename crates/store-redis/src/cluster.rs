//! The store's operations on a Redis Cluster, where a script or `MULTI`
//! may only touch keys of one hash slot.
//!
//! A token's record is named by its hash alone, since validating has only
//! the hash: the records of one server are spread over the cluster, and
//! no single step can delete them all. Revocation therefore never deletes
//! a record: it overwrites each with [`TOMBSTONE`] (one atomic command per
//! record), and authorizing refuses to overwrite a tombstone, so that a
//! revocation racing a new token's write wins. The server's index (one
//! set, so one slot) is read first and only pruned of what was read once
//! every record is a tombstone: a revocation that fails half-way leaves
//! the index whole, and running it again finishes the job.

use std::collections::HashMap;

use consoled_core::{unix_seconds, StoreError, TokenRecord};
use futures_util::future::try_join_all;
use redis::Value;

use crate::bounded::bounded;
use crate::keys::TOMBSTONE;
use crate::store::RedisTokenStore;

/// How many commands are in flight at once in one step: the cluster
/// connection pipelines them per node.
pub(crate) const IN_FLIGHT_MAX: usize = 500;

/// Writes a record unless it is a tombstone. KEYS[1] the record; ARGV:
/// the tombstone, the JSON, its expiry. Returns 1 when written, 0 when the
/// token was revoked first.
const WRITE_SCRIPT: &str = r"
if redis.call('GET', KEYS[1]) == ARGV[1] then
  return 0
end
redis.call('SET', KEYS[1], ARGV[2], 'EXAT', ARGV[3])
return 1
";

/// Reads a server's index: its expiry and members, in one step. KEYS[1]
/// the set.
const INDEX_SCRIPT: &str = r"
return {redis.call('EXPIRETIME', KEYS[1]), redis.call('SMEMBERS', KEYS[1])}
";

/// Makes a record a tombstone; returns the record it was, if any. A live
/// record keeps its expiry; a record not yet written gets ARGV[2], the
/// index's expiry, which no token of the server outlives. KEYS[1] the
/// record; ARGV[1] the tombstone.
const TOMBSTONE_SCRIPT: &str = r"
local old = redis.call('GET', KEYS[1])
if old == ARGV[1] then
  return false
end
if old then
  redis.call('SET', KEYS[1], ARGV[1], 'KEEPTTL')
  return old
end
redis.call('SET', KEYS[1], ARGV[1], 'EXAT', ARGV[2])
return false
";

impl RedisTokenStore {
    /// Indexes the token under its server, then writes its record: in that
    /// order, so that a record never exists unindexed (a revocation could
    /// not find it). A write that fails after the index leaves a stale
    /// member, which purging removes.
    pub(crate) async fn authorize_in_cluster(
        &self,
        record: &TokenRecord,
        hex: &str,
        json: &str,
    ) -> Result<(), StoreError> {
        let server = self.keys.server(&record.instance_uuid);
        let expires_at = record.expires_at;
        let mut conn = self.conn.clone();
        let mut index = redis::pipe();
        // One key, so one slot: MULTI is allowed.
        index
            .atomic()
            .cmd("SADD")
            .arg(&server)
            .arg(hex)
            .ignore()
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
        bounded("authorize", self.timeout, index.exec_async(&mut conn)).await?;
        let written: i64 = bounded(
            "authorize",
            self.timeout,
            redis::cmd("EVAL")
                .arg(WRITE_SCRIPT)
                .arg(1)
                .arg(self.keys.token(hex))
                .arg(TOMBSTONE)
                .arg(json)
                .arg(expires_at)
                .query_async(&mut conn),
        )
        .await?;
        if written == 0 {
            // The server was revoked between the two steps: the token is
            // void, as if the revocation had come just after.
            tracing::debug!(
                token = %record.token_hash.fingerprint(),
                "console token revoked while it was being stored"
            );
            if let (Some(_), Some(project)) = (self.per_project, record.quota_project()) {
                let _: Result<(), _> = bounded(
                    "authorize",
                    self.timeout,
                    redis::cmd("ZREM")
                        .arg(self.keys.project(project))
                        .arg(hex)
                        .exec_async(&mut conn),
                )
                .await;
            }
        }
        Ok(())
    }

    /// Makes every record the server's index lists a tombstone, gives
    /// their quota places back, then removes what it read from the index.
    /// Round trips: one to read the index, one (parallel over the masters)
    /// for the records, one for the index and quota sets together.
    pub(crate) async fn revoke_in_cluster(&self, instance_uuid: &str) -> Result<usize, StoreError> {
        let server = self.keys.server(instance_uuid);
        let mut conn = self.conn.clone();
        let (expires_at, members): (i64, Vec<Vec<u8>>) = bounded(
            "revoke_server",
            self.timeout,
            redis::cmd("EVAL")
                .arg(INDEX_SCRIPT)
                .arg(1)
                .arg(&server)
                .query_async(&mut conn),
        )
        .await?;
        if members.is_empty() {
            return Ok(0);
        }
        // No expiry (-1) is not ours to keep for ever: a day, the longest
        // a token lives.
        let now = unix_seconds(self.clock.now()) as i64;
        let tomb_until = if expires_at > now {
            expires_at
        } else {
            now + 86_400
        };

        let mut gone = 0;
        let mut quota: HashMap<String, Vec<&[u8]>> = HashMap::new();
        for chunk in members.chunks(IN_FLIGHT_MAX) {
            let olds = bounded(
                "revoke_server",
                self.timeout,
                try_join_all(chunk.iter().map(|member| {
                    let mut conn = self.conn.clone();
                    let key = self.keys.token_from_member(member);
                    async move {
                        redis::cmd("EVAL")
                            .arg(TOMBSTONE_SCRIPT)
                            .arg(1)
                            .arg(key)
                            .arg(TOMBSTONE)
                            .arg(tomb_until)
                            .query_async::<Option<Vec<u8>>>(&mut conn)
                            .await
                    }
                })),
            )
            .await?;
            for (member, old) in chunk.iter().zip(olds) {
                let Some(old) = old else { continue };
                gone += 1;
                if let Some(project) = project_of(&old) {
                    quota.entry(project).or_default().push(member);
                }
            }
        }

        let mut steps = Vec::with_capacity(quota.len() + 1);
        let mut prune = redis::cmd("SREM");
        prune.arg(&server).arg(&members);
        steps.push(prune);
        for (project, hashes) in &quota {
            let mut give_back = redis::cmd("ZREM");
            give_back.arg(self.keys.project(project)).arg(hashes);
            steps.push(give_back);
        }
        bounded(
            "revoke_server",
            self.timeout,
            try_join_all(steps.iter().map(|step| {
                let mut conn = self.conn.clone();
                async move { step.query_async::<Value>(&mut conn).await }
            })),
        )
        .await?;
        Ok(gone)
    }
}

/// The project a record's JSON names as its minter's, read loosely: a
/// record that does not parse still gets revoked.
fn project_of(json: &[u8]) -> Option<String> {
    let value: serde_json::Value = serde_json::from_slice(json).ok()?;
    value
        .get("minted_by")?
        .get("project_id")?
        .as_str()
        .map(str::to_owned)
}
