//! The in-memory token store: the default for a single node.

use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use async_trait::async_trait;

use super::compact::CompactRecord;
use super::token_map::TokenMap;
use super::{StoreError, StoreLimits, TokenStore};
use crate::clock::{Clock, SystemClock};
use crate::record::{unix_seconds, TokenRecord};
use crate::token::TokenHash;

/// A token store in this process's memory.
///
/// Bounded by its [`StoreLimits`]: beyond `max_live_records` live records
/// it refuses new ones with [`StoreError::Full`], and a project at its
/// `max_live_records_per_project` gets [`StoreError::OverQuota`] while the
/// others keep minting. Expired records are dropped as new ones arrive,
/// soonest expiry first, a few with each mint (all of them before a limit
/// refuses one), so purging keeps up with any creation rate;
/// [`MemoryTokenStore::spawn_purger`] drops the rest in small batches and
/// frees an idle store's memory.
///
/// Growing never moves a whole table under the lock: the tables spread
/// over many as they grow, so a mint or an open waits at most for one of
/// them to double.
pub struct MemoryTokenStore {
    inner: Mutex<Inner>,
    clock: Arc<dyn Clock>,
    limits: StoreLimits,
}

/// How many expiry entries each mint looks at.
const EXPIRED_PER_MINT: usize = 4;

/// How many expiry entries the purger looks at under one hold of the lock.
const PURGE_BATCH: usize = 1024;

/// The records and the indexes that keep every operation cheap.
#[derive(Default)]
struct Inner {
    /// Packed ([`CompactRecord`]: two allocations, not eight) and boxed,
    /// so that growing the table moves a pointer per record, not the
    /// record: under a burst of minting the table doubles while the lock
    /// is held, and copying whole records (and faulting in the pages for
    /// them) was a tenth of a mint's CPU time.
    records: TokenMap<Box<CompactRecord>>,
    /// The records that expire in each second, by that second. A record
    /// removed early (validated after expiry, revoked, replaced) leaves
    /// its entry here until it comes due, when it is skipped. (A heap of
    /// every expiry copied itself whole each time it grew.)
    expiries: BTreeMap<u64, Vec<TokenHash>>,
    /// Records per minting project, expired ones included until dropped.
    per_project: HashMap<String, usize>,
    /// The records of each server, for revocation.
    per_server: HashMap<String, TokenMap<()>>,
}

impl Inner {
    /// Adds `record`, replacing the one of the same hash if `replacing`
    /// (the caller has just looked: a new token is never held already).
    fn insert(&mut self, hash: TokenHash, record: CompactRecord, replacing: bool) {
        if replacing {
            self.remove(&hash);
        }
        self.expiries
            .entry(record.expires_at())
            .or_default()
            .push(hash);
        // Keys are copied only for a project or server not seen yet: a
        // busy project mints on, allocating nothing here.
        if let Some(project) = record.quota_project() {
            match self.per_project.get_mut(project) {
                Some(count) => *count += 1,
                None => {
                    self.per_project.insert(project.to_owned(), 1);
                }
            }
        }
        match self.per_server.get_mut(record.instance_uuid()) {
            Some(hashes) => {
                hashes.insert(hash, ());
            }
            None => {
                let mut hashes = TokenMap::default();
                hashes.insert(hash, ());
                self.per_server
                    .insert(record.instance_uuid().to_owned(), hashes);
            }
        }
        self.records.insert(hash, Box::new(record));
    }

    fn remove(&mut self, hash: &TokenHash) -> Option<Box<CompactRecord>> {
        let record = self.records.remove(hash)?;
        if let Some(project) = record.quota_project() {
            if let Some(count) = self.per_project.get_mut(project) {
                *count -= 1;
                if *count == 0 {
                    self.per_project.remove(project);
                }
            }
        }
        if let Some(hashes) = self.per_server.get_mut(record.instance_uuid()) {
            hashes.remove(hash);
            if hashes.is_empty() {
                self.per_server.remove(record.instance_uuid());
            }
        }
        Some(record)
    }

    /// Drops records expired at `now` (Unix seconds), soonest first,
    /// looking at no more than `budget` expiry entries; returns how many
    /// records it dropped.
    fn drop_expired(&mut self, now: u64, budget: usize) -> usize {
        let mut dropped = 0;
        let mut looked = 0;
        while looked < budget {
            let Some(mut due) = self.expiries.first_entry() else {
                break;
            };
            let at = *due.key();
            if at > now {
                break;
            }
            let Some(hash) = due.get_mut().pop() else {
                due.remove();
                continue;
            };
            looked += 1;
            // The entry may be stale: the record went early, or was
            // replaced by one that expires later.
            if self
                .records
                .get(&hash)
                .is_some_and(|r| r.expires_at() == at)
            {
                self.remove(&hash);
                dropped += 1;
            }
        }
        dropped
    }

