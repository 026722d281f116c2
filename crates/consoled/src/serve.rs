//! `consoled serve`: wires the configuration into running services and
//! drains them on shutdown.

use std::future::Future;
use std::path::Path;
use std::pin::Pin;
use std::sync::Arc;
use std::time::Duration;

use consoled_api::{router, ApiState, NoAuth};
use consoled_core::{Dispatcher, MemoryTokenStore, TokenStore};
use tokio::task::JoinSet;

use crate::config::{self, AuthMode, StoreKind};
use crate::inventory::FileInventory;
use crate::shutdown::{self, Shutdown, Trigger};

/// How long in-flight work may take to finish after a shutdown signal.
const DRAIN_LIMIT: Duration = Duration::from_secs(30);
/// How often expired tokens are dropped from the memory store.
const PURGE_EVERY: Duration = Duration::from_secs(60);

/// A long-running service: runs until the shutdown signal, then drains.
type Service = Pin<Box<dyn Future<Output = Result<(), String>> + Send>>;

/// Reads the configuration, then serves until SIGTERM or SIGINT.
///
/// # Errors
/// One line naming the file and key for a bad configuration; what failed
/// for a listener that cannot bind or a service that fails.
pub async fn run(config_path: &Path) -> Result<(), String> {
    let registry = crate::linked::registry().map_err(|e| e.to_string())?;
    let loaded = config::load(config_path, &registry)?;
    let inventory = FileInventory::load(&loaded.inventory, &registry)?;
    tracing::info!(
        config = %config_path.display(),
        servers = inventory.count(),
        drivers = registry.len(),
        "configuration loaded"
    );
    let store: Arc<dyn TokenStore> = match loaded.config.tokens.store {
        StoreKind::Memory => {
            let store = Arc::new(MemoryTokenStore::new());
            store.spawn_purger(PURGE_EVERY);
            store
        }
    };
    let dispatcher = Dispatcher::new(
        Arc::new(registry),
        Arc::new(inventory),
        store,
        loaded.settings,
    );
    let (trigger, shutdown) = Shutdown::new();
    shutdown::on_signals(trigger.clone())
        .map_err(|e| format!("cannot install signal handlers: {e}"))?;

    let api = api_service(&loaded.config, dispatcher, shutdown.clone()).await?;
    run_services(vec![api], trigger, shutdown).await
}

/// The compute API on `[api] listen`.
async fn api_service(
    config: &config::Config,
    dispatcher: Dispatcher,
    shutdown: Shutdown,
) -> Result<Service, String> {
    let state = match config.api.auth {
        AuthMode::NoAuth => ApiState::new(dispatcher).with_identity(Arc::new(NoAuth)),
    };
    let listen = config.api.listen;
    let listener = tokio::net::TcpListener::bind(listen)
        .await
        .map_err(|e| format!("api.listen: cannot listen on {listen}: {e}"))?;
    let bound = listener
        .local_addr()
        .map_err(|e| format!("api.listen: {e}"))?;
    tracing::info!("compute API listening on http://{bound}");
    let app = router(state);
    Ok(Box::pin(async move {
        axum::serve(listener, app)
            .with_graceful_shutdown(shutdown.wait())
            .await
            .map_err(|e| format!("compute API: {e}"))
    }))
}

/// Runs every service until the shutdown signal fires (or one service
/// stops on its own, which stops the others), then gives them
/// [`DRAIN_LIMIT`] to finish.
///
/// # Errors
/// The first service error.
async fn run_services(
    services: Vec<Service>,
    trigger: Trigger,
    shutdown: Shutdown,
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
    if tokio::time::timeout(DRAIN_LIMIT, drain).await.is_err() {
        tracing::warn!(
            limit_s = DRAIN_LIMIT.as_secs(),
            "in-flight work did not finish in time"
        );
    } else {
        tracing::info!("drained; bye");
    }
    outcome
}
