//! `consoled serve`: wires the configuration into running services and
//! drains them on shutdown.

use std::future::Future;
use std::path::Path;
use std::pin::Pin;
use std::sync::Arc;
use std::time::Duration;

use consoled_api::{admin_router, router, ApiMetrics, ApiState, IdentityProvider, NoAuth};
use consoled_identity_keystone::KeystoneIdentity;
use std::net::SocketAddr;

use consoled_backend_libvirt::LibvirtBackend;
use consoled_core::prometheus_client::registry::Registry as Metrics;
use consoled_core::store::MeteredTokenStore;
use consoled_core::{Dispatcher, MemoryTokenStore, Revoker, ServerBackend, TokenStore};
use consoled_proxy::{ListenerConfig, ProxyMetrics, ProxyServer, ProxySettings, RecordingSettings};
use consoled_store_redis::{RedisSessions, RedisTokenStore};
use tokio::task::JoinSet;

use crate::config::{self, AuthMode, BackendKind, Loaded, StoreKind, TokensSection};
use crate::http_listener;
use crate::inventory::FileInventory;
use crate::metrics_listener;
use crate::process_metrics::ProcessCollector;
use crate::shutdown::{self, Shutdown, Trigger};

/// How long in-flight work may take to finish after a shutdown signal.
const DRAIN_LIMIT: Duration = Duration::from_secs(30);
/// How often expired tokens are dropped from the memory store.
const PURGE_EVERY: Duration = Duration::from_secs(60);

/// Time left for the slowest service after the proxies' grace period.
const DRAIN_MARGIN: Duration = Duration::from_secs(5);

/// A long-running service: runs until the shutdown signal, then drains.
pub type Service = Pin<Box<dyn Future<Output = Result<(), String>> + Send>>;

/// Which services a process runs: `consoled serve` runs both, `consoled
/// api` and `consoled proxy` one each, so that each scales on its own.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Roles {
    /// The compute console API.
    pub api: bool,
    /// The console proxies of `[[proxy.listeners]]`.
    pub proxy: bool,
}

/// Reads the configuration, then serves `roles` until SIGTERM or SIGINT.
///
/// # Errors
/// One line naming the file and key for a bad configuration; what failed
/// for a listener that cannot bind or a service that fails.
pub async fn run(config_path: &Path, roles: Roles) -> Result<(), String> {
    let mut registry = crate::linked::registry().map_err(|e| e.to_string())?;
    let loaded = config::load(config_path, &registry)?;
    crate::linked::configure_vnc(&mut registry, &loaded.vnc);
    let inventory = match &loaded.inventory {
        Some(path) => Some(FileInventory::load(path, &registry)?),
        None => None,
    };
    let store_kind = loaded.config.tokens.store.store;
    if roles.proxy && !roles.api && store_kind == StoreKind::Memory {
        return Err(format!(
            "{}: tokens.store: \"memory\" keeps tokens inside one process, so a proxy \
             running alone would refuse every token; use `consoled serve`, or store = \"redis\"",
            config_path.display()
        ));
    }
    tracing::info!(
        config = %config_path.display(),
        backend = ?loaded.config.backend.choice.kind,
        inventory_servers = inventory.as_ref().map(FileInventory::count),
        drivers = registry.len(),
        "configuration loaded"
    );
    // Every family is registered before the registry is shared with the
    // metrics listener, which only reads it.
    let mut metrics = loaded.config.metrics.listen.map(|_| {
        let mut metrics = Metrics::default();
        metrics.register_collector(Box::new(ProcessCollector));
        metrics
    });
    let store = token_store(config_path, &loaded.config.tokens, metrics.as_mut()).await?;
    let revoker = revoker(config_path, &loaded.config.tokens, &store)?;
    let backend = server_backend(config_path, &loaded, inventory, &revoker).await?;
    let dispatcher = Dispatcher::new(Arc::new(registry), backend, store, loaded.settings.clone())
        .with_revoker(revoker);
    let (trigger, shutdown) = Shutdown::new();
    shutdown::on_signals(trigger.clone())
        .map_err(|e| format!("cannot install signal handlers: {e}"))?;

    let mut services = Vec::new();
    // The API's identity mode also guards the admin routes, in every role.
    let identity: Arc<dyn IdentityProvider> = match loaded.config.api.auth {
        AuthMode::NoAuth => Arc::new(NoAuth),
        AuthMode::Keystone => Arc::new(
            KeystoneIdentity::new(loaded.config.keystone_authtoken.clone())
                .map_err(|e| format!("{}: {e}", config_path.display()))?,
        ),
    };
    let admin = ApiState::new(dispatcher.clone(), Arc::clone(&identity));
    if roles.api {
        let mut state = ApiState::new(dispatcher.clone(), identity);
        if let Some(metrics) = metrics.as_mut() {
            state = state.with_metrics(Arc::new(ApiMetrics::register(metrics)));
        }
        // The proxies' bound on a request head holds for the API too.
        let head_timeout = loaded.config.proxy.settings.handshake_timeout;
        let (service, _) = api_service(
            loaded.config.api.listen,
            state,
            head_timeout,
            shutdown.clone(),
        )
        .await?;
        services.push(service);
    }
    if roles.proxy {
        if loaded.proxy_listeners.is_empty() {
            if !roles.api {
                return Err(format!(
                    "{}: proxy.listeners: none configured, so the proxy has nothing to serve",
                    config_path.display()
                ));
            }
            tracing::warn!("no [[proxy.listeners]] configured: console URLs lead nowhere");
        } else {
            let counted = metrics
                .as_mut()
                .map(|m| Arc::new(ProxyMetrics::register(m)));
            let (service, _) = proxy_service(
                dispatcher,
                loaded.config.proxy.settings.clone(),
                loaded.proxy_listeners.clone(),
                loaded.recording.clone(),
                counted,
                shutdown.clone(),
            )
            .await?;
            services.push(service);
        }
    }
    if let (Some(listen), Some(metrics)) = (loaded.config.metrics.listen, metrics) {
        // The operator's port: the metrics, and the session control.
        let app = metrics_listener::router(Arc::new(metrics)).merge(admin_router(admin));
        let head_timeout = loaded.config.proxy.settings.handshake_timeout;
        let (service, _) =
            metrics_listener::service(listen, app, head_timeout, shutdown.clone()).await?;
        services.push(service);
    }
    let drain_limit = DRAIN_LIMIT.max(loaded.config.proxy.settings.shutdown_grace + DRAIN_MARGIN);
    run_services(services, trigger, shutdown, drain_limit).await
}

