//! A proxy on real sockets for end-to-end tests: the real drivers, a
//! dispatcher over the test kit's fake backend, and client helpers.

#![allow(dead_code)] // each test file uses its own subset

mod clients;
mod temp;

#[allow(unused_imports)]
pub use clients::*;
#[allow(unused_imports)]
pub use consoled_testkit::WsIo;
#[allow(unused_imports)]
pub use temp::TempDir;

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use consoled_core::{
    DispatchSettings, Dispatcher, Identity, MemoryTokenStore, Registry, Server, SessionMode,
    TypeSettings, Url,
};
use consoled_driver_mks::WebMksDriver;
use consoled_driver_rdp::RdpHtml5Driver;
use consoled_driver_serial::SerialDriver;
use consoled_driver_spice::{SpiceDirectDriver, SpiceHtml5Driver};
use consoled_driver_vnc_novnc::NoVncDriver;
use consoled_driver_vnc_xvpvnc::XvpVncDriver;
use consoled_proxy::{ListenerConfig, ProxyError, ProxyServer, ProxySettings, RecordingSettings};
use consoled_testkit::{FakeBackend, FixedClock, SerialEcho, ServerBuilder};
use tokio::sync::oneshot;
use tokio::task::JoinHandle;

/// Bounds every wait, only so that a broken test fails instead of hanging.
pub const LIMIT: Duration = Duration::from_secs(30);

/// Every driver of the workspace, listed by hand.
pub fn registry() -> Arc<Registry> {
    let registry = Registry::builder()
        .register(Arc::new(NoVncDriver))
        .register(Arc::new(XvpVncDriver))
        .register(Arc::new(SerialDriver))
        .register(Arc::new(SpiceHtml5Driver))
        .register(Arc::new(SpiceDirectDriver))
        .register(Arc::new(RdpHtml5Driver))
        .register(Arc::new(WebMksDriver::default()))
        .build()
        .expect("no duplicate drivers");
    Arc::new(registry)
}

/// A dispatcher over `backend` with an in-memory store, on `clock` when
/// given.
pub fn dispatcher(
    backend: Arc<FakeBackend>,
    settings: DispatchSettings,
    clock: Option<Arc<FixedClock>>,
) -> Dispatcher {
    match clock {
        Some(clock) => {
            let store = Arc::new(MemoryTokenStore::with_clock(clock.clone(), 1000));
            Dispatcher::new(registry(), backend, store, settings).with_clock(clock)
        }
        None => Dispatcher::new(
            registry(),
            backend,
            Arc::new(MemoryTokenStore::new()),
            settings,
        ),
    }
}

/// Builds a [`Proxy`].
pub struct ProxyBuilder {
    settings: ProxySettings,
    dispatch: DispatchSettings,
    clock: Option<Arc<FixedClock>>,
    listeners: Vec<ListenerConfig>,
    recording: Option<RecordingSettings>,
}

impl ProxyBuilder {
    /// Default settings, no listener yet.
    pub fn new() -> Self {
        ProxyBuilder {
            settings: ProxySettings::default(),
            dispatch: DispatchSettings::default(),
            clock: None,
            listeners: Vec::new(),
            recording: None,
        }
    }

    /// Records sessions as `recording` says.
    pub fn recording(mut self, recording: RecordingSettings) -> Self {
        self.recording = Some(recording);
        self
    }

    /// Adds a plain listener on 127.0.0.1:0 for `types`.
    pub fn listener(self, types: &[&str]) -> Self {
        self.listener_config(ListenerConfig::new(
            SocketAddr::from(([127, 0, 0, 1], 0)),
            types.iter().copied(),
        ))
    }

    /// Adds a listener.
    pub fn listener_config(mut self, config: ListenerConfig) -> Self {
        self.listeners.push(config);
        self
    }

    /// Adjusts the proxy settings.
    pub fn settings(mut self, adjust: impl FnOnce(&mut ProxySettings)) -> Self {
        adjust(&mut self.settings);
        self
    }

