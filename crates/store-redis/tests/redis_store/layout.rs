//! What the store writes into Redis: hashes only, with their expiry; and
//! what it makes of a value it cannot read.

use std::time::Duration;

use consoled_core::{StoreError, Token, TokenStore};
use redis::AsyncCommands;

use crate::support::RedisServer;
use crate::{record, store, PATIENCE};

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

    let mut raw = crate::support::raw(&redis).await;
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
    let mut raw = crate::support::raw(&redis).await;
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
async fn a_corrupt_record_is_an_error_without_secrets() {
    let redis = RedisServer::start().await;
    let store = store(&redis).await;
    let mut raw = crate::support::raw(&redis).await;
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
