//! The session directory on a real Redis: two nodes list each other's
//! sessions, a node that stops beating drops off, and cut orders reach
//! every node, again after Redis came back.

use std::time::Duration;

use consoled_core::sessions::{Cut, SessionDirectory, SessionInfo};
use consoled_store_redis::{RedisSessions, RedisTarget};
use tokio::sync::broadcast;
use tokio::time::timeout;

use crate::support::RedisServer;
use crate::PATIENCE;

fn session(id: &str, node: &str, started_at: u64) -> SessionInfo {
    SessionInfo {
        id: id.into(),
        node: node.into(),
        instance_uuid: "vm-1".into(),
        console_type: "novnc".into(),
        client: "198.51.100.7".into(),
        started_at,
        to_client: 10,
        to_backend: 2,
        minted_by: None,
    }
}

fn directory(redis: &RedisServer, prefix: &str) -> RedisSessions {
    let target = RedisTarget::standalone(&redis.url()).unwrap();
    RedisSessions::connect_lazy(&target, prefix, Duration::from_secs(2)).unwrap()
}

/// Waits for `want`, skipping repeats of the orders [`until_heard`] sent.
async fn heard(orders: &mut broadcast::Receiver<Cut>, want: Cut) {
    loop {
        let got = timeout(PATIENCE, orders.recv())
            .await
            .expect("an order in time")
            .expect("the directory lives");
        if got == want {
            return;
        }
    }
}

/// Sends `cut` from `from` until `to` hears it: a subscription is made in
/// the background, and an order sent before it stands is not heard.
async fn until_heard(from: &RedisSessions, orders: &mut broadcast::Receiver<Cut>, cut: Cut) {
    for _ in 0..100 {
        from.send(cut.clone()).await.unwrap();
        if let Ok(Ok(got)) = timeout(Duration::from_millis(100), orders.recv()).await {
            assert_eq!(got, cut);
            return;
        }
    }
    panic!("{cut:?} never heard");
}

#[tokio::test]
async fn nodes_list_each_others_sessions_and_hear_each_others_orders() {
    let redis = RedisServer::start().await;
    let (one, two) = (directory(&redis, "t1:"), directory(&redis, "t1:"));
    let long = Duration::from_secs(60);
    one.heartbeat("node-1", &[session("a", "node-1", 5)], long)
        .await
        .unwrap();
    two.heartbeat("node-2", &[session("b", "node-2", 3)], long)
        .await
        .unwrap();
    let listed = one.list().await.unwrap();
    assert_eq!(
        listed.iter().map(|s| s.id.as_str()).collect::<Vec<_>>(),
        ["b", "a"]
    );
    assert_eq!(listed, two.list().await.unwrap(), "either node lists both");
    assert_eq!(listed[0].client, "198.51.100.7");
    two.ended("node-2", &["b".into()]).await.unwrap();
    assert_eq!(one.list().await.unwrap().len(), 1);
    // Another prefix is another deployment.
    assert!(directory(&redis, "t2:").list().await.unwrap().is_empty());

    let mut on_two = two.subscribe();
    until_heard(&one, &mut on_two, Cut::Server("vm-1".into())).await;
    one.send(Cut::Session("a".into())).await.unwrap();
    heard(&mut on_two, Cut::Session("a".into())).await;
}

#[tokio::test]
async fn a_node_that_stops_beating_drops_off_the_list() {
    let redis = RedisServer::start().await;
    let dir = directory(&redis, "t3:");
    dir.heartbeat(
        "dying",
        &[session("x", "dying", 1)],
        Duration::from_millis(300),
    )
    .await
    .unwrap();
    dir.heartbeat(
        "alive",
        &[session("y", "alive", 2)],
        Duration::from_secs(60),
    )
    .await
    .unwrap();
    assert_eq!(dir.list().await.unwrap().len(), 2);
    tokio::time::sleep(Duration::from_millis(600)).await;
    let left: Vec<String> = dir
        .list()
        .await
        .unwrap()
        .into_iter()
        .map(|s| s.id)
        .collect();
    assert_eq!(left, ["y"]);
}

#[tokio::test]
async fn orders_are_heard_again_after_redis_came_back() {
    let mut redis = RedisServer::start().await;
    let (one, two) = (directory(&redis, "t4:"), directory(&redis, "t4:"));
    let mut on_two = two.subscribe();
    until_heard(&one, &mut on_two, Cut::Session("before".into())).await;
    redis.stop().await;
    assert!(
        one.send(Cut::Session("lost".into())).await.is_err(),
        "Redis is down"
    );
    assert!(one.list().await.is_err());
    redis.restart().await;
    until_heard(&one, &mut on_two, Cut::Session("after".into())).await;
}
