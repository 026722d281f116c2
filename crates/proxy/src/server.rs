//! The public entry: bind every listener, run them, shut them down.

use std::collections::HashMap;
use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;

use consoled_core::{Dispatcher, Front};
use tokio::net::TcpListener;
use tokio::sync::Semaphore;
use tokio::task::{JoinError, JoinSet};

use crate::claims::Claims;
use crate::config::{ListenerConfig, ProxySettings};
use crate::context::ListenerContext;
use crate::error::ProxyError;
use crate::listener::Listener;
use crate::live::LiveSessions;
use crate::metrics::ProxyMetrics;
use crate::pages::{default_web_root, Pages};
use crate::recording::{Recorder, RecordingSettings};
use crate::serial_hub::SerialHubs;
use crate::shutdown::ShutdownTrigger;
use crate::tls;

/// The console proxies of one process: every configured listener, bound
/// and ready to [`run`](ProxyServer::run).
///
/// # Example
///
/// Bind first (port 0 picks a free port), read the bound addresses, then
/// serve until a shutdown future resolves:
///
/// ```no_run
/// use consoled_core::Dispatcher;
/// use consoled_proxy::{ListenerConfig, ProxyError, ProxyServer, ProxySettings};
///
/// async fn serve(dispatcher: Dispatcher) -> Result<(), ProxyError> {
///     let settings = ProxySettings {
///         allowed_origins: vec!["dashboard.example.com".into()],
///         ..ProxySettings::default()
///     };
///     let novnc = ListenerConfig::new("127.0.0.1:0".parse().unwrap(), ["novnc"])
///         .with_web_root("/usr/share/novnc");
///     let server = ProxyServer::bind(dispatcher, settings, vec![novnc]).await?;
///     println!("novnc proxy on {}", server.local_addrs()[0]);
///     server.run(async { let _ = tokio::signal::ctrl_c().await; }).await
/// }
/// ```
pub struct ProxyServer {
    listeners: Vec<Listener>,
    settings: Arc<ProxySettings>,
    stop_accepting: ShutdownTrigger,
}

impl ProxyServer {
    /// Checks the configuration and binds every listener.
    ///
    /// Each listener's types must have a linked driver (looked up in
    /// `dispatcher`'s registry) whose front is ours (WebSocket or raw TCP);
    /// its TLS files must load and its web root, when set, must be a
    /// directory.
    ///
    /// # Errors
    /// [`ProxyError::Settings`] for settings that cannot be honoured, else
    /// the [`ProxyError`] of the first listener that fails a check or
    /// cannot be bound. Nothing is left listening then.
    pub async fn bind(
        dispatcher: Dispatcher,
        settings: ProxySettings,
        listeners: Vec<ListenerConfig>,
    ) -> Result<ProxyServer, ProxyError> {
        settings.validate().map_err(ProxyError::Settings)?;
        if listeners.is_empty() {
            return Err(ProxyError::NoListeners);
        }
        let trusted_proxies = Arc::new(
            crate::client_addr::parse_trusted(&settings.trusted_proxies).unwrap_or_default(),
        );
        let live = LiveSessions::start(
            &settings.node(),
            Arc::clone(dispatcher.revoker().directory()),
        );
        let claims = Arc::new(Claims::default());
        let serial_hubs = Arc::new(SerialHubs::default());
        let settings = Arc::new(settings);
        let stop_accepting = ShutdownTrigger::new();
        let mut bound = Vec::with_capacity(listeners.len());
        for config in listeners {
            let fronts = fronts_of(&dispatcher, &config)?;
            let tls_files = config.tls().map_err(|e| {
                ProxyError::Settings(e.under(&format!("listeners[{}]", bound.len())))
            })?;
            let tls = tls_files.as_ref().map(tls::acceptor).transpose()?;
            let web_root = match config.web_root {
                Some(root) if root.is_dir() => Some(root),
                Some(root) => return Err(ProxyError::WebRoot { path: root }),
                None => default_web_root(&config.types),
            };
            let tcp =
                TcpListener::bind(config.listen)
                    .await
                    .map_err(|source| ProxyError::Bind {
                        listen: config.listen,
                        source,
                    })?;
            let listen = tcp.local_addr().map_err(|source| ProxyError::Bind {
                listen: config.listen,
                source,
            })?;
            let close_sessions = ShutdownTrigger::new();
            let ctx = ListenerContext {
                listen,
                dispatcher: dispatcher.clone(),
                settings: settings.clone(),
                types: config.types,
                fronts,
                pages: web_root.map(Pages::new),
                sessions: Arc::new(Semaphore::new(settings.max_sessions)),
                draining: stop_accepting.signal(),
                closing: close_sessions.signal(),
                live: live.clone(),
                trusted_proxies: Arc::clone(&trusted_proxies),
                claims: Arc::clone(&claims),
                serial_hubs: Arc::clone(&serial_hubs),
                metrics: None,
                recorder: None,
            };
            tracing::info!(
                listener = %listen,
                types = ?ctx.types,
                tls = tls.is_some(),
                web_root = ?ctx.pages.as_ref().map(Pages::root),
                "console proxy listening"
            );
            bound.push(Listener {
                tcp,
                tls,
                ctx,
                close_sessions,
            });
        }
        Ok(ProxyServer {
            listeners: bound,
            settings,
            stop_accepting,
        })
    }

