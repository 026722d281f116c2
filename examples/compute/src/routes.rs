//! The service's own routes, beside consoled's: listing its servers and
//! adding one with its console endpoints. They authenticate with the same
//! identity as the mounted consoled API, through consoled-api's `Caller`
//! extractor.

use std::collections::BTreeMap;
use std::sync::Arc;

use axum::extract::rejection::JsonRejection;
use axum::extract::{FromRef, State};
use axum::http::StatusCode;
use axum::routing::get;
use axum::{Json, Router};
use consoled_api::{ApiError, Caller, IdentityProvider};
use consoled_core::{ConsoleError, Endpoint, Server, ServerBackend};
use serde::{Deserialize, Serialize};
use sqlx::SqlitePool;

use crate::backend::SqlBackend;
use crate::db;

/// What the service's own handlers share.
#[derive(Clone)]
pub struct AppState {
    /// The service's database.
    pub pool: SqlitePool,
    /// The same backend consoled reads, so both agree on what a server is.
    pub backend: SqlBackend,
    /// The same identity the mounted consoled API uses.
    pub identity: Arc<dyn IdentityProvider>,
}

/// What lets `Caller` work in this state.
impl FromRef<AppState> for Arc<dyn IdentityProvider> {
    fn from_ref(state: &AppState) -> Self {
        state.identity.clone()
    }
}

/// `GET /servers` and `POST /servers`.
pub fn routes(state: AppState) -> Router {
    Router::new()
        .route("/servers", get(list).post(add))
        .with_state(state)
}

/// `{"servers": [...]}` or `{"server": {...}}`.
#[derive(Serialize)]
struct Servers {
    servers: Vec<Server>,
}

#[derive(Serialize)]
struct Added {
    server: Server,
}

/// A new server of the caller's project: its name and its console
/// endpoints keyed by protocol (`{"vnc": {"host": "..", "port": 5901}}`).
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct NewServer {
    name: String,
    #[serde(default)]
    consoles: BTreeMap<String, Endpoint>,
}

/// The servers the caller may see: its project's, or all for an admin.
async fn list(
    State(state): State<AppState>,
    Caller(caller): Caller,
) -> Result<Json<Servers>, ApiError> {
    let servers = state.backend.list_servers().await.map_err(unavailable)?;
    let servers = servers
        .into_iter()
        .filter(|s| caller.can_see_project(&s.project_id))
        .collect();
    Ok(Json(Servers { servers }))
}

/// Adds a server to the caller's project; a member (or admin) may.
async fn add(
    State(state): State<AppState>,
    Caller(caller): Caller,
    body: Result<Json<NewServer>, JsonRejection>,
) -> Result<(StatusCode, Json<Added>), ApiError> {
    let Json(new) = body.map_err(|e| ConsoleError::BadRequest(e.body_text()))?;
    if !caller.can_create_console(&caller.project_id) {
        return Err(ConsoleError::Forbidden("Adding servers needs the member role.".into()).into());
    }
    let id = db::add_server(&state.pool, &new.name, &caller.project_id, &new.consoles)
        .await
        .map_err(unavailable)?;
    let server = state
        .backend
        .get_server(&id)
        .await
        .map_err(unavailable)?
        .ok_or_else(|| ConsoleError::Internal(format!("server {id} vanished")))?;
    Ok((StatusCode::CREATED, Json(Added { server })))
}

/// The database or backend could not answer: 503, as consoled answers it.
fn unavailable(error: impl std::fmt::Display) -> ConsoleError {
    ConsoleError::ServiceUnavailable(error.to_string())
}