/// Where servers come from, as `[backend] kind` says. The libvirt backend
/// revokes through `revoker` when a domain stops; in a proxy process that
/// ends the sessions it relays to that domain.
///
/// # Errors
/// A libvirt event loop that cannot start. A libvirtd that is down is only
/// logged: its servers get 503 until it answers.
async fn server_backend(
    config_path: &Path,
    loaded: &Loaded,
    inventory: Option<FileInventory>,
    revoker: &Revoker,
) -> Result<Arc<dyn ServerBackend>, String> {
    match (loaded.config.backend.choice.kind, inventory) {
        (BackendKind::Inventory, Some(inventory)) => Ok(Arc::new(inventory)),
        (BackendKind::Inventory, None) => Err(format!(
            "{}: backend.inventory: missing: name the server inventory file",
            config_path.display()
        )),
        (BackendKind::Libvirt, _) => {
            let backend = LibvirtBackend::start(&loaded.config.backend.libvirt, revoker.clone())
                .await
                .map_err(|e| format!("{}: backend: {e}", config_path.display()))?;
            Ok(Arc::new(backend))
        }
    }
}

/// What revokes servers and cuts sessions: through this process alone
/// with the memory store, through Redis (every node sharing it) with the
/// Redis store.
///
/// # Errors
/// An unusable Redis URL, naming the file and key.
fn revoker(
    config_path: &Path,
    tokens: &TokensSection,
    store: &Arc<dyn TokenStore>,
) -> Result<Revoker, String> {
    match tokens.store.store {
        StoreKind::Memory => Ok(Revoker::new(Arc::clone(store))),
        StoreKind::Redis => {
            let target = tokens
                .redis
                .target()
                .map_err(|e| format!("{}: {}", config_path.display(), e.under("tokens")))?;
            let directory = RedisSessions::connect_lazy(
                &target,
                &tokens.redis.redis_key_prefix,
                RedisTokenStore::DEFAULT_TIMEOUT,
            )
            .map_err(|e| format!("{}: tokens: {e}", config_path.display()))?;
            Ok(Revoker::with_directory(
                Arc::clone(store),
                Arc::new(directory),
            ))
        }
    }
}

