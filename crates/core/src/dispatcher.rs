//! Creating consoles and resolving tokens: the flow every front shares.

use std::sync::Arc;
use std::time::{Duration, SystemTime};

use url::Url;

use crate::catalog;
use crate::clock::{Clock, SystemClock};
use crate::driver::{BackendStream, ConsoleDriver};
use crate::error::ConsoleError;
use crate::guard::{guarded, guarded_as};
use crate::identity::Identity;
use crate::record::{unix_seconds, ConnectInfo, MintedBy, TokenRecord};
use crate::registry::Registry;
use crate::revocation::Revoker;
use crate::server::{Server, ServerBackend};
use crate::settings::DispatchSettings;
use crate::store::{StoreError, TokenStore};
use crate::token::{OsTokenSource, Token, TokenHash, TokenSource};

/// Task states in which a server has no console to offer.
const BUSY_TASK_STATES: &[&str] = &[
    "deleting",
    "migrating",
    "resize_migrating",
    "resize_migrated",
];

/// Server statuses with no running guest, hence no console (Nova checks
/// the instance's state before asking the hypervisor).
const STATUSES_WITHOUT_CONSOLE: &[&str] = &[
    "BUILD",
    "SHUTOFF",
    "SUSPENDED",
    "SHELVED",
    "SHELVED_OFFLOADED",
    "SOFT_DELETED",
    "DELETED",
    "ERROR",
];

/// A console that was just created.
///
/// Its `Debug` leaves the URL's query out: that is where the token is.
#[derive(Clone, PartialEq, Eq)]
pub struct Console {
    /// The protocol asked for.
    pub protocol: String,
    /// The type asked for.
    pub console_type: String,
    /// The access URL, carrying the token.
    pub url: Url,
}

impl std::fmt::Debug for Console {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let mut shown = self.url.clone();
        if shown.query().is_some() {
            shown.set_query(Some("<redacted>"));
        }
        f.debug_struct("Console")
            .field("protocol", &self.protocol)
            .field("console_type", &self.console_type)
            .field("url", &shown.as_str())
            .finish()
    }
}

/// What the audit event of a minted console says about its token.
struct Minted {
    fingerprint: String,
    expires_at: u64,
}

/// Picks the driver for a request and runs both halves of the console flow.
///
/// Cheap to clone: one `Arc`, so that the state every request clones costs
/// one reference count, not one per part. The compute API calls
/// [`create_console`](Self::create_console); a proxy (or an external
/// gateway's lookup) calls [`validate_token`](Self::validate_token). The
/// crate's front page builds one end to end.
///
/// # Example
///
/// ```
/// use std::collections::HashMap;
/// use std::sync::Arc;
/// use consoled_core::{
///     DispatchSettings, Dispatcher, MemoryTokenStore, Registry, ServerBackend, TypeSettings, Url,
/// };
///
/// fn dispatcher(backend: Arc<dyn ServerBackend>) -> Result<Dispatcher, Box<dyn std::error::Error>> {
///     // novnc URLs lead to where this deployment's proxy is reached.
///     let novnc = TypeSettings {
///         enabled: true,
///         base_url: Some(Url::parse("https://consoles.example.com/vnc_lite.html")?),
///         ..TypeSettings::default()
///     };
///     let settings = DispatchSettings {
///         types: HashMap::from([("novnc".to_owned(), novnc)]),
///         ..DispatchSettings::default()
///     };
///     let store = Arc::new(MemoryTokenStore::new());
///     Ok(Dispatcher::new(Arc::new(Registry::from_inventory()?), backend, store, settings))
/// }
/// ```
#[derive(Clone)]
pub struct Dispatcher {
    parts: Arc<Parts>,
}

/// What a dispatcher works with.
#[derive(Clone)]
struct Parts {
    registry: Arc<Registry>,
    backend: Arc<dyn ServerBackend>,
    store: Arc<dyn TokenStore>,
    tokens: Arc<dyn TokenSource>,
    clock: Arc<dyn Clock>,
    settings: Arc<DispatchSettings>,
    revoker: Revoker,
}

impl Dispatcher {
    /// A dispatcher with OS tokens and the system clock.
    pub fn new(
        registry: Arc<Registry>,
        backend: Arc<dyn ServerBackend>,
        store: Arc<dyn TokenStore>,
        settings: DispatchSettings,
    ) -> Self {
        Dispatcher {
            parts: Arc::new(Parts {
                registry,
                backend,
                revoker: Revoker::new(Arc::clone(&store)),
                store,
                tokens: Arc::new(OsTokenSource),
                clock: Arc::new(SystemClock),
                settings: Arc::new(settings),
            }),
        }
    }

    /// Replaces the token source (tests: deterministic tokens).
    pub fn with_token_source(mut self, tokens: Arc<dyn TokenSource>) -> Self {
        Arc::make_mut(&mut self.parts).tokens = tokens;
        self
    }