    /// Whether a record expired at `now` may still be held.
    fn expired_held(&self, now: u64) -> bool {
        self.expiries
            .first_key_value()
            .is_some_and(|(at, _)| *at <= now)
    }

    /// Whether `record` may be added under `hash`: `Ok(true)` when it
    /// replaces the record held there (and so needs no room), `Ok(false)`
    /// when it is new, or why it may not.
    fn admits(
        &self,
        limits: &StoreLimits,
        hash: &TokenHash,
        record: &CompactRecord,
    ) -> Result<bool, StoreError> {
        let held = self.records.get(hash);
        if held.is_none() && self.records.len() >= limits.max_live_records {
            return Err(StoreError::Full(self.records.len()));
        }
        let same_project = held.is_some_and(|old| old.quota_project() == record.quota_project());
        if let (Some(limit), Some(project)) = (limits.per_project(), record.quota_project()) {
            if !same_project && self.project_count(project) >= limit {
                return Err(StoreError::OverQuota {
                    project: project.to_owned(),
                    limit,
                });
            }
        }
        Ok(held.is_some())
    }

    fn project_count(&self, project: &str) -> usize {
        self.per_project.get(project).copied().unwrap_or(0)
    }
}

impl MemoryTokenStore {
    /// A store on the system clock with the default limits.
    pub fn new() -> Self {
        Self::with_limits(StoreLimits::default())
    }

    /// A store on the system clock with `limits`.
    pub fn with_limits(limits: StoreLimits) -> Self {
        Self::with_clock_and_limits(Arc::new(SystemClock), limits)
    }

    /// A store on `clock` holding at most `capacity` records, with no cap
    /// per project.
    pub fn with_clock(clock: Arc<dyn Clock>, capacity: usize) -> Self {
        let limits = StoreLimits {
            max_live_records: capacity,
            max_live_records_per_project: 0,
        };
        Self::with_clock_and_limits(clock, limits)
    }

    /// A store on `clock` with `limits`.
    pub fn with_clock_and_limits(clock: Arc<dyn Clock>, limits: StoreLimits) -> Self {
        MemoryTokenStore {
            inner: Mutex::new(Inner::default()),
            clock,
            limits: StoreLimits {
                max_live_records: limits.max_live_records.max(1),
                ..limits
            },
        }
    }

    /// The limits it enforces.
    pub fn limits(&self) -> StoreLimits {
        self.limits
    }

    /// How many records are held (expired ones included until purged).
    pub fn len(&self) -> usize {
        self.lock().records.len()
    }

    /// Whether no record is held.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Drops expired records every `every` until the store is dropped
    /// ([`spawn_purger`](super::spawn_purger)). Needs a Tokio runtime.
    pub fn spawn_purger(self: &Arc<Self>, every: Duration) -> tokio::task::JoinHandle<()> {
        super::spawn_purger(self, every)
    }

    // A poisoned lock only means another task panicked mid-operation; every
    // operation leaves the indexes consistent before it can panic, so keep
    // serving.
    fn lock(&self) -> MutexGuard<'_, Inner> {
        self.inner
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    fn now(&self) -> u64 {
        unix_seconds(self.clock.now())
    }
}

impl Default for MemoryTokenStore {
    fn default() -> Self {
        Self::new()
    }
}

#[async_trait]
impl TokenStore for MemoryTokenStore {
    async fn authorize(&self, record: TokenRecord) -> Result<(), StoreError> {
        let hash = record.token_hash;
        let packed = CompactRecord::pack(&record)?;
        // Its strings are freed here, while hot, rather than ten minutes on.
        drop(record);
        let record = packed;
        let now = self.now();
        let mut inner = self.lock();
        // A few expired records go with every mint, more than one, so that
        // expiry keeps up with any rate of minting without one mint paying
        // for a whole second's worth; the purger takes the rest.
        inner.drop_expired(now, EXPIRED_PER_MINT);
        let replacing = match inner.admits(&self.limits, &hash, &record) {
            Ok(replacing) => replacing,
            // At a limit, expired records must not count against it.
            Err(_) if inner.expired_held(now) => {
                inner.drop_expired(now, usize::MAX);
                inner.admits(&self.limits, &hash, &record)?
            }
            Err(refused) => return Err(refused),
        };
        inner.insert(hash, record, replacing);
        Ok(())
    }

