//! Revocation, and several nodes on one Redis.

use consoled_core::{Token, TokenRecord, TokenStore};
use redis::AsyncCommands;

use crate::support::RedisServer;
use crate::{record, store};

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
    let mut raw = crate::support::raw(&redis).await;
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
