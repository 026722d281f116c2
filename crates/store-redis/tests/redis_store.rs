//! The Redis token store over a real redis-server.

mod support;

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use consoled_core::{unix_seconds, ConnectInfo, StoreError, Token, TokenRecord, TokenStore};
use consoled_store_redis::RedisTokenStore;
use consoled_testkit::store_suite::run_token_store_suite;
use redis::AsyncCommands;
use support::RedisServer;

/// Generous: only keeps a broken test from hanging.
const PATIENCE: Duration = Duration::from_secs(15);

fn now() -> u64 {
    unix_seconds(SystemTime::now())
}

fn record(token: &Token, server: &str, ttl: u64) -> TokenRecord {
    TokenRecord {
        token_hash: token.hash(),
        protocol: "vnc".into(),
        console_type: "novnc".into(),
        instance_uuid: server.into(),
        connect: ConnectInfo {
            host: "10.0.0.9".into(),
            port: 5900,
            tls_port: None,
            internal_access_path: Some("/console".into()),
        },
        access_url_base: "http://127.0.0.1:6080/vnc_auto.html".into(),
        expires_at: now() + ttl,
    }
}

async fn store(redis: &RedisServer) -> RedisTokenStore {
    RedisTokenStore::connect(&redis.url())
        .await
        .expect("connect to the test redis")
}

#[tokio::test]
async fn passes_the_token_store_suite() {
    let redis = RedisServer::start().await;
    let url = redis.url();
    // Each check gets a fresh, empty store: its own key prefix.
    let n = AtomicUsize::new(0);
    run_token_store_suite(|clock| {
        let prefix = format!("suite-{}:", n.fetch_add(1, Ordering::Relaxed));
        RedisTokenStore::connect_lazy(&url, RedisTokenStore::DEFAULT_TIMEOUT)
            .expect("valid url")
            .with_key_prefix(prefix)
            .with_clock(clock)
    })
    .await;
}

#[tokio::test]
async fn passes_the_suite_on_real_time() {
    let redis = RedisServer::start().await;
    let url = redis.url();
    let n = AtomicUsize::new(0);
    // Ignoring the suite's clock: Redis's own expiry must do the job.
    run_token_store_suite(|_clock| {
        let prefix = format!("real-{}:", n.fetch_add(1, Ordering::Relaxed));
        RedisTokenStore::connect_lazy(&url, RedisTokenStore::DEFAULT_TIMEOUT)
            .expect("valid url")
            .with_key_prefix(prefix)
    })
    .await;
}

#[tokio::test]
async fn redis_holds_no_token_text() {
    let redis = RedisServer::start().await;
    let store = store(&redis).await;
    let tokens: Vec<Token> = (0..20)
        .map(|n| Token::new(format!("very-secret-token-{n}")))
        .collect();
    for (n, token) in tokens.iter().enumerate() {
        let server = format!("server-{}", n % 3);
        store.authorize(record(token, &server, 600)).await.unwrap();
    }

    let mut raw = redis.raw().await;
    let keys: Vec<Vec<u8>> = redis::cmd("KEYS")
        .arg("*")
        .query_async(&mut raw)
        .await
        .unwrap();
    assert_eq!(
        keys.len(),
        20 + 3,
        "one record per token, one set per server"
    );
    let mut everything: Vec<Vec<u8>> = keys.clone();
    for key in &keys {
        let kind: String = redis::cmd("TYPE")
            .arg(key)
            .query_async(&mut raw)
            .await
            .unwrap();
        match kind.as_str() {
            "string" => everything.push(raw.get(key).await.unwrap()),
            "set" => everything.extend(raw.smembers::<_, Vec<Vec<u8>>>(key).await.unwrap()),
            other => panic!("unexpected key type {other}"),
        }
    }
    for token in &tokens {
        for blob in &everything {
            let text = String::from_utf8_lossy(blob);
            assert!(!text.contains(token.expose()), "token text found in redis");
        }
    }
    // What is there is the hash, under the documented name.
    let hex = tokens[0].hash().to_hex();
    let key = format!("consoled:token:{hex}");
    assert!(keys.contains(&key.clone().into_bytes()));
    let members: Vec<String> = raw.smembers("consoled:server:server-0").await.unwrap();
    assert!(members.contains(&hex));
}