    /// Shares `revoker` (made over the same store) with whatever else
    /// revokes servers, such as a backend that watches VMs stop, so that
    /// its revocations end this dispatcher's sessions too.
    pub fn with_revoker(mut self, revoker: Revoker) -> Self {
        Arc::make_mut(&mut self.parts).revoker = revoker;
        self
    }

    /// Replaces the clock (tests: fixed time).
    pub fn with_clock(mut self, clock: Arc<dyn Clock>) -> Self {
        Arc::make_mut(&mut self.parts).clock = clock;
        self
    }

    /// The drivers.
    pub fn registry(&self) -> &Arc<Registry> {
        &self.parts.registry
    }

    /// The server backend.
    pub fn backend(&self) -> &Arc<dyn ServerBackend> {
        &self.parts.backend
    }

    /// The token store.
    pub fn store(&self) -> &Arc<dyn TokenStore> {
        &self.parts.store
    }

    /// What revokes servers' consoles, and what a session watches to end
    /// when its server is revoked.
    pub fn revoker(&self) -> &Revoker {
        &self.parts.revoker
    }

    /// The settings.
    pub fn settings(&self) -> &DispatchSettings {
        &self.parts.settings
    }

    /// The current time on the dispatcher's clock.
    pub fn now(&self) -> SystemTime {
        self.parts.clock.now()
    }

    /// Creates a console of (protocol, type) for `server_id`, checking in
    /// the order Nova checks: the server (404), the policy (403), its state
    /// (409), the type's protocol (400), a driver (501), the type switched
    /// off (400), the server's endpoint (400); then mints and stores a token
    /// and builds the URL.
    ///
    /// # Errors
    /// The [`ConsoleError`] of the first check that fails; 503 when the
    /// backend or store is down or too slow; 500 when a driver panics.
    pub async fn create_console(
        &self,
        identity: &Identity,
        server_id: &str,
        protocol: &str,
        console_type: &str,
    ) -> Result<Console, ConsoleError> {
        // No span of its own: each line below names the console, and the
        // caller's span (the API's request, with its id) is the context of
        // anything logged on the way. A span per console cost about 5% of
        // the API's user-space work to create, enter and close, and
        // repeated the event's own fields on its line.
        let result = self
            .create_console_inner(identity, server_id, protocol, console_type)
            .await;
        match &result {
            // The audit event of a console: who minted which token (by its
            // fingerprint) for which server, valid until when.
            Ok((_, minted)) => tracing::info!(
                instance = server_id,
                protocol,
                console_type,
                user = %identity.user_id,
                project = %identity.project_id,
                token = %minted.fingerprint,
                expires_at = minted.expires_at,
                "console created"
            ),
            Err(e) if e.is_server_fault() => tracing::error!(
                instance = server_id,
                protocol,
                console_type,
                error = %e,
                "console not created"
            ),
            Err(e) => tracing::info!(
                instance = server_id,
                protocol,
                console_type,
                status = e.status(),
                error = %e,
                "console refused"
            ),
        }
        result.map(|(console, _)| console)
    }

    async fn create_console_inner(
        &self,
        identity: &Identity,
        server_id: &str,
        protocol: &str,
        console_type: &str,
    ) -> Result<(Console, Minted), ConsoleError> {
        let limit = self.parts.settings.call_timeout;
        let server = self.console_server(identity, server_id).await?;
        let driver = self.driver_for(protocol, console_type)?;
        // Borrowed, not copied: a type without a section
        // is enabled on the driver's default base URL.
        let type_settings = self.parts.settings.types.get(console_type);
        if type_settings.is_some_and(|t| !t.enabled) {
            return Err(unavailable(console_type));
        }
        let default_base;
        let base = match type_settings.and_then(|t| t.base_url.as_ref()) {
            Some(url) => url,
            None => {
                default_base = Url::parse(driver.descriptor().default_base_url).map_err(|e| {
                    ConsoleError::Internal(format!(
                        "driver {protocol}/{console_type} default base URL: {e}"
                    ))
                })?;
                &default_base
            }
        };
        let connect = self.driver_connect_info(driver, &server).await?;

        let token = self.parts.tokens.generate();
        let url = driver.access_url(base, &token)?;
        let record = TokenRecord {
            token_hash: token.hash(),
            protocol: protocol.to_owned(),
            console_type: console_type.to_owned(),
            instance_uuid: server.id,
            connect,
            access_url_base: base.to_string(),
            expires_at: unix_seconds(self.parts.clock.now())
                + self.parts.settings.token_ttl().as_secs(),
            minted_by: Some(MintedBy {
                user_id: identity.user_id.clone(),
                project_id: identity.project_id.clone(),
            }),
        };
        let minted = Minted {
            fingerprint: record.token_hash.fingerprint(),
            expires_at: record.expires_at,
        };
        guarded("token store", limit, async {
            self.parts.store.authorize(record).await.map_err(store_down)
        })
        .await?;
        let console = Console {
            protocol: protocol.to_owned(),
            console_type: console_type.to_owned(),
            url,
        };
        Ok((console, minted))
    }

