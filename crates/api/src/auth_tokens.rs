//! `GET /v2.1/os-console-auth-tokens/{token}` (admin, 2.31+): how an
//! external gateway turns a token into a backend address.

use axum::extract::rejection::PathRejection;
use axum::extract::{Path, State};
use axum::Json;
use consoled_core::{ConsoleError, Token};
use serde_json::{json, Value};

use crate::errors::{path_param, ApiError};
use crate::identity::Caller;
use crate::negotiation::ApiVersion;
use crate::state::ApiState;

/// Shows what a live token connects to. Neither the token nor its hash
/// appears in any message; the log names its fingerprint only.
pub(crate) async fn show(
    State(state): State<ApiState>,
    version: ApiVersion,
    Caller(identity): Caller,
    token: Result<Path<String>, PathRejection>,
) -> Result<Json<Value>, ApiError> {
    if !identity.is_admin() {
        return Err(ApiError(ConsoleError::Forbidden(
            "Policy doesn't allow os_compute_api:os-console-auth-tokens to be performed.".into(),
        )));
    }
    if !version.at_least(2, 31) {
        return Err(ApiError(ConsoleError::BadRequest(
            "The requested console type details are not accessible".into(),
        )));
    }
    let token = Token::new(path_param(token)?);
    let fingerprint = token.hash().fingerprint();
    let Some(record) = state.dispatcher.validate_token(&token).await? else {
        tracing::info!(token = %fingerprint, "console auth token unknown or expired");
        return Err(ApiError(ConsoleError::NotFound(
            "The token has expired or is invalid.".into(),
        )));
    };
    let connect = &record.connect;
    let mut console = json!({
        "instance_uuid": record.instance_uuid,
        "host": connect.host,
        "port": connect.port,
        "internal_access_path": connect.internal_access_path,
    });
    if version.at_least(2, 99) && record.console_type == "spice-direct" {
        console["tls_port"] = json!(connect.tls_port);
    }
    Ok(Json(json!({ "console": console })))
}