#[tokio::test]
async fn records_carry_their_absolute_expiry() {
    let redis = RedisServer::start().await;
    let store = store(&redis).await;
    let mut raw = redis.raw().await;
    let server = "server-expiry";
    let ttls = [100, 1000, 500];
    let mut newest = 0;
    for (n, ttl) in ttls.into_iter().enumerate() {
        let r = record(&Token::new(format!("expiry-{n}")), server, ttl);
        newest = newest.max(r.expires_at);
        store.authorize(r.clone()).await.unwrap();
        let at: i64 = redis::cmd("EXPIRETIME")
            .arg(format!("consoled:token:{}", r.token_hash.to_hex()))
            .query_async(&mut raw)
            .await
            .unwrap();
        assert_eq!(
            at, r.expires_at as i64,
            "the record expires at its expires_at"
        );
    }
    let set_at: i64 = redis::cmd("EXPIRETIME")
        .arg(format!("consoled:server:{server}"))
        .query_async(&mut raw)
        .await
        .unwrap();
    assert_eq!(
        set_at, newest as i64,
        "the set lives as long as its newest token"
    );

    // Redis itself drops a record once its second has passed.
    let short = record(&Token::new("expiry-short"), server, 1);
    store.authorize(short.clone()).await.unwrap();
    let key = format!("consoled:token:{}", short.token_hash.to_hex());
    let deadline = tokio::time::Instant::now() + PATIENCE;
    while raw.exists::<_, bool>(&key).await.unwrap() {
        assert!(
            tokio::time::Instant::now() < deadline,
            "redis kept an expired record"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(store.validate(&short.token_hash).await.unwrap(), None);
}

#[tokio::test]
async fn revokes_many_tokens_of_one_server_only() {
    let redis = RedisServer::start().await;
    let store = store(&redis).await;
    let doomed: Vec<TokenRecord> = (0..200)
        .map(|n| record(&Token::new(format!("doomed-{n}")), "server-doomed", 600))
        .collect();
    let kept: Vec<TokenRecord> = (0..150)
        .map(|n| record(&Token::new(format!("kept-{n}")), "server-kept", 600))
        .collect();
    for r in doomed.iter().chain(&kept) {
        store.authorize(r.clone()).await.unwrap();
    }
    // One record already gone (as if expired): it must not be counted.
    let mut raw = redis.raw().await;
    let _: () = raw
        .del(format!("consoled:token:{}", doomed[7].token_hash.to_hex()))
        .await
        .unwrap();

    assert_eq!(store.revoke_server("server-doomed").await.unwrap(), 199);
    for r in &doomed {
        assert_eq!(store.validate(&r.token_hash).await.unwrap(), None);
    }
    for r in &kept {
        assert_eq!(
            store.validate(&r.token_hash).await.unwrap().as_ref(),
            Some(r)
        );
    }
    assert!(!raw
        .exists::<_, bool>("consoled:server:server-doomed")
        .await
        .unwrap());
    assert_eq!(store.revoke_server("server-doomed").await.unwrap(), 0);
    assert_eq!(store.revoke_server("server-kept").await.unwrap(), 150);
    let left: Vec<Vec<u8>> = redis::cmd("KEYS")
        .arg("*")
        .query_async(&mut raw)
        .await
        .unwrap();
    assert!(left.is_empty(), "revocation left {} keys", left.len());
}

#[tokio::test]
async fn two_nodes_share_tokens() {
    let redis = RedisServer::start().await;
    let api_node = store(&redis).await;
    let proxy_node = store(&redis).await;
    let r = record(&Token::new("shared"), "server-1", 600);
    api_node.authorize(r.clone()).await.unwrap();
    assert_eq!(
        proxy_node.validate(&r.token_hash).await.unwrap().as_ref(),
        Some(&r)
    );
    assert_eq!(proxy_node.revoke_server("server-1").await.unwrap(), 1);
    assert_eq!(api_node.validate(&r.token_hash).await.unwrap(), None);

    // Another prefix is another deployment: it sees nothing of these.
    let other = store(&redis).await.with_key_prefix("other:");
    api_node.authorize(r.clone()).await.unwrap();
    assert_eq!(other.validate(&r.token_hash).await.unwrap(), None);
    assert_eq!(other.revoke_server("server-1").await.unwrap(), 0);
    assert!(api_node.validate(&r.token_hash).await.unwrap().is_some());
}

#[tokio::test]
async fn a_corrupt_record_is_an_error_without_secrets() {
    let redis = RedisServer::start().await;
    let store = store(&redis).await;
    let mut raw = redis.raw().await;
    let hash = Token::new("corrupted").hash();
    let key = format!("consoled:token:{}", hash.to_hex());

    let _: () = raw
        .set(&key, "{\"token_hash\": 12, \"note\": \"x")
        .await
        .unwrap();
    match store.validate(&hash).await {
        Err(StoreError::Corrupt(msg)) => {
            assert!(msg.contains(&hash.fingerprint()), "{msg}");
            assert!(!msg.contains(&hash.to_hex()), "{msg}");
        }
        other => panic!("expected Corrupt, got {other:?}"),
    }

    // A well-formed record filed under another token's hash.
    let elsewhere = record(&Token::new("elsewhere"), "server-1", 600);
    let _: () = raw
        .set(&key, serde_json::to_string(&elsewhere).unwrap())
        .await
        .unwrap();
    assert!(matches!(
        store.validate(&hash).await,
        Err(StoreError::Corrupt(_))
    ));

    // The wrong kind of key is Redis's error, not a crash.
    let _: () = raw.del(&key).await.unwrap();
    let _: () = raw.sadd(&key, "x").await.unwrap();
    assert!(matches!(
        store.validate(&hash).await,
        Err(StoreError::Unavailable(_))
    ));
}

#[tokio::test]
async fn purge_prunes_sets_of_gone_records() {
    let redis = RedisServer::start().await;
    let store = store(&redis).await;
    let mut raw = redis.raw().await;
    let records: Vec<TokenRecord> = (0..10)
        .map(|n| {
            record(
                &Token::new(format!("purge-{n}")),
                &format!("s{}", n % 2),
                600,
            )
        })
        .collect();
    for r in &records {
        store.authorize(r.clone()).await.unwrap();
    }
    // Four records gone as if Redis had expired them.
    for r in &records[..4] {
        let _: () = raw
            .del(format!("consoled:token:{}", r.token_hash.to_hex()))
            .await
            .unwrap();
    }
    assert_eq!(store.purge_expired().await.unwrap(), 4);
    assert_eq!(store.purge_expired().await.unwrap(), 0);
    let mut members: Vec<String> = raw.smembers("consoled:server:s0").await.unwrap();
    members.extend(
        raw.smembers::<_, Vec<String>>("consoled:server:s1")
            .await
            .unwrap(),
    );
    members.sort();
    let mut live: Vec<String> = records[4..].iter().map(|r| r.token_hash.to_hex()).collect();
    live.sort();
    assert_eq!(members, live);
    for r in &records[4..] {
        assert!(store.validate(&r.token_hash).await.unwrap().is_some());
    }
}

#[tokio::test]
async fn purge_is_bounded_per_call_and_resumes() {
    let redis = RedisServer::start().await;
    let store = store(&redis).await.with_purge_steps(1);
    let mut raw = redis.raw().await;
    let servers = 1000;
    let mut pipe = redis::pipe();
    for n in 0..servers {
        let r = record(
            &Token::new(format!("bounded-{n}")),
            &format!("server-{n}"),
            600,
        );
        store.authorize(r.clone()).await.unwrap();
        pipe.del(format!("consoled:token:{}", r.token_hash.to_hex()))
            .ignore();
    }
    let _: () = pipe.query_async(&mut raw).await.unwrap();

    let first = store.purge_expired().await.unwrap();
    assert!(first > 0, "a purge step found nothing");
    assert!(
        first < servers,
        "one step of 100 keys pruned all {servers} sets"
    );
    let mut total = first;
    for _ in 0..1000 {
        if total == servers {
            break;
        }
        total += store.purge_expired().await.unwrap();
    }
    assert_eq!(total, servers, "repeated purges must reach every set");
    let left: Vec<Vec<u8>> = redis::cmd("KEYS")
        .arg("*")
        .query_async(&mut raw)
        .await
        .unwrap();
    assert!(
        left.is_empty(),
        "emptied sets must go: {} keys left",
        left.len()
    );
}

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
async fn the_purger_runs_in_the_background() {
    let redis = RedisServer::start().await;
    let store = Arc::new(store(&redis).await);
    let mut raw = redis.raw().await;
    let r = record(&Token::new("background"), "server-bg", 600);
    store.authorize(r.clone()).await.unwrap();
    let _: () = raw
        .del(format!("consoled:token:{}", r.token_hash.to_hex()))
        .await
        .unwrap();
    let purger = store.spawn_purger(Duration::from_millis(50));
    let deadline = tokio::time::Instant::now() + PATIENCE;
    while raw
        .exists::<_, bool>("consoled:server:server-bg")
        .await
        .unwrap()
    {
        assert!(
            tokio::time::Instant::now() < deadline,
            "the purger never ran"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    drop(store);
    tokio::time::timeout(PATIENCE, purger)
        .await
        .expect("the purger stops once the store is dropped")
        .unwrap();
}