    /// The server if it exists and `identity` may see it.
    ///
    /// # Errors
    /// 404 when it does not exist or belongs to another project (for a
    /// non-admin); 503 when the backend is down.
    pub async fn visible_server(
        &self,
        identity: &Identity,
        server_id: &str,
    ) -> Result<Server, ConsoleError> {
        let backend = &self.parts.backend;
        let found = guarded(
            "server backend",
            self.parts.settings.call_timeout,
            async move {
                backend
                    .get_server(server_id)
                    .await
                    .map_err(|e| ConsoleError::ServiceUnavailable(e.to_string()))
            },
        )
        .await?;
        match found {
            Some(server) if identity.can_see_project(&server.project_id) => Ok(server),
            _ => Err(ConsoleError::NotFound(format!(
                "Instance {server_id} could not be found."
            ))),
        }
    }

    /// The server if `identity` may open its consoles and it has one to
    /// offer, checked in Nova's order: visible (404), the policy (403),
    /// its state (409).
    async fn console_server(
        &self,
        identity: &Identity,
        server_id: &str,
    ) -> Result<Server, ConsoleError> {
        let server = self.visible_server(identity, server_id).await?;
        if !identity.can_create_console(&server.project_id) {
            return Err(ConsoleError::Forbidden(
                "Policy doesn't allow os_compute_api:os-remote-consoles to be performed.".into(),
            ));
        }
        check_state(&server)?;
        Ok(server)
    }

    /// The driver's connect info for `server`, under the call timeout.
    async fn driver_connect_info(
        &self,
        driver: &Arc<dyn ConsoleDriver>,
        server: &Server,
    ) -> Result<ConnectInfo, ConsoleError> {
        let d = driver.descriptor();
        guarded_as(
            || format!("driver {}/{}", d.protocol, d.console_type),
            self.parts.settings.call_timeout,
            driver.connect_info(server),
        )
        .await
    }

    /// The backend of `server_id`'s console of `protocol`, for consoled
    /// itself to open (a screenshot): the checks of
    /// [`create_console`](Self::create_console) in its order, without a
    /// token. The driver is the protocol's first linked type (by name)
    /// that is not switched off; its connect info comes from the server as
    /// for a console.
    ///
    /// # Errors
    /// 404, 403 and 409 as for a console; 501 when no driver of the
    /// protocol is linked; 400 when every linked type of it is switched
    /// off or the server has no such console; 503 when the backend is down
    /// or too slow; 500 when a driver panics.
    pub async fn console_backend(
        &self,
        identity: &Identity,
        server_id: &str,
        protocol: &str,
    ) -> Result<ConsoleBackend, ConsoleError> {
        let server = self.console_server(identity, server_id).await?;
        let linked: Vec<&'static str> = self
            .parts
            .registry
            .descriptors()
            .into_iter()
            .filter(|d| d.protocol == protocol)
            .map(|d| d.console_type)
            .collect();
        let Some(first) = linked.first() else {
            return Err(ConsoleError::NotImplemented(format!(
                "No driver for console protocol {protocol} is available."
            )));
        };
        let enabled = |t: &&str| self.parts.settings.types.get(*t).is_none_or(|s| s.enabled);
        let console_type = linked
            .iter()
            .copied()
            .find(enabled)
            .ok_or_else(|| unavailable(first))?;
        let driver = self.driver_for(protocol, console_type)?;
        let connect = self.driver_connect_info(driver, &server).await?;
        let record = TokenRecord {
            // Never stored, so no token stands for it.
            token_hash: TokenHash::from_bytes([0; 32]),
            protocol: protocol.to_owned(),
            console_type: console_type.to_owned(),
            instance_uuid: server.id,
            connect,
            access_url_base: driver.descriptor().default_base_url.to_owned(),
            expires_at: unix_seconds(self.parts.clock.now())
                + self.parts.settings.token_ttl().as_secs(),
            minted_by: Some(MintedBy {
                user_id: identity.user_id.clone(),
                project_id: identity.project_id.clone(),
            }),
        };
        Ok(ConsoleBackend {
            driver: Arc::clone(driver),
            record,
            limit: self.parts.settings.call_timeout,
        })
    }

