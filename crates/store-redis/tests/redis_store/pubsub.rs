//! The connection other users of the same Redis get: plain commands and
//! pub/sub.

use std::time::Duration;

use redis::{PushKind, Value};

use crate::support::RedisServer;
use crate::{store, PATIENCE};

#[tokio::test]
async fn a_push_connection_hears_what_the_store_connection_publishes() {
    let redis = RedisServer::start().await;
    let store = store(&redis).await;
    let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel();
    let mut pubsub = store
        .target()
        .connect_with_pushes(Duration::from_secs(2), tx)
        .unwrap();
    assert!(!pubsub.is_cluster());
    pubsub.subscribe("consoled-test:cut").await.unwrap();
    let mut conn = store.connection();
    let heard: i64 = redis::cmd("PUBLISH")
        .arg("consoled-test:cut")
        .arg("session-1")
        .query_async(&mut conn)
        .await
        .unwrap();
    assert_eq!(heard, 1);
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
        Some(&Value::BulkString(b"session-1".to_vec()))
    );
}
