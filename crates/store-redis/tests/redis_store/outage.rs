//! A Redis that is down or silent: quick errors, then recovery.

use std::time::Duration;

use consoled_core::{StoreError, Token, TokenStore};
use consoled_store_redis::RedisTokenStore;

use crate::support::RedisServer;
use crate::{record, PATIENCE, SLACK};

#[tokio::test]
async fn a_down_redis_fails_fast_and_recovers() {
    let mut redis = RedisServer::start().await;
    let timeout = Duration::from_millis(500);
    let store = RedisTokenStore::connect_with_timeout(&redis.url(), timeout)
        .await
        .unwrap();
    let r = record(&Token::new("outage"), "server-1", 600);
    store.authorize(r.clone()).await.unwrap();

    redis.stop().await;
    for attempt in 0..3 {
        let started = tokio::time::Instant::now();
        match store.validate(&r.token_hash).await {
            Err(StoreError::Unavailable(msg)) => {
                assert!(msg.contains("validate"), "{msg}");
                assert!(!msg.contains(&r.token_hash.to_hex()), "{msg}");
            }
            other => panic!("attempt {attempt}: expected Unavailable, got {other:?}"),
        }
        // Bounded by the timeout (plus scheduling slack), not hanging.
        assert!(
            started.elapsed() < timeout * 4,
            "took {:?}",
            started.elapsed()
        );
    }
    assert!(matches!(
        store.authorize(r.clone()).await,
        Err(StoreError::Unavailable(_))
    ));
    assert!(matches!(
        store.revoke_server("server-1").await,
        Err(StoreError::Unavailable(_))
    ));
    assert!(matches!(
        store.purge_expired().await,
        Err(StoreError::Unavailable(_))
    ));

    redis.restart().await;
    let deadline = tokio::time::Instant::now() + PATIENCE;
    // The restarted Redis is empty: the record is gone, but the store
    // answers again without being rebuilt.
    loop {
        match store.validate(&r.token_hash).await {
            Ok(found) => {
                assert_eq!(found, None);
                break;
            }
            Err(StoreError::Unavailable(_)) if tokio::time::Instant::now() < deadline => {
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
            Err(e) => panic!("the store did not recover: {e}"),
        }
    }
    store.authorize(r.clone()).await.unwrap();
    assert_eq!(
        store.validate(&r.token_hash).await.unwrap().as_ref(),
        Some(&r)
    );
}

#[tokio::test]
async fn connecting_to_nothing_fails_fast() {
    let mut redis = RedisServer::start().await;
    let url = redis.url();
    redis.stop().await;
    let timeout = Duration::from_millis(500);
    let started = tokio::time::Instant::now();
    match RedisTokenStore::connect_with_timeout(&url, timeout).await {
        Err(StoreError::Unavailable(msg)) => {
            assert!(msg.contains("connect"), "{msg}");
            assert!(
                msg.contains(&format!("127.0.0.1:{}", redis.port())),
                "{msg}"
            );
        }
        other => panic!("expected Unavailable, got {other:?}"),
    }
    assert!(
        started.elapsed() < timeout * 4,
        "took {:?}",
        started.elapsed()
    );

    match RedisTokenStore::connect("not a url").await {
        Err(StoreError::Unavailable(msg)) => assert!(msg.contains("connect"), "{msg}"),
        other => panic!("expected Unavailable, got {other:?}"),
    }
}

#[tokio::test]
async fn a_silent_redis_times_out() {
    // Accepts connections and never answers: only a timeout gets out.
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("redis://{}/", listener.local_addr().unwrap());
    let holder = tokio::spawn(async move {
        let mut held = Vec::new();
        while let Ok((stream, _)) = listener.accept().await {
            held.push(stream);
        }
    });
    let timeout = Duration::from_millis(300);

    let started = tokio::time::Instant::now();
    match RedisTokenStore::connect_with_timeout(&url, timeout).await {
        Err(StoreError::Unavailable(msg)) => assert!(msg.contains("connect"), "{msg}"),
        other => panic!("expected Unavailable, got {other:?}"),
    }
    assert!(
        started.elapsed() < timeout + SLACK,
        "took {:?}",
        started.elapsed()
    );

    let store = RedisTokenStore::connect_lazy(&url, timeout).unwrap();
    let hash = Token::new("silent").hash();
    let started = tokio::time::Instant::now();
    match store.validate(&hash).await {
        Err(StoreError::Unavailable(msg)) => {
            assert!(msg.contains("validate"), "{msg}");
            assert!(!msg.contains(&hash.to_hex()), "{msg}");
        }
        other => panic!("expected Unavailable, got {other:?}"),
    }
    assert!(
        started.elapsed() < timeout + SLACK,
        "took {:?}",
        started.elapsed()
    );
    holder.abort();
}