    /// The driver for a pair, or why there is none: 400 when the wire
    /// contract (or any linked driver) does not pair them, 501 when the pair
    /// is known but no driver for it is linked.
    ///
    /// # Errors
    /// As above.
    pub fn driver_for(
        &self,
        protocol: &str,
        console_type: &str,
    ) -> Result<&Arc<dyn ConsoleDriver>, ConsoleError> {
        if let Some(driver) = self.parts.registry.get(protocol, console_type) {
            return Ok(driver);
        }
        if !catalog::is_known_pair(protocol, console_type) {
            return Err(ConsoleError::BadRequest(format!(
                "Invalid console type {console_type}"
            )));
        }
        let available: Vec<String> = self
            .parts
            .registry
            .descriptors()
            .iter()
            .map(|d| format!("{}/{}", d.protocol, d.console_type))
            .collect();
        Err(ConsoleError::NotImplemented(format!(
            "No driver for console type {protocol}/{console_type} is available; available: {}.",
            if available.is_empty() {
                "none".to_owned()
            } else {
                available.join(", ")
            }
        )))
    }

    /// The live record of `token`, or `None` when it is unknown or expired.
    ///
    /// # Errors
    /// 503 when the store is down or too slow.
    pub async fn validate_token(&self, token: &Token) -> Result<Option<TokenRecord>, ConsoleError> {
        let hash = token.hash();
        guarded("token store", self.parts.settings.call_timeout, async {
            self.parts.store.validate(&hash).await.map_err(store_down)
        })
        .await
    }
}

/// A server's console backend that the dispatcher has checked the caller
/// may reach, with no token minted: what
/// [`Dispatcher::console_backend`] returns.
#[derive(Clone)]
pub struct ConsoleBackend {
    driver: Arc<dyn ConsoleDriver>,
    record: TokenRecord,
    limit: Duration,
}

impl ConsoleBackend {
    /// The driver that opens it.
    pub fn driver(&self) -> &Arc<dyn ConsoleDriver> {
        &self.driver
    }

    /// The record a token would carry, never stored (its hash stands for
    /// no token): the server, the type, where to connect, who asked.
    pub fn record(&self) -> &TokenRecord {
        &self.record
    }

    /// Opens the backend stream as the proxy would for a token of the
    /// record: the driver's own connect (with the VNC security proxy when
    /// the driver is wrapped in it), under the call timeout.
    ///
    /// # Errors
    /// What the driver's connect returns (503 when the backend cannot be
    /// reached); 503 when it is too slow; 500 when it panics.
    pub async fn open(&self) -> Result<BackendStream, ConsoleError> {
        let d = self.driver.descriptor();
        guarded_as(
            || format!("driver {}/{}", d.protocol, d.console_type),
            self.limit,
            self.driver.connect(&self.record),
        )
        .await
    }
}

impl std::fmt::Debug for ConsoleBackend {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let d = self.driver.descriptor();
        f.debug_struct("ConsoleBackend")
            .field("driver", &format_args!("{}/{}", d.protocol, d.console_type))
            .field("record", &self.record)
            .finish()
    }
}

fn unavailable(console_type: &str) -> ConsoleError {
    ConsoleError::BadRequest(format!("Unavailable console type {console_type}."))
}

fn check_state(server: &Server) -> Result<(), ConsoleError> {
    if server.host.as_deref().is_none_or(str::is_empty) {
        return Err(ConsoleError::Conflict(format!(
            "Instance {} is not ready.",
            server.id
        )));
    }
    if STATUSES_WITHOUT_CONSOLE
        .iter()
        .any(|s| s.eq_ignore_ascii_case(&server.status))
    {
        return Err(ConsoleError::Conflict(format!(
            "Cannot 'get_console' instance {} while it is in status {}",
            server.id, server.status
        )));
    }
    if let Some(task) = server.task_state.as_deref().filter(|t| {
        BUSY_TASK_STATES
            .iter()
            .any(|busy| busy.eq_ignore_ascii_case(t))
    }) {
        return Err(ConsoleError::Conflict(format!(
            "Cannot 'get_console' instance {} while it is in task_state {task}",
            server.id
        )));
    }
    Ok(())
}

/// A store's refusal as the API answers it: a project over its quota is
/// that project's 403 (Nova's fault for quotas); anything else is the
/// store's trouble, a 503.
fn store_down(e: StoreError) -> ConsoleError {
    match e {
        StoreError::OverQuota { .. } => ConsoleError::Forbidden(e.to_string()),
        other => ConsoleError::ServiceUnavailable(other.to_string()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn console_debug_hides_the_token() {
        let url = "http://h:6080/vnc_lite.html?path=%3Ftoken%3Ds3cret-token";
        let console = Console {
            protocol: "vnc".into(),
            console_type: "novnc".into(),
            url: Url::parse(url).unwrap(),
        };
        let shown = format!("{console:?}");
        assert!(!shown.contains("s3cret"), "{shown}");
        assert!(shown.contains("http://h:6080/vnc_lite.html"), "{shown}");
    }
}
