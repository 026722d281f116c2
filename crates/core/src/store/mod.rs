//! Where token records live.

mod memory;

pub use memory::MemoryTokenStore;

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
}

/// Where token records live, keyed by the token's SHA-256.
///
/// Implementations must be safe under concurrent use from many tasks, and
/// must treat an expired record as absent.
#[async_trait]
pub trait TokenStore: Send + Sync + 'static {
    /// Stores a new record, valid until its `expires_at`.
    ///
    /// # Errors
    /// [`StoreError`] when the record could not be kept.
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
}
