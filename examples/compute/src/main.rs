#![doc = include_str!("../README.md")]

mod backend;
mod db;
mod identity;
mod routes;

use std::collections::HashMap;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use clap::Parser;
use consoled_api::{ApiState, IdentityProvider};
use consoled_core::{DispatchSettings, Dispatcher, MemoryTokenStore, Registry, TypeSettings, Url};
use consoled_driver_vnc_novnc::NoVncDriver;
use consoled_proxy::{ListenerConfig, ProxyServer, ProxySettings};
use tokio::sync::watch;

use crate::backend::SqlBackend;
use crate::identity::ApiKeys;

/// Where consoled's compute API is mounted in this service's app.
const CONSOLED_PREFIX: &str = "/compute";

/// A compute service with remote consoles by consoled.
#[derive(Debug, Parser)]
#[command(version, about)]
struct Options {
    /// The service's HTTP address: its own routes and consoled's API under
    /// /compute (port 0: any free port).
    #[arg(long, env = "COMPUTE_LISTEN", default_value = "127.0.0.1:8080")]
    listen: SocketAddr,
    /// The novnc console proxy's address (port 0: any free port).
    #[arg(long, env = "COMPUTE_PROXY_LISTEN", default_value = "127.0.0.1:6080")]
    proxy_listen: SocketAddr,
    /// The page novnc console URLs open, as browsers reach the proxy.
    /// Default: noVNC's vnc_lite.html on the proxy's bound address.
    #[arg(long, env = "COMPUTE_PROXY_BASE_URL")]
    proxy_base_url: Option<Url>,
    /// The SQLite database file, created when missing.
    #[arg(long, env = "COMPUTE_DATABASE", default_value = "compute.db")]
    database: PathBuf,
    /// An API key to accept, as KEY=USER:PROJECT:ROLE[,ROLE...]; may be
    /// repeated (separated by spaces in the environment). Stored hashed.
    #[arg(long = "api-key", env = "COMPUTE_API_KEYS", value_delimiter = ' ', value_parser = parse_key)]
    api_keys: Vec<ApiKey>,
}

/// One `--api-key`.
#[derive(Debug, Clone)]
struct ApiKey {
    key: String,
    user_id: String,
    project_id: String,
    roles: Vec<String>,
}

fn parse_key(text: &str) -> Result<ApiKey, String> {
    let shape = "expected KEY=USER:PROJECT:ROLE[,ROLE...]";
    let (key, who) = text.split_once('=').ok_or(shape)?;
    let mut fields = who.splitn(3, ':');
    let (Some(user), Some(project), Some(roles)) = (fields.next(), fields.next(), fields.next())
    else {
        return Err(shape.into());
    };
    let roles: Vec<String> = roles
        .split(',')
        .map(|r| r.trim().to_ascii_lowercase())
        .collect();
    if key.is_empty() || user.is_empty() || project.is_empty() || roles.iter().any(String::is_empty)
    {
        return Err(shape.into());
    }
    Ok(ApiKey {
        key: key.into(),
        user_id: user.into(),
        project_id: project.into(),
        roles,
    })
}

#[tokio::main]
async fn main() {
    if let Err(e) = run(Options::parse()).await {
        eprintln!("consoled-example-compute: {e}");
        std::process::exit(1);
    }
}

async fn run(options: Options) -> Result<(), Box<dyn std::error::Error>> {
    let pool = db::open(&options.database).await?;
    for k in &options.api_keys {
        db::put_api_key(&pool, &k.key, &k.user_id, &k.project_id, &k.roles).await?;
    }

    // The drivers this service offers, listed by hand rather than
    // collected from whatever is linked.
    let registry = Arc::new(
        Registry::builder()
            .register(Arc::new(NoVncDriver))
            .build()?,
    );
    let backend = SqlBackend::new(pool.clone());
    let store = Arc::new(MemoryTokenStore::new());
    store.spawn_purger(Duration::from_secs(60));

    // The proxy validates tokens and needs none of the URL settings, so it
    // gets a dispatcher of its own over the same registry, backend and
    // store: binding it first tells the API's dispatcher where the proxy
    // listens when its port is 0.
    let proxy_dispatcher = Dispatcher::new(
        registry.clone(),
        Arc::new(backend.clone()),
        store.clone(),
        DispatchSettings::default(),
    );
    let proxy = ProxyServer::bind(
        proxy_dispatcher,
        ProxySettings::default(),
        vec![ListenerConfig::new(options.proxy_listen, ["novnc"])],
    )
    .await?;
    let proxy_addr = proxy.local_addrs()[0];
    let base_url = match options.proxy_base_url {
        Some(url) => url,
        None => Url::parse(&format!("http://{proxy_addr}/vnc_lite.html"))?,
    };
    let novnc = TypeSettings {
        enabled: true,
        base_url: Some(base_url),
        ..TypeSettings::default()
    };
    let settings = DispatchSettings {
        types: HashMap::from([("novnc".to_owned(), novnc)]),
        ..DispatchSettings::default()
    };
    let dispatcher = Dispatcher::new(registry, Arc::new(backend.clone()), store, settings);

    let identity: Arc<dyn IdentityProvider> = Arc::new(ApiKeys::new(pool.clone()));
    let app = routes::routes(routes::AppState {
        pool,
        backend,
        identity: identity.clone(),
    })
    .nest(
        CONSOLED_PREFIX,
        consoled_api::router(ApiState::new(dispatcher, identity)),
    );
    let listener = tokio::net::TcpListener::bind(options.listen).await?;
    let api_addr = listener.local_addr()?;

    let stop = stop_on_signals()?;
    let stopped = |mut stop: watch::Receiver<bool>| async move {
        let _ = stop.wait_for(|s| *s).await;
    };
    println!(
        "ready api=http://{api_addr}{CONSOLED_PREFIX}/v2.1 servers=http://{api_addr}/servers \
         proxy={proxy_addr}"
    );
    let api = axum::serve(listener, app).with_graceful_shutdown(stopped(stop.clone()));
    let (api, proxy) = tokio::join!(api, proxy.run(stopped(stop)));
    api?;
    proxy?;
    Ok(())
}

/// A flag that turns true at SIGINT or SIGTERM.
fn stop_on_signals() -> std::io::Result<watch::Receiver<bool>> {
    use tokio::signal::unix::{signal, SignalKind};
    let mut term = signal(SignalKind::terminate())?;
    let (tx, rx) = watch::channel(false);
    tokio::spawn(async move {
        tokio::select! {
            _ = tokio::signal::ctrl_c() => {}
            _ = term.recv() => {}
        }
        let _ = tx.send(true);
    });
    Ok(rx)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn api_keys_name_user_project_and_roles() {
        let k = parse_key("k=alice:demo:Member, admin").unwrap();
        assert_eq!((k.key.as_str(), k.user_id.as_str()), ("k", "alice"));
        assert_eq!(
            (k.project_id.as_str(), k.roles.clone()),
            ("demo", vec!["member".to_owned(), "admin".to_owned()])
        );
        for bad in [
            "k",
            "k=alice:demo",
            "=alice:demo:member",
            "k=:demo:member",
            "k=a:p:member,",
        ] {
            assert!(parse_key(bad).is_err(), "{bad}");
        }
    }
}