    /// What a second session of `console_type` does.
    pub fn sessions(mut self, console_type: &str, mode: SessionMode) -> Self {
        self.dispatch.types.insert(
            console_type.to_owned(),
            TypeSettings {
                sessions: mode,
                ..TypeSettings::default()
            },
        );
        self
    }

    /// Sets the token lifetime.
    pub fn token_ttl(mut self, ttl: Duration) -> Self {
        self.dispatch.tokens.ttl = ttl;
        self
    }

    /// Puts the dispatcher and store on a fixed clock.
    pub fn clock(mut self, clock: Arc<FixedClock>) -> Self {
        self.clock = Some(clock);
        self
    }

    /// Binds and runs the proxy.
    pub async fn start(self) -> Proxy {
        let backend = Arc::new(FakeBackend::new());
        let dispatcher = dispatcher(backend.clone(), self.dispatch, self.clock);
        let mut server = ProxyServer::bind(dispatcher.clone(), self.settings, self.listeners)
            .await
            .expect("proxy binds");
        if let Some(recording) = self.recording {
            server = server.with_recording(recording).expect("recording starts");
        }
        let addrs = server.local_addrs();
        let (stop, stopped) = oneshot::channel::<()>();
        let task = tokio::spawn(server.run(async move {
            let _ = stopped.await;
        }));
        Proxy {
            dispatcher,
            backend,
            addrs,
            stop: Some(stop),
            task: Some(task),
            servers: 0,
        }
    }
}

/// A running proxy.
pub struct Proxy {
    /// The dispatcher it validates tokens with (and tests mint with).
    pub dispatcher: Dispatcher,
    /// Where servers come from.
    pub backend: Arc<FakeBackend>,
    addrs: Vec<SocketAddr>,
    stop: Option<oneshot::Sender<()>>,
    task: Option<JoinHandle<Result<(), ProxyError>>>,
    servers: usize,
}

impl Proxy {
    /// The address of listener `i`.
    pub fn addr(&self, i: usize) -> SocketAddr {
        self.addrs[i]
    }

    /// Adds `server` to the backend and creates a console of it, as the
    /// compute API would; returns the access URL.
    pub async fn mint(&self, server: impl Into<Server>, protocol: &str, console_type: &str) -> Url {
        let server = server.into();
        let id = server.id.clone();
        self.backend.insert(server);
        let caller = Identity::new("alice", "demo", ["member"]);
        self.dispatcher
            .create_console(&caller, &id, protocol, console_type)
            .await
            .expect("console created")
            .url
    }

    /// Creates a serial console of server 1, whose serial endpoint is
    /// `echo`; returns the access URL.
    pub async fn mint_serial(&self, echo: &SerialEcho) -> Url {
        let server = ServerBuilder::new(server_id(1), "vm").serial("127.0.0.1", echo.addr().port());
        self.mint(server, "serial", "serial").await
    }

    /// Tells the proxy to shut down.
    pub fn begin_shutdown(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
    }

    /// Shuts the proxy down and returns what `run` returned.
    pub async fn shutdown(mut self) -> Result<(), ProxyError> {
        self.begin_shutdown();
        let task = self.task.take().expect("running");
        tokio::time::timeout(LIMIT, task)
            .await
            .expect("run returned in time")
            .expect("run did not panic")
    }
}

impl Drop for Proxy {
    fn drop(&mut self) {
        if let Some(task) = &self.task {
            task.abort();
        }
    }
}

/// A server id unique within a test.
pub fn server_id(n: u32) -> String {
    format!("00000000-0000-4000-8000-{n:012}")
}

/// A started proxy (`builder` names its serial listener), its serial echo
/// backend, and the request target of a fresh serial console's URL.
pub async fn serial_console(builder: ProxyBuilder) -> (Proxy, SerialEcho, String) {
    let echo = SerialEcho::start().await.unwrap();
    let proxy = builder.start().await;
    let url = proxy.mint_serial(&echo).await;
    (proxy, echo, console_target(&url))
}
