//! Every Redis round trip: bounded in time, its errors made
//! [`StoreError::Unavailable`].

use std::future::Future;
use std::time::Duration;

use consoled_core::StoreError;
use redis::RedisError;

/// Runs one Redis round trip named `op`, giving up after `limit`.
///
/// The message names the operation and the error, never a key: keys carry
/// token hashes.
pub(crate) async fn bounded<T>(
    op: &'static str,
    limit: Duration,
    call: impl Future<Output = Result<T, RedisError>>,
) -> Result<T, StoreError> {
    match tokio::time::timeout(limit, call).await {
        Ok(Ok(value)) => Ok(value),
        Ok(Err(e)) => {
            tracing::debug!(op, error = %e, "redis token store call failed");
            Err(unavailable(op, &e))
        }
        Err(_) => {
            tracing::debug!(op, ?limit, "redis token store call timed out");
            Err(StoreError::Unavailable(format!(
                "redis {op}: no answer within {} ms",
                limit.as_millis()
            )))
        }
    }
}

/// The store error for a failed Redis call.
pub(crate) fn unavailable(op: &'static str, e: &RedisError) -> StoreError {
    StoreError::Unavailable(format!("redis {op}: {e}"))
}
