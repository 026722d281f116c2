//! A cluster master that hangs or dies: quick errors for the keys it
//! holds, the other masters go on, and the store recovers once it is back.
//! Its own cluster: stopping a shared one would disturb other tests.

use std::sync::Arc;
use std::time::{Duration, SystemTime};

use consoled_core::{unix_seconds, ConnectInfo, StoreError, Token, TokenRecord, TokenStore};
use consoled_store_redis::{RedisTarget, RedisTokenStore};
use consoled_testkit::RedisCluster;

/// Generous: only keeps a broken test from hanging.
const PATIENCE: Duration = Duration::from_secs(60);
/// What a call to a hung master may take beyond the timeout on a busy
/// machine: generous, since the point is that it does not hang.
const SLACK: Duration = Duration::from_secs(3);
const TIMEOUT: Duration = Duration::from_millis(500);
const PREFIX: &str = "outage:";

fn record(n: usize) -> TokenRecord {
    TokenRecord {
        token_hash: Token::new(format!("outage-token-{n}")).hash(),
        protocol: "vnc".into(),
        console_type: "novnc".into(),
        instance_uuid: "server-x".into(),
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

/// Which master holds each record: SCAN on one node sees its keys only.
async fn master_of(cluster: &RedisCluster, records: &[TokenRecord]) -> Vec<usize> {
    let mut held = Vec::new();
    for url in cluster.urls() {
        let mut conn = redis::Client::open(url)
            .unwrap()
            .get_multiplexed_async_connection()
            .await
            .unwrap();
        let keys: Vec<String> = redis::cmd("KEYS")
            .arg(format!("{PREFIX}token:*"))
            .query_async(&mut conn)
            .await
            .unwrap();
        held.push(keys);
    }
    records
        .iter()
        .map(|r| {
            let key = format!("{PREFIX}token:{}", r.token_hash.to_hex());
            held.iter().position(|keys| keys.contains(&key)).unwrap()
        })
        .collect()
}

/// Asserts that validating `r` fails cleanly and quickly.
async fn refused_quickly(store: &RedisTokenStore, r: &TokenRecord) {
    let started = tokio::time::Instant::now();
    match store.validate(&r.token_hash).await {
        Err(StoreError::Unavailable(msg)) => {
            assert!(msg.contains("validate"), "{msg}");
            assert!(!msg.contains(&r.token_hash.to_hex()), "{msg}");
        }
        other => panic!("expected Unavailable, got {other:?}"),
    }
    assert!(
        started.elapsed() < TIMEOUT + SLACK,
        "took {:?}",
        started.elapsed()
    );
}

/// Waits until the store answers for `r` again, and returns the answer.
async fn answers_again(store: &RedisTokenStore, r: &TokenRecord) -> Option<TokenRecord> {
    let deadline = tokio::time::Instant::now() + PATIENCE;
    loop {
        match store.validate(&r.token_hash).await {
            Ok(found) => return found,
            Err(StoreError::Unavailable(_)) if tokio::time::Instant::now() < deadline => {
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
            Err(e) => panic!("the store did not recover: {e}"),
        }
    }
}

#[tokio::test]
async fn a_stopped_master_gives_quick_errors_and_the_store_recovers() {
    let cluster = Arc::new(
        tokio::task::spawn_blocking(RedisCluster::start)
            .await
            .unwrap(),
    );
    let target = RedisTarget::cluster(&cluster.urls()).unwrap();
    let store = RedisTokenStore::connect_target(&target, TIMEOUT)
        .await
        .unwrap()
        .with_key_prefix(PREFIX);
    let records: Vec<TokenRecord> = (0..30).map(record).collect();
    for r in &records {
        store.authorize(r.clone()).await.unwrap();
    }
    let masters = master_of(&cluster, &records).await;
    let on = |m: usize| {
        let at = masters.iter().position(|&held| held == m);
        &records[at.unwrap_or_else(|| panic!("master {m} holds none of 30 records"))]
    };

    // Hung: SIGSTOP, the socket stays open and nothing answers.
    cluster.pause(0);
    refused_quickly(&store, on(0)).await;
    refused_quickly(&store, on(0)).await;
    // The other masters serve their slots meanwhile.
    assert_eq!(
        store.validate(&on(1).token_hash).await.unwrap().as_ref(),
        Some(on(1))
    );
    // A revocation cannot finish while a master is out...
    assert!(matches!(
        store.revoke_server("server-x").await,
        Err(StoreError::Unavailable(_))
    ));
    cluster.resume(0);
    // ...and, run again once it is back, finishes the job.
    let deadline = tokio::time::Instant::now() + PATIENCE;
    loop {
        match store.revoke_server("server-x").await {
            Ok(_) => break,
            Err(StoreError::Unavailable(_)) if tokio::time::Instant::now() < deadline => {
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
            Err(e) => panic!("the revocation did not complete: {e}"),
        }
    }
    for r in &records {
        assert_eq!(
            answers_again(&store, r).await,
            None,
            "a revoked token is valid"
        );
    }

    // Dead: killed, then restarted on its port with its cluster
    // configuration, empty.
    let fresh: Vec<TokenRecord> = (100..130).map(record).collect();
    for r in &fresh {
        store.authorize(r.clone()).await.unwrap();
    }
    let masters = master_of(&cluster, &fresh).await;
    let lost = &fresh[masters
        .iter()
        .position(|&m| m == 1)
        .expect("a record on master 1")];
    let kept = &fresh[masters
        .iter()
        .position(|&m| m == 2)
        .expect("a record on master 2")];
    cluster.stop(1);
    refused_quickly(&store, lost).await;
    assert_eq!(
        store.validate(&kept.token_hash).await.unwrap().as_ref(),
        Some(kept)
    );
    let restarting = cluster.clone();
    tokio::task::spawn_blocking(move || restarting.restart(1))
        .await
        .unwrap();
    assert_eq!(
        answers_again(&store, lost).await,
        None,
        "the restarted master is empty"
    );
    let again = record(200);
    let deadline = tokio::time::Instant::now() + PATIENCE;
    while let Err(e) = store.authorize(again.clone()).await {
        assert!(
            tokio::time::Instant::now() < deadline,
            "authorize did not recover: {e}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(
        store.validate(&again.token_hash).await.unwrap().as_ref(),
        Some(&again)
    );
}
