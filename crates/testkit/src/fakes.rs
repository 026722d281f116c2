//! Fakes of the core's boundaries: a backend, a clock, a token source.

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use consoled_core::{
    async_trait, BackendError, Clock, Endpoint, Server, ServerBackend, Token, TokenSource,
};

/// A server backend built fluently from servers in memory.
///
/// ```
/// use consoled_testkit::{FakeBackend, ServerBuilder};
/// let backend = FakeBackend::new()
///     .with(ServerBuilder::new("c6d5a3a0-9f4e-4b8e-9a4e-0d1f6a1e2b3c", "web-1").vnc("127.0.0.1", 5901));
/// ```
#[derive(Default)]
pub struct FakeBackend {
    servers: Mutex<BTreeMap<String, Server>>,
    down: std::sync::atomic::AtomicBool,
    delay: Mutex<Option<Duration>>,
}

impl FakeBackend {
    /// An empty backend.
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds a server.
    pub fn with(self, server: impl Into<Server>) -> Self {
        self.insert(server.into());
        self
    }

    /// Adds or replaces a server.
    ///
    /// # Panics
    /// When a test thread panicked while holding the lock (poisoned).
    pub fn insert(&self, server: Server) {
        self.servers
            .lock()
            .unwrap()
            .insert(server.id.clone(), server);
    }

    /// Removes a server.
    ///
    /// # Panics
    /// When a test thread panicked while holding the lock (poisoned).
    pub fn remove(&self, id: &str) {
        self.servers.lock().unwrap().remove(id);
    }

    /// Makes every call fail as a backend outage would.
    pub fn set_down(&self, down: bool) {
        self.down.store(down, Ordering::SeqCst);
    }

    /// Makes every call wait this long first (timeouts).
    ///
    /// # Panics
    /// When a test thread panicked while holding the lock (poisoned).
    pub fn set_delay(&self, delay: Option<Duration>) {
        *self.delay.lock().unwrap() = delay;
    }

    async fn before_call(&self) -> Result<(), BackendError> {
        let delay = *self.delay.lock().unwrap();
        if let Some(d) = delay {
            tokio::time::sleep(d).await;
        }
        if self.down.load(Ordering::SeqCst) {
            return Err(BackendError("fake backend is down".into()));
        }
        Ok(())
    }
}

#[async_trait]
impl ServerBackend for FakeBackend {
    async fn get_server(&self, id: &str) -> Result<Option<Server>, BackendError> {
        self.before_call().await?;
        Ok(self.servers.lock().unwrap().get(id).cloned())
    }

    async fn list_servers(&self) -> Result<Vec<Server>, BackendError> {
        self.before_call().await?;
        Ok(self.servers.lock().unwrap().values().cloned().collect())
    }
}

/// Builds a [`Server`]: active, scheduled on `compute-1`, in project `demo`,
/// with no console until one is added.
#[derive(Debug, Clone)]
pub struct ServerBuilder {
    server: Server,
}

impl ServerBuilder {
    /// A server with this id and name.
    pub fn new(id: impl Into<String>, name: impl Into<String>) -> Self {
        ServerBuilder {
            server: Server {
                id: id.into(),
                name: name.into(),
                project_id: "demo".into(),
                status: "ACTIVE".into(),
                task_state: None,
                host: Some("compute-1".into()),
                consoles: BTreeMap::new(),
            },
        }
    }

    /// Sets the owning project.
    pub fn project(mut self, project_id: impl Into<String>) -> Self {
        self.server.project_id = project_id.into();
        self
    }

    /// Sets the status (`ACTIVE`, `BUILD`, ...).
    pub fn status(mut self, status: impl Into<String>) -> Self {
        self.server.status = status.into();
        self
    }

    /// Sets the task state (`deleting`, `migrating`, ...).
    pub fn task_state(mut self, task: impl Into<String>) -> Self {
        self.server.task_state = Some(task.into());
        self
    }

    /// Sets or clears (`None`: not scheduled yet) the compute host.
    pub fn host(mut self, host: Option<&str>) -> Self {
        self.server.host = host.map(str::to_owned);
        self
    }

    /// Adds an endpoint for `protocol`.
    pub fn console(mut self, protocol: &str, endpoint: Endpoint) -> Self {
        self.server.consoles.insert(protocol.to_owned(), endpoint);
        self
    }

    /// Adds a plain `host:port` endpoint for `protocol`.
    pub fn endpoint(self, protocol: &str, host: &str, port: u16) -> Self {
        self.console(
            protocol,
            Endpoint {
                host: host.into(),
                port,
                tls_port: None,
                internal_access_path: None,
                unix_socket: None,
            },
        )
    }

    /// Adds a VNC endpoint.
    pub fn vnc(self, host: &str, port: u16) -> Self {
        self.endpoint("vnc", host, port)
    }

    /// Adds a serial endpoint.
    pub fn serial(self, host: &str, port: u16) -> Self {
        self.endpoint("serial", host, port)
    }

    /// The server.
    pub fn build(self) -> Server {
        self.server
    }
}

impl From<ServerBuilder> for Server {
    fn from(b: ServerBuilder) -> Server {
        b.build()
    }
}

/// A clock that stands still until told to move.
#[derive(Debug)]
pub struct FixedClock {
    now: Mutex<SystemTime>,
}

impl FixedClock {
    /// A clock at `unix_seconds` past the epoch.
    pub fn at(unix_seconds: u64) -> Arc<Self> {
        Arc::new(FixedClock {
            now: Mutex::new(UNIX_EPOCH + Duration::from_secs(unix_seconds)),
        })
    }

    /// Moves the clock forward.
    ///
    /// # Panics
    /// When a test thread panicked while holding the lock (poisoned).
    pub fn advance(&self, by: Duration) {
        *self.now.lock().unwrap() += by;
    }
}

impl Clock for FixedClock {
    fn now(&self) -> SystemTime {
        *self.now.lock().unwrap()
    }
}

/// Tokens `token-1`, `token-2`, ... (or with another prefix): predictable
/// URLs in tests.
#[derive(Debug)]
pub struct SequentialTokens {
    prefix: String,
    next: AtomicU64,
}

impl SequentialTokens {
    /// Tokens `<prefix>-1`, `<prefix>-2`, ...
    pub fn new(prefix: impl Into<String>) -> Arc<Self> {
        Arc::new(SequentialTokens {
            prefix: prefix.into(),
            next: AtomicU64::new(1),
        })
    }
}

impl TokenSource for SequentialTokens {
    fn generate(&self) -> Token {
        let n = self.next.fetch_add(1, Ordering::SeqCst);
        Token::new(format!("{}-{n}", self.prefix))
    }
}
