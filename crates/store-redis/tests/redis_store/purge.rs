//! Pruning the per-server sets.

use std::sync::Arc;
use std::time::Duration;

use consoled_core::{Token, TokenRecord, TokenStore};
use redis::AsyncCommands;

use crate::support::RedisServer;
use crate::{record, store, PATIENCE};

#[tokio::test]
async fn purge_prunes_sets_of_gone_records() {
    let redis = RedisServer::start().await;
    let store = store(&redis).await;
    let mut raw = crate::support::raw(&redis).await;
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
    // Someone else's key under the pattern must not stop the purge.
    let _: () = raw.set("consoled:server:not-a-set", "x").await.unwrap();
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
    let mut raw = crate::support::raw(&redis).await;
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
async fn the_purger_runs_in_the_background() {
    let redis = RedisServer::start().await;
    let store = Arc::new(store(&redis).await);
    let mut raw = crate::support::raw(&redis).await;
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
