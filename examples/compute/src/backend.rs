//! consoled's `ServerBackend` over the service's own tables: the one
//! place consoled learns which servers exist and where their consoles
//! listen.

use std::collections::BTreeMap;

use consoled_core::{async_trait, BackendError, Endpoint, Server, ServerBackend};
use sqlx::{FromRow, SqlitePool};

/// The `servers` and `console_endpoints` tables, as consoled sees them.
#[derive(Clone)]
pub struct SqlBackend {
    pool: SqlitePool,
}

impl SqlBackend {
    /// A backend reading `pool`.
    pub fn new(pool: SqlitePool) -> Self {
        SqlBackend { pool }
    }
}

#[derive(FromRow)]
struct ServerRow {
    id: String,
    name: String,
    project_id: String,
    status: String,
    host: Option<String>,
}

#[derive(FromRow)]
struct EndpointRow {
    server_id: String,
    protocol: String,
    host: String,
    port: i64,
    tls_port: Option<i64>,
    internal_access_path: Option<String>,
}

const SERVERS: &str = "SELECT id, name, project_id, status, host FROM servers";
const ENDPOINTS: &str = "SELECT server_id, protocol, host, port, tls_port, \
                         internal_access_path FROM console_endpoints";

#[async_trait]
impl ServerBackend for SqlBackend {
    async fn get_server(&self, id: &str) -> Result<Option<Server>, BackendError> {
        let Some(row) = sqlx::query_as(&format!("{SERVERS} WHERE id = ?"))
            .bind(id)
            .fetch_optional(&self.pool)
            .await
            .map_err(unavailable)?
        else {
            return Ok(None);
        };
        let endpoints = sqlx::query_as(&format!("{ENDPOINTS} WHERE server_id = ?"))
            .bind(id)
            .fetch_all(&self.pool)
            .await
            .map_err(unavailable)?;
        Ok(servers(vec![row], endpoints)?.pop())
    }

    async fn list_servers(&self) -> Result<Vec<Server>, BackendError> {
        let rows = sqlx::query_as(&format!("{SERVERS} ORDER BY id"))
            .fetch_all(&self.pool)
            .await
            .map_err(unavailable)?;
        let endpoints = sqlx::query_as(ENDPOINTS)
            .fetch_all(&self.pool)
            .await
            .map_err(unavailable)?;
        servers(rows, endpoints)
    }
}

/// Joins the rows into consoled's servers, keeping the servers' order.
fn servers(rows: Vec<ServerRow>, endpoints: Vec<EndpointRow>) -> Result<Vec<Server>, BackendError> {
    let mut consoles: BTreeMap<String, BTreeMap<String, Endpoint>> = BTreeMap::new();
    for e in endpoints {
        let port = |p: i64| u16::try_from(p).map_err(|_| unavailable(format!("port {p}")));
        let endpoint = Endpoint {
            host: e.host,
            port: port(e.port)?,
            tls_port: e.tls_port.map(port).transpose()?,
            internal_access_path: e.internal_access_path,
            unix_socket: None,
        };
        consoles
            .entry(e.server_id)
            .or_default()
            .insert(e.protocol, endpoint);
    }
    Ok(rows
        .into_iter()
        .map(|r| Server {
            consoles: consoles.remove(&r.id).unwrap_or_default(),
            id: r.id,
            name: r.name,
            project_id: r.project_id,
            status: r.status,
            task_state: None,
            host: r.host,
        })
        .collect())
}

/// A database that cannot answer is a backend outage: consoled answers 503.
fn unavailable(error: impl std::fmt::Display) -> BackendError {
    BackendError(format!("compute database: {error}"))
}
