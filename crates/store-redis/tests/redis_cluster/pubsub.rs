//! The connection other users of the cluster get: plain commands and
//! pub/sub across nodes.

use std::time::Duration;

use redis::{PushKind, Value};

use crate::{cluster, prefix, store, PATIENCE};

#[tokio::test]
async fn a_push_connection_hears_what_any_node_publishes() {
    let cluster = cluster().await;
    let store = store(cluster, &prefix("pubsub")).await;
    let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel();
    let mut pubsub = store
        .target()
        .connect_with_pushes(Duration::from_secs(2), tx)
        .unwrap();
    assert!(pubsub.is_cluster());
    pubsub.subscribe("consoled-test:cut").await.unwrap();
    // Published through every master in turn: each reaches the subscriber.
    for (i, url) in cluster.urls().into_iter().enumerate() {
        let mut publisher = redis::Client::open(url)
            .unwrap()
            .get_multiplexed_async_connection()
            .await
            .unwrap();
        let payload = format!("session-{i}");
        let _: i64 = redis::cmd("PUBLISH")
            .arg("consoled-test:cut")
            .arg(&payload)
            .query_async(&mut publisher)
            .await
            .unwrap();
        let message = tokio::time::timeout(PATIENCE, async {
            loop {
                let push = rx.recv().await.expect("pushes end");
                if push.kind == PushKind::Message {
                    return push;
                }
            }
        })
        .await
        .expect("no message");
        assert_eq!(
            message.data.last(),
            Some(&Value::BulkString(payload.into_bytes()))
        );
    }
    // The store's own connection serves plain commands.
    let mut conn = store.connection();
    let pong: String = redis::cmd("PING").query_async(&mut conn).await.unwrap();
    assert_eq!(pong, "PONG");
}
