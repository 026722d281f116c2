//! The session directory on the cluster: nodes list each other's sessions
//! and hear each other's cut orders.

use std::time::Duration;

use consoled_core::sessions::{Cut, SessionDirectory, SessionInfo};
use consoled_store_redis::RedisSessions;

use crate::{cluster, prefix, settings, PATIENCE};

fn session(id: &str, node: &str) -> SessionInfo {
    SessionInfo {
        id: id.into(),
        node: node.into(),
        instance_uuid: "vm-1".into(),
        console_type: "serial".into(),
        client: "198.51.100.8".into(),
        started_at: 7,
        to_client: 0,
        to_backend: 0,
        minted_by: None,
    }
}

#[tokio::test]
async fn nodes_on_a_cluster_list_each_other_and_hear_orders() {
    let cluster = cluster().await;
    let target = settings(cluster).target().unwrap();
    let prefix = prefix("sessions");
    let one = RedisSessions::connect_lazy(&target, &prefix, Duration::from_secs(2)).unwrap();
    let two = RedisSessions::connect_lazy(&target, &prefix, Duration::from_secs(2)).unwrap();
    let long = Duration::from_secs(60);
    one.heartbeat("n1", &[session("a", "n1")], long)
        .await
        .unwrap();
    two.heartbeat("n2", &[session("b", "n2")], long)
        .await
        .unwrap();
    let ids: Vec<String> = one
        .list()
        .await
        .unwrap()
        .into_iter()
        .map(|s| s.id)
        .collect();
    assert_eq!(ids, ["a", "b"]);
    let mut orders = two.subscribe();
    let heard = tokio::time::timeout(PATIENCE, async {
        loop {
            one.send(Cut::Session("a".into())).await.unwrap();
            if let Ok(Ok(cut)) =
                tokio::time::timeout(Duration::from_millis(100), orders.recv()).await
            {
                return cut;
            }
        }
    })
    .await
    .expect("an order heard in time");
    assert_eq!(heard, Cut::Session("a".into()));
}