    async fn validate(&self, hash: &TokenHash) -> Result<Option<TokenRecord>, StoreError> {
        let now = self.now();
        let mut inner = self.lock();
        match inner.records.get(hash) {
            Some(r) if now >= r.expires_at() => {
                inner.remove(hash);
                Ok(None)
            }
            found => Ok(found.map(|r| r.unpack(*hash))),
        }
    }

    async fn revoke_server(&self, instance_uuid: &str) -> Result<usize, StoreError> {
        let mut inner = self.lock();
        let hashes = inner.per_server.remove(instance_uuid).unwrap_or_default();
        for hash in hashes.keys() {
            inner.remove(hash);
        }
        Ok(hashes.len())
    }

    async fn purge_expired(&self) -> Result<usize, StoreError> {
        let now = self.now();
        let mut dropped = 0;
        // In batches, letting go of the lock between them, so that mints
        // and opens wait for one batch at most.
        loop {
            let (batch, more) = {
                let mut inner = self.lock();
                let batch = inner.drop_expired(now, PURGE_BATCH);
                (batch, inner.expired_held(now))
            };
            dropped += batch;
            if !more {
                return Ok(dropped);
            }
            tokio::task::yield_now().await;
        }
    }

    fn live_records(&self) -> Option<usize> {
        Some(self.len())
    }
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::{AtomicU64, Ordering};
    use std::time::{SystemTime, UNIX_EPOCH};

    use super::*;
    use crate::record::{ConnectInfo, MintedBy};
    use crate::token::Token;

    struct Clock(AtomicU64);

    impl crate::clock::Clock for Clock {
        fn now(&self) -> SystemTime {
            UNIX_EPOCH + Duration::from_secs(self.0.load(Ordering::Relaxed))
        }
    }

    fn record(n: usize, server: &str, project: &str, expires_at: u64) -> TokenRecord {
        TokenRecord {
            token_hash: Token::new(format!("memory-{n}")).hash(),
            protocol: "serial".into(),
            console_type: "serial".into(),
            instance_uuid: server.into(),
            connect: ConnectInfo {
                host: "127.0.0.1".into(),
                port: 10000,
                tls_port: None,
                internal_access_path: None,
                unix_socket: None,
            },
            access_url_base: "ws://127.0.0.1:6083/".into(),
            expires_at,
            minted_by: Some(MintedBy {
                user_id: "u".into(),
                project_id: project.into(),
            }),
        }
    }

    fn store(total: usize, per_project: usize) -> (Arc<Clock>, MemoryTokenStore) {
        let clock = Arc::new(Clock(AtomicU64::new(1_000)));
        let limits = StoreLimits {
            max_live_records: total,
            max_live_records_per_project: per_project,
        };
        (
            clock.clone(),
            MemoryTokenStore::with_clock_and_limits(clock, limits),
        )
    }

    #[tokio::test]
    async fn a_full_store_makes_room_from_expired_records_only() {
        let (clock, store) = store(3, 0);
        for n in 0..3 {
            store
                .authorize(record(n, "s", "p", 1_010 + n as u64))
                .await
                .unwrap();
        }
        let full = store.authorize(record(3, "s", "p", 2_000)).await;
        assert_eq!(full, Err(StoreError::Full(3)));
        // The soonest expiry goes first, and makes exactly one place.
        clock.0.store(1_010, Ordering::Relaxed);
        store.authorize(record(3, "s", "p", 2_000)).await.unwrap();
        assert_eq!(store.len(), 3);
        assert_eq!(
            store.authorize(record(4, "s", "p", 2_000)).await,
            Err(StoreError::Full(3))
        );
        // Replacing a record that is already held needs no room.
        store.authorize(record(3, "s", "p", 2_001)).await.unwrap();
    }

