//! Where token records live.

mod compact;
mod limits;
mod memory;
mod metered;
mod token_map;

pub use limits::StoreLimits;
pub use memory::MemoryTokenStore;
pub use metered::MeteredTokenStore;

use std::sync::{Arc, Weak};
use std::time::Duration;

use async_trait::async_trait;

use crate::record::TokenRecord;
use crate::token::TokenHash;

/// A token store that could not do its job.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum StoreError {
    /// The store cannot be reached or answered with an error; retry later.
    #[error("token store unavailable: {0}")]
    Unavailable(String),
    /// The store holds as many live records as it may.
    #[error("token store is full ({0} live records)")]
    Full(usize),
    /// A record in the store could not be read back.
    #[error("corrupt token record: {0}")]
    Corrupt(String),
    /// The minting project holds as many live tokens as its cap allows
    /// ([`StoreLimits::max_live_records_per_project`]).
    #[error(
        "Quota exceeded for console tokens: project {project} holds {limit} live tokens, its limit"
    )]
    OverQuota {
        /// The project at its cap.
        project: String,
        /// The cap.
        limit: usize,
    },
}

/// Where token records live, keyed by the token's SHA-256.
///
/// Implementations must be safe under concurrent use from many tasks, and
/// must treat an expired record as absent. [`MemoryTokenStore`] serves one
/// process; `consoled-store-redis` many. A new store runs
/// `consoled_testkit::run_token_store_suite` in its tests.
///
/// # Example
///
/// A store that counts validations, in front of another:
///
/// ```
/// use std::sync::atomic::{AtomicU64, Ordering};
/// use consoled_core::{async_trait, StoreError, TokenHash, TokenRecord, TokenStore};
///
/// struct Counted<S> {
///     inner: S,
///     validations: AtomicU64,
/// }
///
/// #[async_trait]
/// impl<S: TokenStore> TokenStore for Counted<S> {
///     async fn authorize(&self, record: TokenRecord) -> Result<(), StoreError> {
///         self.inner.authorize(record).await
///     }
///
///     async fn validate(&self, hash: &TokenHash) -> Result<Option<TokenRecord>, StoreError> {
///         self.validations.fetch_add(1, Ordering::Relaxed);
///         self.inner.validate(hash).await
///     }
///
///     async fn revoke_server(&self, instance_uuid: &str) -> Result<usize, StoreError> {
///         self.inner.revoke_server(instance_uuid).await
///     }
///
///     async fn purge_expired(&self) -> Result<usize, StoreError> {
///         self.inner.purge_expired().await
///     }
/// }
///
/// let store = Counted { inner: consoled_core::MemoryTokenStore::new(), validations: AtomicU64::new(0) };
/// # let _ = store;
/// ```
#[async_trait]
pub trait TokenStore: Send + Sync + 'static {
    /// Stores a new record, valid until its `expires_at`.
    ///
    /// # Errors
    /// [`StoreError::OverQuota`] when the record's minting project
    /// ([`TokenRecord::quota_project`]) is at the store's per-project cap;
    /// another [`StoreError`] when the record could not be kept.
    async fn authorize(&self, record: TokenRecord) -> Result<(), StoreError>;

    /// The live record for this hash, or `None` if unknown or expired.
    /// A token stays valid for many connections until it expires.
    ///
    /// # Errors
    /// [`StoreError`] when the store cannot answer.
    async fn validate(&self, hash: &TokenHash) -> Result<Option<TokenRecord>, StoreError>;

    /// Voids every token of a server (e.g. when it is deleted); returns
    /// how many went.
    ///
    /// # Errors
    /// [`StoreError`] when the store cannot answer.
    async fn revoke_server(&self, instance_uuid: &str) -> Result<usize, StoreError>;

    /// Drops expired records; returns how many went.
    ///
    /// # Errors
    /// [`StoreError`] when the store cannot answer.
    async fn purge_expired(&self) -> Result<usize, StoreError>;

    /// How many records the store holds, if it can tell without a round
    /// trip (the memory store can; a shared store usually cannot): what
    /// `consoled_token_store_live_records` reports. `None` by default.
    fn live_records(&self) -> Option<usize> {
        None
    }
}

/// Calls [`TokenStore::purge_expired`] every `every` until the store is
/// dropped (the task holds only a weak reference); a failure is logged and
/// tried again at the next tick. Needs a Tokio runtime.
pub fn spawn_purger<S>(store: &Arc<S>, every: Duration) -> tokio::task::JoinHandle<()>
where
    S: TokenStore + ?Sized,
{
    let weak: Weak<S> = Arc::downgrade(store);
    tokio::spawn(async move {
        let mut tick = tokio::time::interval(every);
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        tick.tick().await;
        loop {
            tick.tick().await;
            let Some(store) = weak.upgrade() else { break };
            match store.purge_expired().await {
                Ok(0) => {}
                Ok(purged) => tracing::debug!(purged, "purged expired console tokens"),
                Err(e) => tracing::warn!(error = %e, "purging expired console tokens failed"),
            }
        }
    })
}

#[cfg(test)]
mod tests {
    use std::sync::Mutex;
    use std::time::{SystemTime, UNIX_EPOCH};

    use super::*;
    use crate::clock::Clock;
    use crate::record::{sample_record, TokenRecord};

    struct SteppedClock(Mutex<u64>);

    impl Clock for SteppedClock {
        fn now(&self) -> SystemTime {
            UNIX_EPOCH + Duration::from_secs(*self.0.lock().unwrap())
        }
    }

    fn record(token: &str, expires_at: u64) -> TokenRecord {
        TokenRecord {
            expires_at,
            ..sample_record(token)
        }
    }

    #[tokio::test(start_paused = true)]
    async fn the_purger_drops_expired_records_and_ends_with_its_store() {
        let clock = Arc::new(SteppedClock(Mutex::new(100)));
        let store = Arc::new(MemoryTokenStore::with_clock(clock.clone(), 10));
        store.authorize(record("old", 150)).await.unwrap();
        store.authorize(record("new", 500)).await.unwrap();
        let purger = spawn_purger(&store, Duration::from_secs(60));

        *clock.0.lock().unwrap() = 200;
        tokio::time::sleep(Duration::from_secs(61)).await;
        assert_eq!(
            store.len(),
            1,
            "the expired record is gone, the live one kept"
        );

        drop(store);
        tokio::time::sleep(Duration::from_secs(61)).await;
        assert!(
            purger.is_finished(),
            "the purger ends once its store is dropped"
        );
    }
}
