//! The in-memory token store: the default for a single node.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use async_trait::async_trait;

use super::{StoreError, TokenStore};
use crate::clock::{Clock, SystemClock};
use crate::record::TokenRecord;
use crate::token::TokenHash;

/// A token store in this process's memory.
///
/// Bounded: once it holds `capacity` records it first drops the expired
/// ones, then refuses new records with [`StoreError::Full`] rather than grow
/// without limit. [`MemoryTokenStore::spawn_purger`] drops expired records in
/// the background.
pub struct MemoryTokenStore {
    records: Mutex<HashMap<TokenHash, TokenRecord>>,
    clock: Arc<dyn Clock>,
    capacity: usize,
}

impl MemoryTokenStore {
    /// The default number of live records kept.
    pub const DEFAULT_CAPACITY: usize = 100_000;

    /// A store on the system clock with the default capacity.
    pub fn new() -> Self {
        Self::with_clock(Arc::new(SystemClock), Self::DEFAULT_CAPACITY)
    }

    /// A store on `clock` holding at most `capacity` records.
    pub fn with_clock(clock: Arc<dyn Clock>, capacity: usize) -> Self {
        MemoryTokenStore {
            records: Mutex::new(HashMap::new()),
            clock,
            capacity: capacity.max(1),
        }
    }

    /// How many records are held (expired ones included until purged).
    pub fn len(&self) -> usize {
        self.lock().len()
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
    // operation leaves the map consistent, so keep serving.
    fn lock(&self) -> MutexGuard<'_, HashMap<TokenHash, TokenRecord>> {
        self.records
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    fn purge_now(&self) -> usize {
        let now = self.clock.now();
        let mut records = self.lock();
        let before = records.len();
        records.retain(|_, r| !r.is_expired(now));
        before - records.len()
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
        let now = self.clock.now();
        let mut records = self.lock();
        if records.len() >= self.capacity && !records.contains_key(&record.token_hash) {
            records.retain(|_, r| !r.is_expired(now));
            if records.len() >= self.capacity {
                return Err(StoreError::Full(records.len()));
            }
        }
        records.insert(record.token_hash, record);
        Ok(())
    }

    async fn validate(&self, hash: &TokenHash) -> Result<Option<TokenRecord>, StoreError> {
        let now = self.clock.now();
        let mut records = self.lock();
        match records.get(hash) {
            Some(r) if r.is_expired(now) => {
                records.remove(hash);
                Ok(None)
            }
            found => Ok(found.cloned()),
        }
    }

    async fn revoke_server(&self, instance_uuid: &str) -> Result<usize, StoreError> {
        let mut records = self.lock();
        let before = records.len();
        records.retain(|_, r| r.instance_uuid != instance_uuid);
        Ok(before - records.len())
    }

    async fn purge_expired(&self) -> Result<usize, StoreError> {
        Ok(self.purge_now())
    }
}
