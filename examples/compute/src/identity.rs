//! consoled's `IdentityProvider` over the service's own API keys.

use axum::http::{HeaderMap, HeaderValue};
use consoled_api::IdentityProvider;
use consoled_core::{async_trait, ConsoleError, Identity};
use sqlx::{FromRow, SqlitePool};

use crate::db::key_hash;

/// The challenge of this service's 401s, so that a client (and the test)
/// can tell them from any other service's.
pub const CHALLENGE: &str = "ApiKey realm=\"consoled-example-compute\"";

/// Callers are whoever the `api_keys` table says the key in
/// `X-Auth-Token` belongs to (the header Nova clients send their token
/// in, so that `openstack --os-token <key>` works unchanged).
#[derive(Clone)]
pub struct ApiKeys {
    pool: SqlitePool,
}

impl ApiKeys {
    /// Keys looked up in `pool`.
    pub fn new(pool: SqlitePool) -> Self {
        ApiKeys { pool }
    }
}

#[derive(FromRow)]
struct KeyRow {
    user_id: String,
    project_id: String,
    roles: String,
}

#[async_trait]
impl IdentityProvider for ApiKeys {
    async fn identify(&self, headers: &HeaderMap) -> Result<Identity, ConsoleError> {
        let key = headers
            .get("x-auth-token")
            .and_then(|v| v.to_str().ok())
            .map(str::trim)
            .filter(|k| !k.is_empty())
            .ok_or_else(|| unauthorized("An API key is required in X-Auth-Token."))?;
        let row: Option<KeyRow> =
            sqlx::query_as("SELECT user_id, project_id, roles FROM api_keys WHERE key_sha256 = ?")
                .bind(key_hash(key))
                .fetch_optional(&self.pool)
                .await
                .map_err(|e| ConsoleError::ServiceUnavailable(format!("compute database: {e}")))?;
        let row = row.ok_or_else(|| unauthorized("Unknown API key."))?;
        let roles = row
            .roles
            .split(',')
            .map(str::trim)
            .filter(|r| !r.is_empty());
        Ok(Identity::new(row.user_id, row.project_id, roles))
    }

    fn challenge(&self) -> Option<HeaderValue> {
        Some(HeaderValue::from_static(CHALLENGE))
    }
}

fn unauthorized(message: &str) -> ConsoleError {
    ConsoleError::Unauthorized(message.to_owned())
}