    /// Counts every listener's sessions, refusals and bytes in `metrics`
    /// (without it, nothing is counted and no session keeps a publishing
    /// timer).
    pub fn with_metrics(mut self, metrics: Arc<ProxyMetrics>) -> Self {
        for listener in &mut self.listeners {
            listener.ctx.metrics = Some(Arc::clone(&metrics));
        }
        self
    }

    /// Records the sessions `settings` name into files of its `dir` (no
    /// `dir`: nothing is recorded, and sessions get no tap at all). The
    /// folder is made (0700) when missing.
    ///
    /// # Errors
    /// [`ProxyError::Settings`] for a refused setting
    /// (`recording.types[0]: ...`); [`ProxyError::RecordingDir`] when the
    /// folder cannot be made.
    pub fn with_recording(mut self, settings: RecordingSettings) -> Result<Self, ProxyError> {
        let recorder = Recorder::new(settings)?.map(Arc::new);
        for listener in &mut self.listeners {
            listener.ctx.recorder.clone_from(&recorder);
        }
        Ok(self)
    }

    /// The bound addresses, in the order the listeners were configured
    /// (with the OS's choice where a port was 0).
    pub fn local_addrs(&self) -> Vec<SocketAddr> {
        self.listeners.iter().map(|l| l.ctx.listen).collect()
    }

    /// Serves until `shutdown` resolves, then shuts down gracefully: stops
    /// accepting at once, lets open sessions finish within
    /// [`ProxySettings::shutdown_grace`], then closes the rest (WebSocket
    /// clients get close code 1001) and returns.
    ///
    /// # Errors
    /// [`ProxyError::Listener`] when a listener's task died (a bug); the
    /// other listeners are shut down first.
    pub async fn run(self, shutdown: impl Future<Output = ()>) -> Result<(), ProxyError> {
        let grace = self.settings.shutdown_grace;
        let mut tasks = JoinSet::new();
        let mut names = HashMap::new();
        for listener in self.listeners {
            let listen = listener.ctx.listen;
            let draining = self.stop_accepting.signal();
            let task = tasks.spawn(listener.run(draining, grace));
            names.insert(task.id(), listen);
        }
        let mut failure = None;
        let mut record = |done: Result<(), JoinError>| {
            if let Err(e) = done {
                let listen = names
                    .get(&e.id())
                    .copied()
                    .unwrap_or_else(|| SocketAddr::from(([0, 0, 0, 0], 0)));
                tracing::error!(listener = %listen, error = %e, "proxy listener died");
                failure.get_or_insert(ProxyError::Listener {
                    listen,
                    reason: e.to_string(),
                });
            }
        };
        tokio::select! {
            () = shutdown => tracing::info!("console proxy shutting down"),
            // Listeners only return once told to stop: this one died.
            Some(done) = tasks.join_next() => record(done),
        }
        self.stop_accepting.fire();
        while let Some(done) = tasks.join_next().await {
            record(done);
        }
        failure.map_or(Ok(()), Err)
    }
}

fn fronts_of(dispatcher: &Dispatcher, config: &ListenerConfig) -> Result<Vec<Front>, ProxyError> {
    if config.types.is_empty() {
        return Err(ProxyError::NoTypes {
            listen: config.listen,
        });
    }
    let registry = dispatcher.registry();
    let mut fronts = Vec::new();
    for console_type in &config.types {
        let Some(driver) = registry.by_type(console_type) else {
            let available: Vec<&str> = registry
                .descriptors()
                .iter()
                .map(|d| d.console_type)
                .collect();
            return Err(ProxyError::NoDriver {
                listen: config.listen,
                console_type: console_type.clone(),
                available: if available.is_empty() {
                    "none".into()
                } else {
                    available.join(", ")
                },
            });
        };
        match driver.descriptor().front {
            Front::External => {
                return Err(ProxyError::ExternalFront {
                    listen: config.listen,
                    console_type: console_type.clone(),
                })
            }
            front if !fronts.contains(&front) => fronts.push(front),
            _ => {}
        }
    }
    Ok(fronts)
}
