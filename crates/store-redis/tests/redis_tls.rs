//! The Redis token store over TLS with a private CA and a client
//! certificate, and logging in as an ACL user: one TLS-only redis-server
//! for every test of this binary.

use std::io::Write;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime};

use consoled_core::{unix_seconds, ConnectInfo, StoreError, Token, TokenRecord, TokenStore};
use consoled_store_redis::{RedisSettings, RedisTokenStore};
use consoled_testkit::store_suite::run_token_store_suite;
use consoled_testkit::RedisTlsServer;

const TIMEOUT: Duration = Duration::from_secs(2);

async fn server() -> &'static RedisTlsServer {
    tokio::task::spawn_blocking(RedisTlsServer::shared)
        .await
        .expect("start the TLS redis-server")
}

/// What an operator writes: the URL, the CA, the client certificate.
fn settings(server: &RedisTlsServer, url: String) -> RedisSettings {
    RedisSettings {
        redis_url: url,
        redis_ca_cert: Some(server.file("ca.pem")),
        redis_client_cert: Some(server.file("client-cert.pem")),
        redis_client_key: Some(server.file("client-key.pem")),
        ..RedisSettings::default()
    }
}

fn record(token: &str) -> TokenRecord {
    TokenRecord {
        token_hash: Token::new(token).hash(),
        protocol: "vnc".into(),
        console_type: "novnc".into(),
        instance_uuid: "server-tls".into(),
        connect: ConnectInfo {
            host: "10.0.0.9".into(),
            port: 5900,
            tls_port: None,
            internal_access_path: None,
            unix_socket: None,
        },
        access_url_base: "http://127.0.0.1:6080/vnc_auto.html".into(),
        expires_at: unix_seconds(SystemTime::now()) + 600,
        minted_by: None,
    }
}

async fn connect(settings: &RedisSettings) -> Result<RedisTokenStore, StoreError> {
    let target = settings.target().expect("settings");
    RedisTokenStore::connect_target(&target, TIMEOUT).await
}

#[tokio::test]
async fn passes_the_token_store_suite_over_tls() {
    let server = server().await;
    let target = settings(server, server.url()).target().unwrap();
    assert!(target.is_tls());
    let n = AtomicUsize::new(0);
    run_token_store_suite(|clock, limits| {
        RedisTokenStore::connect_target_lazy(&target, RedisTokenStore::DEFAULT_TIMEOUT)
            .expect("TLS client")
            .with_key_prefix(format!("tls-{}:", n.fetch_add(1, Ordering::Relaxed)))
            .with_clock(clock)
            .with_limits(limits)
    })
    .await;
}

#[tokio::test]
async fn the_server_must_be_signed_by_the_ca_and_the_client_present_its_certificate() {
    let server = server().await;
    // The right CA and certificate: in.
    let store = connect(&settings(server, server.url())).await.unwrap();
    let r = record("over-tls");
    store.authorize(r.clone()).await.unwrap();
    assert!(store.validate(&r.token_hash).await.unwrap().is_some());

    // No client certificate: Redis refuses the handshake.
    let bare = RedisSettings {
        redis_client_cert: None,
        redis_client_key: None,
        ..settings(server, server.url())
    };
    assert!(matches!(
        connect(&bare).await,
        Err(StoreError::Unavailable(_))
    ));
    // A certificate from a CA Redis does not know.
    let stranger = RedisSettings {
        redis_client_cert: Some(server.file("other-client-cert.pem")),
        redis_client_key: Some(server.file("other-client-key.pem")),
        ..settings(server, server.url())
    };
    assert!(matches!(
        connect(&stranger).await,
        Err(StoreError::Unavailable(_))
    ));
    // A CA that did not sign the server's certificate.
    let wrong_ca = RedisSettings {
        redis_ca_cert: Some(server.file("other-ca.pem")),
        ..settings(server, server.url())
    };
    match connect(&wrong_ca).await {
        Err(StoreError::Unavailable(msg)) => {
            assert!(
                msg.contains(&format!("127.0.0.1:{}", server.port())),
                "{msg}"
            )
        }
        other => panic!("expected Unavailable, got {other:?}"),
    }
    // Plain text to a TLS port gets nowhere either.
    let plain = RedisSettings {
        redis_url: format!("redis://127.0.0.1:{}/", server.port()),
        ..RedisSettings::default()
    };
    assert!(matches!(
        connect(&plain).await,
        Err(StoreError::Unavailable(_))
    ));
}

/// Log lines written while the test runs, at every level.
#[derive(Clone, Default)]
struct Captured(Arc<Mutex<Vec<u8>>>);

impl Write for Captured {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

#[tokio::test]
async fn an_acl_user_logs_in_and_its_password_is_never_shown() {
    let server = server().await;
    let logs = Captured::default();
    let writer = logs.clone();
    let subscriber = tracing_subscriber::fmt()
        .with_max_level(tracing::Level::TRACE)
        .with_writer(move || writer.clone())
        .finish();
    let _guard = tracing::subscriber::set_default(subscriber);

    let good = settings(server, server.url_as_user(RedisTlsServer::ACL_PASSWORD));
    let store = connect(&good).await.unwrap();
    let mut conn = store.connection();
    let whoami: String = redis::cmd("ACL")
        .arg("WHOAMI")
        .query_async(&mut conn)
        .await
        .unwrap();
    assert_eq!(whoami, RedisTlsServer::ACL_USER);
    let r = record("acl-user");
    store.authorize(r.clone()).await.unwrap();
    assert!(store.validate(&r.token_hash).await.unwrap().is_some());
    let debug = format!("{store:?} {:?}", store.target());
    assert!(!debug.contains(RedisTlsServer::ACL_PASSWORD), "{debug}");

    let wrong_password = "not-the-acl-password-9x";
    let bad = settings(server, server.url_as_user(wrong_password));
    let mut messages = Vec::new();
    match connect(&bad).await {
        Err(StoreError::Unavailable(msg)) => messages.push(msg),
        other => panic!("a wrong password must be refused, got {other:?}"),
    }
    let lazy = RedisTokenStore::connect_target_lazy(&bad.target().unwrap(), TIMEOUT).unwrap();
    for result in [
        lazy.validate(&r.token_hash).await.map(drop),
        lazy.authorize(record("refused")).await,
        lazy.revoke_server("server-tls").await.map(drop),
        lazy.purge_expired().await.map(drop),
    ] {
        match result {
            Err(StoreError::Unavailable(msg)) => messages.push(msg),
            other => panic!("a wrong password must be refused, got {other:?}"),
        }
    }
    messages.push(format!("{lazy:?} {:?}", lazy.target()));
    let logged = String::from_utf8(logs.0.lock().unwrap().clone()).unwrap();
    assert!(!logged.is_empty(), "the store logged nothing to check");
    for text in messages.iter().chain([&logged]) {
        assert!(!text.contains(wrong_password), "password shown: {text}");
        assert!(
            !text.contains(RedisTlsServer::ACL_PASSWORD),
            "password shown: {text}"
        );
    }
}
