//! The legacy console actions on `POST /v2.1/servers/{id}/action`
//! (microversions 2.1 to 2.5).

use axum::extract::rejection::PathRejection;
use axum::extract::{Path, State};
use axum::Json;
use consoled_core::{catalog, ConsoleError};
use serde_json::{json, Value};

use crate::body::JsonBody;
use crate::errors::{not_in_version, path_param, ApiError};
use crate::identity::Caller;
use crate::negotiation::ApiVersion;
use crate::schema::Object;
use crate::state::ApiState;

/// One legacy action: its name, the protocol it asks for, its type enum.
struct LegacyAction {
    name: &'static str,
    protocol: &'static str,
    types: &'static [&'static str],
}

const ACTIONS: &[LegacyAction] = &[
    LegacyAction {
        name: "os-getVNCConsole",
        protocol: "vnc",
        types: &["novnc", "xvpvnc"],
    },
    LegacyAction {
        name: "os-getSPICEConsole",
        protocol: "spice",
        types: &["spice-html5"],
    },
    LegacyAction {
        name: "os-getRDPConsole",
        protocol: "rdp",
        types: &["rdp-html5"],
    },
    LegacyAction {
        name: "os-getSerialConsole",
        protocol: "serial",
        types: &["serial"],
    },
];

/// Runs a server action. Only the console actions exist here; from 2.6 on
/// they are gone (404), replaced by `remote-consoles`.
pub(crate) async fn action(
    State(state): State<ApiState>,
    version: ApiVersion,
    Caller(identity): Caller,
    server_id: Result<Path<String>, PathRejection>,
    body: Result<JsonBody, ApiError>,
) -> Result<Json<Value>, ApiError> {
    let server_id = path_param(server_id)?;
    let JsonBody(body) = body?;
    let Some(keys) = body
        .as_object()
        .map(|o| o.keys().cloned().collect::<Vec<_>>())
    else {
        return Err(ApiError(ConsoleError::BadRequest(
            "Malformed request body".into(),
        )));
    };
    let Some(action) = ACTIONS.iter().find(|a| keys.iter().any(|k| k == a.name)) else {
        let named = keys.first().map(String::as_str).unwrap_or_default();
        return Err(ApiError(ConsoleError::BadRequest(format!(
            "There is no such action: {}",
            named.chars().take(100).collect::<String>()
        ))));
    };
    if version.0 >= catalog::REMOTE_CONSOLES_MIN_VERSION {
        return Err(not_in_version());
    }
    let top = Object::new(None, &body)?;
    top.keys(&[action.name], &[action.name])?;
    let request = Object::new(Some(action.name), top.get(action.name))?;
    request.keys(&["type"], &["type"])?;
    let console_type = request.string_in("type", action.types)?;
    let console = state
        .dispatcher
        .create_console(&identity, &server_id, action.protocol, console_type)
        .await?;
    state.console_created(&console.console_type);
    Ok(Json(json!({
        "console": { "type": console.console_type, "url": console.url.as_str() }
    })))
}
