//! `POST /v2.1/servers/{server_id}/remote-consoles` (microversion 2.6+).

use axum::extract::rejection::PathRejection;
use axum::extract::{Path, State};
use axum::response::{IntoResponse, Response};
use axum::Json;
use consoled_core::catalog::{self, CatalogEntry};
use consoled_core::{DriverDescriptor, Microversion, Registry};
use serde::Serialize;

use crate::body::JsonBytes;
use crate::errors::{not_in_version, path_param, ApiError};
use crate::identity::Caller;
use crate::negotiation::ApiVersion;
use crate::remote_console_body::RequestedConsole;
use crate::schema::Object;
use crate::state::ApiState;

/// Creates a console: schema first (per microversion), then the
/// dispatcher's checks in Nova's order.
pub(crate) async fn create(
    State(state): State<ApiState>,
    version: ApiVersion,
    Caller(identity): Caller,
    server_id: Result<Path<String>, PathRejection>,
    body: Result<JsonBytes, ApiError>,
) -> Result<Response, ApiError> {
    if version.0 < catalog::REMOTE_CONSOLES_MIN_VERSION {
        return Err(not_in_version());
    }
    let server_id = path_param(server_id)?;
    let body = body?;
    let registry = state.dispatcher.registry();
    let at = version.0;
    let fast = RequestedConsole::read(&body.0).filter(|r| {
        exists_at(registry, at, &r.protocol, |e| e.protocol, |d| d.protocol)
            && exists_at(
                registry,
                at,
                &r.console_type,
                |e| e.console_type,
                |d| d.console_type,
            )
    });
    let general;
    let (protocol, console_type) = match &fast {
        Some(r) => (&*r.protocol, &*r.console_type),
        None => {
            general = body.value()?.0;
            checked(registry, version, &general)?
        }
    };
    let console = state
        .dispatcher
        .create_console(&identity, &server_id, protocol, console_type)
        .await?;
    state.console_created(&console.console_type);
    Ok(Json(Created {
        remote_console: RemoteConsole {
            protocol: &console.protocol,
            console_type: &console.console_type,
            url: console.url.as_str(),
        },
    })
    .into_response())
}

/// The protocol and type of a body that [`RequestedConsole::read`] did
/// not take, checked key by key, or the 400 that says what is wrong.
fn checked<'a>(
    registry: &Registry,
    version: ApiVersion,
    body: &'a serde_json::Value,
) -> Result<(&'a str, &'a str), ApiError> {
    let top = Object::new(None, body)?;
    top.keys(&["remote_console"], &["remote_console"])?;
    let request = Object::new(Some("remote_console"), top.get("remote_console"))?;
    request.keys(&["protocol", "type"], &["protocol", "type"])?;
    let protocol = request.string_where(
        "protocol",
        |p| exists_at(registry, version.0, p, |e| e.protocol, |d| d.protocol),
        || protocols_at(registry, version.0),
    )?;
    let console_type = request.string_where(
        "type",
        |t| {
            exists_at(
                registry,
                version.0,
                t,
                |e| e.console_type,
                |d| d.console_type,
            )
        },
        || types_at(registry, version.0),
    )?;
    Ok((protocol, console_type))
}

/// The answer: `{"remote_console": {"protocol", "type", "url"}}`, written
/// straight from the console's fields.
#[derive(Serialize)]
struct Created<'a> {
    remote_console: RemoteConsole<'a>,
}

#[derive(Serialize)]
struct RemoteConsole<'a> {
    protocol: &'a str,
    #[serde(rename = "type")]
    console_type: &'a str,
    url: &'a str,
}

/// Whether `value` is in an enum at `version` (see [`enum_at`]) without
/// building it: the wire contract's pairs first, the linked drivers only
/// for a value beyond them. `of_entry` and `of_driver` pick the field.
fn exists_at(
    registry: &Registry,
    version: Microversion,
    value: &str,
    of_entry: fn(&CatalogEntry) -> &'static str,
    of_driver: fn(&DriverDescriptor) -> &'static str,
) -> bool {
    let at = |min: Microversion| min <= version;
    catalog::NOVA_CONSOLE_TYPES
        .iter()
        .any(|e| at(e.min_version) && of_entry(e) == value)
        || registry
            .descriptors()
            .iter()
            .any(|d| at(d.min_version) && of_driver(d) == value)
}

/// The protocol enum at `version`: the wire contract's, plus any linked
/// driver's beyond it.
fn protocols_at(registry: &Registry, version: Microversion) -> Vec<&'static str> {
    enum_at(registry, version, catalog::protocols_at(version), |d| {
        d.protocol
    })
}

/// The type enum at `version`, built like [`protocols_at`].
fn types_at(registry: &Registry, version: Microversion) -> Vec<&'static str> {
    enum_at(registry, version, catalog::types_at(version), |d| {
        d.console_type
    })
}

/// `known` plus the `field` of every driver that exists at `version`,
/// sorted and without repeats.
fn enum_at(
    registry: &Registry,
    version: Microversion,
    mut known: Vec<&'static str>,
    field: fn(&DriverDescriptor) -> &'static str,
) -> Vec<&'static str> {
    known.extend(
        registry
            .descriptors()
            .iter()
            .filter(|d| d.min_version <= version)
            .map(field),
    );
    known.sort_unstable();
    known.dedup();
    known
}