    #[tokio::test]
    async fn a_project_at_its_cap_is_refused_alone() {
        let (clock, store) = store(100, 2);
        store
            .authorize(record(0, "s1", "busy", 1_100))
            .await
            .unwrap();
        store
            .authorize(record(1, "s2", "busy", 1_200))
            .await
            .unwrap();
        let refused = store.authorize(record(2, "s1", "busy", 1_300)).await;
        assert_eq!(
            refused,
            Err(StoreError::OverQuota {
                project: "busy".into(),
                limit: 2
            })
        );
        store
            .authorize(record(3, "s1", "quiet", 1_300))
            .await
            .unwrap();
        // Revoking, validating after expiry and expiry itself give places back.
        assert_eq!(store.revoke_server("s1").await, Ok(2));
        store
            .authorize(record(2, "s1", "busy", 1_300))
            .await
            .unwrap();
        clock.0.store(1_200, Ordering::Relaxed);
        let expired = record(1, "s2", "busy", 1_200).token_hash;
        assert_eq!(store.validate(&expired).await, Ok(None));
        store
            .authorize(record(4, "s3", "busy", 1_400))
            .await
            .unwrap();
        clock.0.store(1_300, Ordering::Relaxed);
        store
            .authorize(record(5, "s3", "busy", 1_500))
            .await
            .unwrap();
        assert_eq!(store.lock().project_count("busy"), 2);
        assert_eq!(store.lock().project_count("quiet"), 0);
    }

    #[tokio::test]
    async fn a_mint_drops_a_few_expired_records_and_a_limit_waits_for_all() {
        let (clock, store) = store(100, 10);
        for n in 0..10 {
            store.authorize(record(n, "s", "p", 1_010)).await.unwrap();
        }
        for n in 10..20 {
            store.authorize(record(n, "s", "q", 1_010)).await.unwrap();
        }
        clock.0.store(1_010, Ordering::Relaxed);
        // One mint pays for a few of the second's expiries, not for all.
        store.authorize(record(20, "s", "q", 2_000)).await.unwrap();
        assert_eq!(store.len(), 21 - EXPIRED_PER_MINT);
        // "p" is at its cap with all of it expired: its expired records go
        // before it would be refused.
        store.authorize(record(21, "s", "p", 2_000)).await.unwrap();
        assert_eq!(store.len(), 2);
        assert_eq!(store.lock().project_count("p"), 1);
    }

    #[tokio::test]
    async fn a_full_store_looks_past_stale_expiries() {
        let (clock, store) = store(5, 0);
        // The bucket of second 1 010 ends with four stale entries: their
        // records were minted again to live longer.
        store.authorize(record(4, "s", "p", 1_010)).await.unwrap();
        for n in 0..EXPIRED_PER_MINT {
            store.authorize(record(n, "s", "p", 1_010)).await.unwrap();
        }
        for n in 0..EXPIRED_PER_MINT {
            store.authorize(record(n, "s", "p", 3_000)).await.unwrap();
        }
        clock.0.store(1_010, Ordering::Relaxed);
        // The mint's own share finds only the stale entries; the store is
        // full, so it looks further and drops record 4.
        store.authorize(record(5, "s", "p", 3_000)).await.unwrap();
        assert_eq!(store.len(), 5);
        assert!(store
            .validate(&record(4, "s", "p", 1_010).token_hash)
            .await
            .unwrap()
            .is_none());
    }

    #[tokio::test]
    async fn the_purger_drops_everything_due_in_batches() {
        let (clock, store) = store(10_000, 0);
        let n = PURGE_BATCH * 3 + 7;
        for i in 0..n {
            let server = if i % 2 == 0 { "even" } else { "odd" };
            let expires_at = 1_001 + (i % 3) as u64;
            store
                .authorize(record(i, server, "p", expires_at))
                .await
                .unwrap();
        }
        store.authorize(record(n, "s", "p", 5_000)).await.unwrap();
        clock.0.store(1_003, Ordering::Relaxed);
        assert_eq!(store.purge_expired().await, Ok(n));
        assert_eq!(store.len(), 1);
        let inner = store.lock();
        assert_eq!(inner.expiries.len(), 1);
        assert!(inner.per_server.contains_key("s") && inner.per_server.len() == 1);
    }

    #[tokio::test]
    async fn indexes_follow_every_removal() {
        let (clock, store) = store(100, 0);
        for n in 0..10 {
            let server = if n % 2 == 0 { "even" } else { "odd" };
            store
                .authorize(record(n, server, "p", 1_000 + n as u64 * 10 + 5))
                .await
                .unwrap();
        }
        clock.0.store(1_050, Ordering::Relaxed);
        assert_eq!(store.purge_expired().await, Ok(5));
        assert_eq!(store.revoke_server("even").await, Ok(2));
        assert_eq!(store.revoke_server("odd").await, Ok(3));
        assert!(store.is_empty());
        {
            let inner = store.lock();
            assert!(inner.per_project.is_empty() && inner.per_server.is_empty());
        }
        // Stale expiry entries of revoked records are skipped, not counted.
        clock.0.store(5_000, Ordering::Relaxed);
        assert_eq!(store.purge_expired().await, Ok(0));
        assert!(store.lock().expiries.is_empty());
    }
}
