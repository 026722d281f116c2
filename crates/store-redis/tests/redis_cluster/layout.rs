//! What the store writes into the cluster: the same names as on one
//! server, spread over the masters, hashes only.

use consoled_core::{Token, TokenStore};
use redis::AsyncCommands;

use crate::{cluster, keys_per_master, prefix, record, store, PATIENCE};

#[tokio::test]
async fn records_spread_over_every_master_without_token_text() {
    let cluster = cluster().await;
    let prefix = prefix("layout");
    let store = store(cluster, &prefix).await;
    let tokens: Vec<Token> = (0..60)
        .map(|n| Token::new(format!("cluster-secret-{n}")))
        .collect();
    for (n, token) in tokens.iter().enumerate() {
        store
            .authorize(record(token, &format!("server-{}", n % 3), 600))
            .await
            .unwrap();
    }
    let per_master = keys_per_master(cluster, &prefix).await;
    assert_eq!(per_master.iter().map(Vec::len).sum::<usize>(), 60 + 3);
    for (i, keys) in per_master.iter().enumerate() {
        assert!(!keys.is_empty(), "master {i} holds none of 60 records");
    }
    let all: Vec<&String> = per_master.iter().flatten().collect();
    let hex = tokens[0].hash().to_hex();
    assert!(all.contains(&&format!("{prefix}token:{hex}")));
    assert!(all.contains(&&format!("{prefix}server:server-0")));
    for key in &all {
        for token in &tokens {
            assert!(!key.contains(token.expose()), "token text in a key");
        }
    }
    let mut conn = store.connection();
    let json: String = conn.get(format!("{prefix}token:{hex}")).await.unwrap();
    assert!(!json.contains(tokens[0].expose()));
    let members: Vec<String> = conn
        .smembers(format!("{prefix}server:server-0"))
        .await
        .unwrap();
    assert_eq!(members.len(), 20);
    assert!(members.contains(&hex));
}

#[tokio::test]
async fn purge_walks_every_master() {
    let cluster = cluster().await;
    let prefix = prefix("purge");
    let store = store(cluster, &prefix).await.with_purge_steps(1);
    let mut conn = store.connection();
    let servers = 300;
    for n in 0..servers {
        let r = record(&Token::new(format!("purge-{n}")), &format!("s-{n}"), 600);
        store.authorize(r.clone()).await.unwrap();
        let _: () = conn
            .del(format!("{prefix}token:{}", r.token_hash.to_hex()))
            .await
            .unwrap();
    }
    let mut total = 0;
    let deadline = tokio::time::Instant::now() + PATIENCE;
    while total < servers {
        assert!(
            tokio::time::Instant::now() < deadline,
            "purges pruned {total} of {servers} sets"
        );
        total += store.purge_expired().await.unwrap();
    }
    assert_eq!(total, servers);
    let left: usize = keys_per_master(cluster, &prefix)
        .await
        .iter()
        .map(Vec::len)
        .sum();
    assert_eq!(left, 0, "emptied sets must go");
}

#[tokio::test]
async fn two_nodes_share_tokens() {
    let cluster = cluster().await;
    let prefix = prefix("nodes");
    let api_node = store(cluster, &prefix).await;
    let proxy_node = store(cluster, &prefix).await;
    let r = record(&Token::new("shared-in-cluster"), "server-1", 600);
    api_node.authorize(r.clone()).await.unwrap();
    assert_eq!(
        proxy_node.validate(&r.token_hash).await.unwrap().as_ref(),
        Some(&r)
    );
    assert_eq!(proxy_node.revoke_server("server-1").await.unwrap(), 1);
    assert_eq!(api_node.validate(&r.token_hash).await.unwrap(), None);
}
