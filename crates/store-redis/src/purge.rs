//! Pruning the per-server sets of hashes whose record Redis has expired.
//!
//! Redis drops token records by itself at their `expires_at`, but the set
//! of a server that keeps getting new tokens lives on and would collect
//! the hashes of every token it ever had. A purge walks the sets with
//! SCAN, a few at a time, and removes the hashes whose record is gone.

use redis::aio::ConnectionManager;

use crate::bounded::bounded;
use crate::store::RedisTokenStore;

/// How many keys one SCAN step asks Redis to look at: small, so that no
/// step holds Redis up.
pub(crate) const SCAN_COUNT: usize = 100;
/// How many commands one pipeline carries at most.
const PIPELINE_MAX: usize = 500;

impl RedisTokenStore {
    /// One bounded pass: at most `purge_steps` SCAN steps, resuming where
    /// the previous pass stopped. Returns how many stale hashes went.
    pub(crate) async fn purge_pass(&self) -> Result<usize, consoled_core::StoreError> {
        let mut conn = self.conn.clone();
        let pattern = self.keys.server_pattern();
        let mut cursor = self.purge_cursor();
        let mut removed = 0;
        for _ in 0..self.purge_steps {
            let (next, sets): (u64, Vec<Vec<u8>>) = bounded(
                "purge (scan)",
                self.timeout,
                redis::cmd("SCAN")
                    .arg(cursor)
                    .arg("MATCH")
                    .arg(&pattern)
                    .arg("COUNT")
                    .arg(SCAN_COUNT)
                    // Anything else under the pattern (not ours) must not
                    // make SMEMBERS fail and the purge stick there.
                    .arg("TYPE")
                    .arg("set")
                    .query_async(&mut conn),
            )
            .await?;
            removed += self.prune_sets(&mut conn, &sets).await?;
            // Saved after each step, so that a failure later in this pass
            // does not make the next pass redo the work.
            cursor = next;
            self.set_purge_cursor(cursor);
            if cursor == 0 {
                break;
            }
        }
        Ok(removed)
    }

    /// Removes, from each of `sets`, the hashes whose record is gone.
    async fn prune_sets(
        &self,
        conn: &mut ConnectionManager,
        sets: &[Vec<u8>],
    ) -> Result<usize, consoled_core::StoreError> {
        if sets.is_empty() {
            return Ok(0);
        }
        let mut members: Vec<(usize, Vec<u8>)> = Vec::new();
        for (first, chunk) in (0..).step_by(PIPELINE_MAX).zip(sets.chunks(PIPELINE_MAX)) {
            let mut pipe = redis::pipe();
            for set in chunk {
                pipe.cmd("SMEMBERS").arg(set);
            }
            let listed: Vec<Vec<Vec<u8>>> =
                bounded("purge (smembers)", self.timeout, pipe.query_async(conn)).await?;
            for (i, list) in listed.into_iter().enumerate() {
                members.extend(list.into_iter().map(|m| (first + i, m)));
            }
        }

        let mut stale = Vec::new();
        for chunk in members.chunks(PIPELINE_MAX) {
            let mut pipe = redis::pipe();
            for (_, member) in chunk {
                pipe.cmd("EXISTS").arg(self.keys.token_from_member(member));
            }
            let exists: Vec<bool> =
                bounded("purge (exists)", self.timeout, pipe.query_async(conn)).await?;
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
        for chunk in stale.chunks(PIPELINE_MAX) {
            let mut pipe = redis::pipe();
            for (set, member) in chunk {
                pipe.cmd("SREM").arg(&sets[*set]).arg(member);
            }
            let counts: Vec<usize> =
                bounded("purge (srem)", self.timeout, pipe.query_async(conn)).await?;
            removed += counts.iter().sum::<usize>();
        }
        Ok(removed)
    }
}
