//! A fault in one call (a panicking or stalling driver, a slow or down
//! backend or store) fails that call alone, with a 500 or 503, and the
//! dispatcher keeps serving.

use std::sync::Arc;
use std::time::Duration;

use consoled_core::{
    async_trait, with_token_query, BackendStream, ConnectInfo, ConsoleDriver, ConsoleError,
    DispatchSettings, Dispatcher, DriverDescriptor, Identity, MemoryTokenStore, Registry, Server,
    StoreError, Token, TokenHash, TokenRecord, TokenStore, Url,
};
use consoled_driver_vnc_novnc::NoVncDriver;
use consoled_testkit::{FakeBackend, ServerBuilder};

/// How a test driver misbehaves in `connect_info`.
#[derive(Clone, Copy)]
enum Fault {
    Panic,
    Stall,
}

/// A serial/serial driver that fails in the way it is told to.
struct Faulty(Fault);

const FAULTY: DriverDescriptor =
    DriverDescriptor::new("serial", "serial", "faults-test", "ws://127.0.0.1:6083/");

#[async_trait]
impl ConsoleDriver for Faulty {
    fn descriptor(&self) -> &DriverDescriptor {
        &FAULTY
    }
    async fn connect_info(&self, _server: &Server) -> Result<ConnectInfo, ConsoleError> {
        match self.0 {
            Fault::Panic => panic!("driver bug at faulty.rs:1"),
            Fault::Stall => std::future::pending().await,
        }
    }
    fn access_url(&self, base: &Url, token: &Token) -> Result<Url, ConsoleError> {
        Ok(with_token_query(base, token))
    }
    async fn connect(&self, _record: &TokenRecord) -> Result<BackendStream, ConsoleError> {
        Err(ConsoleError::ServiceUnavailable("never connects".into()))
    }
}

/// A store that cannot be reached.
struct DownStore;

#[async_trait]
impl TokenStore for DownStore {
    async fn authorize(&self, _record: TokenRecord) -> Result<(), StoreError> {
        Err(StoreError::Unavailable("connection refused".into()))
    }
    async fn validate(&self, _hash: &TokenHash) -> Result<Option<TokenRecord>, StoreError> {
        Err(StoreError::Unavailable("connection refused".into()))
    }
    async fn revoke_server(&self, _instance_uuid: &str) -> Result<usize, StoreError> {
        Err(StoreError::Unavailable("connection refused".into()))
    }
    async fn purge_expired(&self) -> Result<usize, StoreError> {
        Err(StoreError::Unavailable("connection refused".into()))
    }
}

const CALL_TIMEOUT: Duration = Duration::from_secs(2);

fn dispatcher(fault: Fault, backend: Arc<FakeBackend>, store: Arc<dyn TokenStore>) -> Dispatcher {
    let registry = Registry::builder()
        .register(Arc::new(NoVncDriver))
        .register(Arc::new(Faulty(fault)))
        .build()
        .unwrap();
    let settings = DispatchSettings {
        call_timeout: CALL_TIMEOUT,
        ..DispatchSettings::default()
    };
    Dispatcher::new(Arc::new(registry), backend, store, settings)
}

fn backend() -> Arc<FakeBackend> {
    Arc::new(
        FakeBackend::new().with(
            ServerBuilder::new("vm-1", "web")
                .vnc("127.0.0.1", 5900)
                .serial("127.0.0.1", 7000),
        ),
    )
}

fn member() -> Identity {
    Identity::new("alice", "demo", ["member"])
}

#[tokio::test]
async fn a_panicking_driver_is_500_for_that_call_only() {
    let d = dispatcher(Fault::Panic, backend(), Arc::new(MemoryTokenStore::new()));
    for _ in 0..2 {
        let err = d
            .create_console(&member(), "vm-1", "serial", "serial")
            .await
            .unwrap_err();
        assert_eq!(err.status(), 500);
        assert!(err.to_string().contains("panicked"), "{err}");
        assert!(
            !err.public_message().contains("faulty.rs"),
            "internals stay private"
        );
        d.create_console(&member(), "vm-1", "vnc", "novnc")
            .await
            .expect("the other driver keeps serving");
    }
}

#[tokio::test(start_paused = true)]
async fn a_stalling_driver_is_503_after_the_call_timeout() {
    let d = dispatcher(Fault::Stall, backend(), Arc::new(MemoryTokenStore::new()));
    let started = tokio::time::Instant::now();
    let err = d
        .create_console(&member(), "vm-1", "serial", "serial")
        .await
        .unwrap_err();
    assert_eq!(err.status(), 503, "{err}");
    assert!(started.elapsed() >= CALL_TIMEOUT);
    d.create_console(&member(), "vm-1", "vnc", "novnc")
        .await
        .unwrap();
}

#[tokio::test(start_paused = true)]
async fn a_stalling_backend_is_503_after_the_call_timeout() {
    let backend = backend();
    let d = dispatcher(
        Fault::Panic,
        backend.clone(),
        Arc::new(MemoryTokenStore::new()),
    );
    backend.set_delay(Some(Duration::from_secs(3600)));
    let err = d
        .create_console(&member(), "vm-1", "vnc", "novnc")
        .await
        .unwrap_err();
    assert_eq!(err.status(), 503, "{err}");
    assert!(err.to_string().contains("server backend"), "{err}");
    backend.set_delay(None);
    d.create_console(&member(), "vm-1", "vnc", "novnc")
        .await
        .unwrap();
}

#[tokio::test]
async fn a_backend_that_is_down_is_503() {
    let backend = backend();
    let d = dispatcher(
        Fault::Panic,
        backend.clone(),
        Arc::new(MemoryTokenStore::new()),
    );
    backend.set_down(true);
    let err = d
        .create_console(&member(), "vm-1", "vnc", "novnc")
        .await
        .unwrap_err();
    assert_eq!(err.status(), 503, "{err}");
    backend.set_down(false);
    d.create_console(&member(), "vm-1", "vnc", "novnc")
        .await
        .unwrap();
}

#[tokio::test]
async fn a_store_that_is_down_is_503() {
    let d = dispatcher(Fault::Panic, backend(), Arc::new(DownStore));
    let err = d
        .create_console(&member(), "vm-1", "vnc", "novnc")
        .await
        .unwrap_err();
    assert_eq!(err.status(), 503, "{err}");
    let err = d.validate_token(&Token::new("anything")).await.unwrap_err();
    assert_eq!(err.status(), 503, "{err}");
    assert!(
        !err.to_string().contains("anything"),
        "no token in messages"
    );
}
