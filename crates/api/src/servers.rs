//! Enough of the servers resource for clients to resolve a server before
//! they ask for its console.

use axum::extract::rejection::{PathRejection, QueryRejection};
use axum::extract::{Path, Query, State};
use axum::http::HeaderMap;
use axum::Json;
use consoled_core::{guarded, ConsoleError, Identity, Server};
use serde_json::{json, Value};

use crate::errors::{path_param, ApiError};
use crate::identity::Caller;
use crate::links::base_url;
use crate::state::ApiState;

/// Query parameters of the server lists.
type Params = Result<Query<Vec<(String, String)>>, QueryRejection>;

/// `GET /v2.1/servers/{id}`: the server, if the caller may see it.
pub(crate) async fn show(
    State(state): State<ApiState>,
    Caller(identity): Caller,
    headers: HeaderMap,
    server_id: Result<Path<String>, PathRejection>,
) -> Result<Json<Value>, ApiError> {
    let server_id = path_param(server_id)?;
    let server = state
        .dispatcher
        .visible_server(&identity, &server_id)
        .await?;
    Ok(Json(
        json!({ "server": detail(&server, &identity, &base_url(&headers)) }),
    ))
}

/// `GET /v2.1/servers`: id, name and links of the caller's servers.
pub(crate) async fn list(
    State(state): State<ApiState>,
    Caller(identity): Caller,
    headers: HeaderMap,
    params: Params,
) -> Result<Json<Value>, ApiError> {
    let base = base_url(&headers);
    let servers = visible(&state, &identity, params).await?;
    let views: Vec<Value> = servers
        .iter()
        .map(|s| json!({ "id": s.id, "name": s.name, "links": links(&base, &s.id) }))
        .collect();
    Ok(Json(json!({ "servers": views })))
}

/// `GET /v2.1/servers/detail`: the same, with status and project.
pub(crate) async fn list_detail(
    State(state): State<ApiState>,
    Caller(identity): Caller,
    headers: HeaderMap,
    params: Params,
) -> Result<Json<Value>, ApiError> {
    let base = base_url(&headers);
    let servers = visible(&state, &identity, params).await?;
    let views: Vec<Value> = servers
        .iter()
        .map(|s| detail(s, &identity, &base))
        .collect();
    Ok(Json(json!({ "servers": views })))
}

/// The servers of the caller's project (of every project for an admin who
/// asks with `all_tenants`), filtered by `name`.
///
/// Nova reads `name` as a regular expression searched in the name; we
/// search it as a plain substring, which is what such a search does for
/// any name without regex metacharacters.
async fn visible(
    state: &ApiState,
    identity: &Identity,
    params: Params,
) -> Result<Vec<Server>, ApiError> {
    let Query(params) =
        params.map_err(|_| ApiError(ConsoleError::BadRequest("Invalid query string".into())))?;
    let value = |key: &str| {
        params
            .iter()
            .rev()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.as_str())
    };
    let all_projects = identity.is_admin() && value("all_tenants").is_some_and(is_truthy);
    let name = value("name").filter(|n| !n.is_empty());
    let backend = state.dispatcher.backend().clone();
    let limit = state.dispatcher.settings().call_timeout;
    let servers = guarded("server backend", limit, async move {
        backend
            .list_servers()
            .await
            .map_err(|e| ConsoleError::ServiceUnavailable(e.to_string()))
    })
    .await?;
    Ok(servers
        .into_iter()
        .filter(|s| all_projects || s.project_id == identity.project_id)
        .filter(|s| name.is_none_or(|n| s.name.contains(n)))
        .collect())
}

/// Nova's reading of a boolean query parameter: present and not false.
fn is_truthy(value: &str) -> bool {
    !matches!(
        value.to_ascii_lowercase().as_str(),
        "0" | "false" | "f" | "no" | "n" | "off"
    )
}

fn detail(server: &Server, identity: &Identity, base: &str) -> Value {
    let mut view = json!({
        "id": server.id,
        "name": server.name,
        "status": server.status,
        "tenant_id": server.project_id,
        "OS-EXT-STS:task_state": server.task_state.as_deref().filter(|t| !t.is_empty()),
        "links": links(base, &server.id),
    });
    if identity.is_admin() {
        view["OS-EXT-SRV-ATTR:host"] = json!(server.host);
    }
    view
}

fn links(base: &str, id: &str) -> Value {
    json!([
        { "rel": "self", "href": format!("{base}/v2.1/servers/{id}") },
        { "rel": "bookmark", "href": format!("{base}/servers/{id}") },
    ])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn truthy_flags() {
        assert!(is_truthy("1") && is_truthy("True") && is_truthy(""));
        assert!(!is_truthy("0") && !is_truthy("false") && !is_truthy("OFF"));
    }
}
