//! What `create_console` stores: the token's hash and Nova's record, for
//! the configured lifetime.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use consoled_core::{
    async_trait, DispatchSettings, Dispatcher, Identity, MemoryTokenStore, Registry, StoreError,
    Token, TokenHash, TokenRecord, TokenStore,
};
use consoled_driver_serial::SerialDriver;
use consoled_driver_vnc_novnc::NoVncDriver;
use consoled_testkit::{FakeBackend, FixedClock, ServerBuilder};

/// A memory store that also keeps a copy of every record it is given, so
/// the test can look at exactly what reached the store.
struct Recording {
    inner: MemoryTokenStore,
    seen: Mutex<Vec<TokenRecord>>,
}

#[async_trait]
impl TokenStore for Recording {
    async fn authorize(&self, record: TokenRecord) -> Result<(), StoreError> {
        self.seen.lock().unwrap().push(record.clone());
        self.inner.authorize(record).await
    }
    async fn validate(&self, hash: &TokenHash) -> Result<Option<TokenRecord>, StoreError> {
        self.inner.validate(hash).await
    }
    async fn revoke_server(&self, instance_uuid: &str) -> Result<usize, StoreError> {
        self.inner.revoke_server(instance_uuid).await
    }
    async fn purge_expired(&self) -> Result<usize, StoreError> {
        self.inner.purge_expired().await
    }
}

const START: u64 = 1_700_000_000;

fn setup(ttl: Duration) -> (Dispatcher, Arc<Recording>, Arc<FixedClock>) {
    let clock = FixedClock::at(START);
    let store = Arc::new(Recording {
        inner: MemoryTokenStore::with_clock(clock.clone(), 1000),
        seen: Mutex::new(Vec::new()),
    });
    let registry = Registry::builder()
        .register(Arc::new(NoVncDriver))
        .register(Arc::new(SerialDriver))
        .build()
        .unwrap();
    let backend = FakeBackend::new().with(
        ServerBuilder::new("vm-1", "web")
            .vnc("10.1.2.3", 5900)
            .serial("10.1.2.3", 7000),
    );
    let settings = DispatchSettings {
        tokens: consoled_core::TokenSettings { ttl },
        ..DispatchSettings::default()
    };
    // The default OS token source: real, unpredictable tokens.
    let dispatcher = Dispatcher::new(
        Arc::new(registry),
        Arc::new(backend),
        store.clone(),
        settings,
    )
    .with_clock(clock.clone());
    (dispatcher, store, clock)
}

fn member() -> Identity {
    Identity::new("alice", "demo", ["member"])
}

fn token_of(url: &consoled_core::Url) -> Token {
    let value = url
        .query_pairs()
        .find(|(k, _)| k == "token")
        .map(|(_, v)| v.into_owned())
        .expect("token parameter");
    Token::new(value)
}

#[tokio::test]
async fn only_the_hash_of_the_token_is_stored() {
    let (dispatcher, store, _) = setup(Duration::from_secs(600));
    let console = dispatcher
        .create_console(&member(), "vm-1", "serial", "serial")
        .await
        .unwrap();
    let token = token_of(&console.url);
    assert!(token.expose().len() >= 32, "a real token, not an empty one");

    let seen = store.seen.lock().unwrap().clone();
    assert_eq!(seen.len(), 1);
    let record = &seen[0];
    assert_eq!(record.token_hash, token.hash());
    assert_eq!(record.instance_uuid, "vm-1");
    assert_eq!(
        (record.protocol.as_str(), record.console_type.as_str()),
        ("serial", "serial")
    );
    assert_eq!(
        (record.connect.host.as_str(), record.connect.port),
        ("10.1.2.3", 7000)
    );
    assert_eq!(record.access_url_base, "ws://127.0.0.1:6083/");

    // Nothing in the record, in any field, is the token's text.
    let at_rest = serde_json::to_string(record).unwrap();
    assert!(
        !at_rest.contains(token.expose()),
        "token text stored: {at_rest}"
    );
    assert!(!format!("{record:?}").contains(token.expose()));

    let found = dispatcher
        .validate_token(&token)
        .await
        .unwrap()
        .expect("valid");
    assert_eq!(&found, record);
    let forged = Token::new(format!("{}x", token.expose()));
    assert_eq!(dispatcher.validate_token(&forged).await.unwrap(), None);
}

#[tokio::test]
async fn novnc_token_inside_path_is_the_stored_one() {
    let (dispatcher, store, _) = setup(Duration::from_secs(600));
    let console = dispatcher
        .create_console(&member(), "vm-1", "vnc", "novnc")
        .await
        .unwrap();
    let path = console
        .url
        .query_pairs()
        .find(|(k, _)| k == "path")
        .map(|(_, v)| v.into_owned())
        .expect("path parameter");
    let inner = path.strip_prefix("?token=").expect("token inside path");
    let token = Token::new(inner);
    assert_eq!(store.seen.lock().unwrap()[0].token_hash, token.hash());
    assert!(dispatcher.validate_token(&token).await.unwrap().is_some());
}

#[tokio::test]
async fn tokens_live_as_long_as_the_settings_say() {
    let (dispatcher, store, clock) = setup(Duration::from_secs(90));
    let console = dispatcher
        .create_console(&member(), "vm-1", "serial", "serial")
        .await
        .unwrap();
    let token = token_of(&console.url);
    assert_eq!(store.seen.lock().unwrap()[0].expires_at, START + 90);

    // Valid for many connections until it expires...
    clock.advance(Duration::from_secs(89));
    for _ in 0..3 {
        assert!(dispatcher.validate_token(&token).await.unwrap().is_some());
    }
    // ...and void from its expiry on.
    clock.advance(Duration::from_secs(1));
    assert_eq!(dispatcher.validate_token(&token).await.unwrap(), None);
}

#[tokio::test]
async fn every_console_gets_its_own_token() {
    let (dispatcher, store, _) = setup(Duration::from_secs(600));
    let a = dispatcher
        .create_console(&member(), "vm-1", "serial", "serial")
        .await
        .unwrap();
    let b = dispatcher
        .create_console(&member(), "vm-1", "serial", "serial")
        .await
        .unwrap();
    assert_ne!(token_of(&a.url), token_of(&b.url));
    assert_eq!(store.inner.len(), 2);
}
