//! The service's own database: opened, migrated, and written by its own
//! routes and start-up flags.

use std::path::Path;

use consoled_core::Endpoint;
use sha2::{Digest, Sha256};
use sqlx::sqlite::{SqliteConnectOptions, SqlitePool};

/// Opens (creating when missing) the SQLite database at `path` and brings
/// its tables up to date.
///
/// # Errors
/// When the file cannot be opened or a migration fails.
pub async fn open(path: &Path) -> Result<SqlitePool, sqlx::Error> {
    let options = SqliteConnectOptions::new()
        .filename(path)
        .create_if_missing(true)
        .foreign_keys(true);
    let pool = SqlitePool::connect_with(options).await?;
    sqlx::migrate!("./migrations").run(&pool).await?;
    Ok(pool)
}

/// The stored form of an API key: its SHA-256, so that a copy of the
/// database does not hand out working keys.
pub fn key_hash(key: &str) -> String {
    hex::encode(Sha256::digest(key.as_bytes()))
}

/// Records `key` as the credential of `user_id` in `project_id` with
/// `roles`, replacing what the key meant before.
///
/// # Errors
/// When the database refuses the write.
pub async fn put_api_key(
    pool: &SqlitePool,
    key: &str,
    user_id: &str,
    project_id: &str,
    roles: &[String],
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "INSERT OR REPLACE INTO api_keys (key_sha256, user_id, project_id, roles) \
         VALUES (?, ?, ?, ?)",
    )
    .bind(key_hash(key))
    .bind(user_id)
    .bind(project_id)
    .bind(roles.join(","))
    .execute(pool)
    .await?;
    Ok(())
}

/// Adds a server of `project_id` with its console endpoints (keyed by
/// protocol), in one transaction; returns its new id.
///
/// # Errors
/// When the database refuses the write.
pub async fn add_server<'a>(
    pool: &SqlitePool,
    name: &str,
    project_id: &str,
    consoles: impl IntoIterator<Item = (&'a String, &'a Endpoint)>,
) -> Result<String, sqlx::Error> {
    let id = uuid::Uuid::new_v4().to_string();
    let mut tx = pool.begin().await?;
    sqlx::query("INSERT INTO servers (id, name, project_id, host) VALUES (?, ?, ?, 'compute-1')")
        .bind(&id)
        .bind(name)
        .bind(project_id)
        .execute(&mut *tx)
        .await?;
    for (protocol, endpoint) in consoles {
        sqlx::query(
            "INSERT INTO console_endpoints \
             (server_id, protocol, host, port, tls_port, internal_access_path) \
             VALUES (?, ?, ?, ?, ?, ?)",
        )
        .bind(&id)
        .bind(protocol)
        .bind(&endpoint.host)
        .bind(endpoint.port)
        .bind(endpoint.tls_port)
        .bind(&endpoint.internal_access_path)
        .execute(&mut *tx)
        .await?;
    }
    tx.commit().await?;
    Ok(id)
}