/// The token store `[tokens]` names, with its background purge running;
/// counted in `metrics`, if any.
///
/// # Errors
/// Unusable Redis settings (a URL, a PEM file), naming the file and key. A Redis that is down at
/// start-up is only logged: requests get 503 until it answers, so nodes
/// may start in any order.
async fn token_store(
    config_path: &Path,
    tokens: &TokensSection,
    metrics: Option<&mut Metrics>,
) -> Result<Arc<dyn TokenStore>, String> {
    let mut store: Arc<dyn TokenStore> = match tokens.store.store {
        StoreKind::Memory => Arc::new(MemoryTokenStore::with_limits(tokens.limits)),
        StoreKind::Redis => {
            // First, so that unusable settings (a URL, a PEM file) are
            // refused as the configuration error they are, not logged as a
            // Redis that is down.
            let target = tokens
                .redis
                .target()
                .map_err(|e| format!("{}: {}", config_path.display(), e.under("tokens")))?;
            let timeout = RedisTokenStore::DEFAULT_TIMEOUT;
            let lazy = RedisTokenStore::connect_target_lazy(&target, timeout)
                .map_err(|e| format!("{}: tokens: {e}", config_path.display()))?;
            let store = match RedisTokenStore::connect_target(&target, timeout).await {
                Ok(store) => store,
                Err(e) => {
                    tracing::warn!(error = %e, "Redis does not answer yet; console requests get 503 until it does");
                    lazy
                }
            };
            Arc::new(
                store
                    .with_key_prefix(tokens.redis.redis_key_prefix.clone())
                    .with_limits(tokens.limits),
            )
        }
    };
    if let Some(metrics) = metrics {
        let name = match tokens.store.store {
            StoreKind::Memory => "memory",
            StoreKind::Redis => "redis",
        };
        store = Arc::new(MeteredTokenStore::register(store, name, metrics));
    }
    consoled_core::store::spawn_purger(&store, PURGE_EVERY);
    Ok(store)
}

/// The console proxies, bound, recording as `recording` says and counting
/// in `metrics` if any; also returns their addresses in listener order.
///
/// # Errors
/// The proxy's one-line error for a listener that fails its checks or
/// cannot bind.
pub async fn proxy_service(
    dispatcher: Dispatcher,
    settings: ProxySettings,
    listeners: Vec<ListenerConfig>,
    recording: RecordingSettings,
    metrics: Option<Arc<ProxyMetrics>>,
    shutdown: Shutdown,
) -> Result<(Service, Vec<SocketAddr>), String> {
    let mut server = ProxyServer::bind(dispatcher, settings, listeners)
        .await
        .and_then(|server| server.with_recording(recording))
        .map_err(|e| format!("proxy: {e}"))?;
    if let Some(metrics) = metrics {
        server = server.with_metrics(metrics);
    }
    let addrs = server.local_addrs();
    let service: Service = Box::pin(async move {
        server
            .run(shutdown.wait())
            .await
            .map_err(|e| format!("console proxy: {e}"))
    });
    Ok((service, addrs))
}

/// The compute API, bound to `listen`, giving each client `head_timeout`
/// for a request head; also returns the bound address.
///
/// # Errors
/// When `listen` cannot be bound.
pub async fn api_service(
    listen: SocketAddr,
    state: ApiState,
    head_timeout: Duration,
    shutdown: Shutdown,
) -> Result<(Service, SocketAddr), String> {
    let listener = tokio::net::TcpListener::bind(listen)
        .await
        .map_err(|e| format!("api.listen: cannot listen on {listen}: {e}"))?;
    let bound = listener
        .local_addr()
        .map_err(|e| format!("api.listen: {e}"))?;
    tracing::info!("compute API listening on http://{bound}");
    let app = router(state);
    let service: Service = Box::pin(async move {
        http_listener::serve(listener, app, head_timeout, shutdown.wait()).await;
        Ok(())
    });
    Ok((service, bound))
}

/// Runs every service until the shutdown signal fires (or one service
/// stops on its own, which stops the others), then gives them
/// `drain_limit` to finish.
///
/// # Errors
/// The first service error.
pub async fn run_services(
    services: Vec<Service>,
    trigger: Trigger,
    shutdown: Shutdown,
    drain_limit: Duration,
) -> Result<(), String> {
    let mut set = JoinSet::new();
    for service in services {
        set.spawn(service);
    }
    let mut outcome = Ok(());
    let mut record = |joined: Result<Result<(), String>, tokio::task::JoinError>| {
        if let Err(e) = joined
            .map_err(|e| format!("service task failed: {e}"))
            .and_then(|r| r)
        {
            tracing::error!(error = %e, "service stopped");
            if outcome.is_ok() {
                outcome = Err(e);
            }
        }
    };
    tokio::select! {
        () = shutdown.wait() => {}
        Some(joined) = set.join_next() => {
            record(joined);
            trigger.fire();
        }
    }
    let drain = async {
        while let Some(joined) = set.join_next().await {
            record(joined);
        }
    };
    if tokio::time::timeout(drain_limit, drain).await.is_err() {
        tracing::warn!(
            limit_s = drain_limit.as_secs(),
            "in-flight work did not finish in time"
        );
    } else {
        tracing::info!("drained; bye");
    }
    outcome
}
