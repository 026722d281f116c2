//! The operator's session control, outside Nova's namespace: every live
//! session on every proxy node, and cutting them. Admins only, with the
//! API's own identity mode.

use axum::extract::rejection::PathRejection;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::routing::{delete, get};
use axum::{Json, Router};
use consoled_core::{ConsoleError, Identity, StoreError};
use serde::Deserialize;
use serde_json::{json, Value};

use crate::errors::{path_param, ApiError};
use crate::identity::Caller;
use crate::state::ApiState;

/// The admin routes: `GET /admin/sessions` (optionally
/// `?server=<id>`), `DELETE /admin/sessions/{id}`, and
/// `DELETE /admin/servers/{id}/consoles`, which revokes every token of the
/// server and closes its sessions on every proxy node. Mount it where only
/// operators reach (the binary serves it on the metrics listener).
///
/// # Example
///
/// ```no_run
/// # fn mount(state: consoled_api::ApiState) -> axum::Router {
/// axum::Router::new()
///     .route("/metrics", axum::routing::get(|| async { "" }))
///     .merge(consoled_api::admin_router(state))
/// # }
/// ```
pub fn admin_router(state: ApiState) -> Router {
    Router::new()
        .route("/admin/sessions", get(list))
        .route("/admin/sessions/{session_id}", delete(cut_session))
        .route("/admin/servers/{server_id}/consoles", delete(revoke_server))
        .with_state(state)
}

#[derive(Debug, Deserialize)]
struct ListQuery {
    server: Option<String>,
}

async fn list(
    State(state): State<ApiState>,
    Caller(identity): Caller,
    Query(query): Query<ListQuery>,
) -> Result<Json<Value>, ApiError> {
    admin_only(&identity)?;
    let mut sessions = directory_call(state.dispatcher.revoker().directory().list().await)?;
    if let Some(server) = &query.server {
        sessions.retain(|s| &s.instance_uuid == server);
    }
    Ok(Json(json!({ "sessions": sessions })))
}

async fn cut_session(
    State(state): State<ApiState>,
    Caller(identity): Caller,
    session_id: Result<Path<String>, PathRejection>,
) -> Result<StatusCode, ApiError> {
    admin_only(&identity)?;
    let id = path_param(session_id)?;
    let revoker = state.dispatcher.revoker();
    let listed = directory_call(revoker.directory().list().await)?;
    if !listed.iter().any(|s| s.id == id) {
        return Err(ApiError(ConsoleError::NotFound(format!(
            "No live console session {id}."
        ))));
    }
    directory_call(revoker.cut_session(&id).await)?;
    tracing::info!(session = %id, by = %identity.user_id, "console session cut by an operator");
    Ok(StatusCode::NO_CONTENT)
}

async fn revoke_server(
    State(state): State<ApiState>,
    Caller(identity): Caller,
    server_id: Result<Path<String>, PathRejection>,
) -> Result<Json<Value>, ApiError> {
    admin_only(&identity)?;
    let id = path_param(server_id)?;
    let voided = directory_call(state.dispatcher.revoker().revoke_server(&id).await)?;
    tracing::info!(instance = %id, voided, by = %identity.user_id, "server's consoles revoked by an operator");
    Ok(Json(json!({ "revoked_tokens": voided })))
}

fn admin_only(identity: &Identity) -> Result<(), ApiError> {
    if identity.is_admin() {
        Ok(())
    } else {
        Err(ApiError(ConsoleError::Forbidden(
            "Only admins may see or cut console sessions.".into(),
        )))
    }
}

fn directory_call<T>(result: Result<T, StoreError>) -> Result<T, ApiError> {
    result.map_err(|e| ApiError(ConsoleError::ServiceUnavailable(e.to_string())))
}
