//! The Redis token store over a real three-master Redis Cluster, shared by
//! every test of this binary (each test under its own key prefix).

mod layout;
mod pubsub;
mod revoke;
mod sessions;
mod suite;

use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, SystemTime};

use consoled_core::{unix_seconds, ConnectInfo, MintedBy, Token, TokenRecord};
use consoled_store_redis::{RedisSettings, RedisTokenStore};
use consoled_testkit::RedisCluster;

/// Generous: only keeps a broken test from hanging.
pub(crate) const PATIENCE: Duration = Duration::from_secs(30);

/// The shared cluster, started on first use (blocking, so off the test's
/// runtime threads).
pub(crate) async fn cluster() -> &'static RedisCluster {
    tokio::task::spawn_blocking(RedisCluster::shared)
        .await
        .expect("start the cluster")
}

/// A prefix no other test of this run uses.
pub(crate) fn prefix(what: &str) -> String {
    static N: AtomicUsize = AtomicUsize::new(0);
    format!("{what}-{}:", N.fetch_add(1, Ordering::Relaxed))
}

/// The settings an operator writes for `cluster`.
pub(crate) fn settings(cluster: &RedisCluster) -> RedisSettings {
    RedisSettings {
        redis_cluster_urls: cluster.urls(),
        ..RedisSettings::default()
    }
}

/// A store on `cluster` under `prefix`, connected.
pub(crate) async fn store(cluster: &RedisCluster, prefix: &str) -> RedisTokenStore {
    let target = settings(cluster).target().expect("cluster settings");
    RedisTokenStore::connect_target(&target, RedisTokenStore::DEFAULT_TIMEOUT)
        .await
        .expect("connect to the test cluster")
        .with_key_prefix(prefix)
}

/// A record of `token` for `server`, valid for `ttl` seconds.
pub(crate) fn record(token: &Token, server: &str, ttl: u64) -> TokenRecord {
    TokenRecord {
        token_hash: token.hash(),
        protocol: "vnc".into(),
        console_type: "novnc".into(),
        instance_uuid: server.into(),
        connect: ConnectInfo {
            host: "10.0.0.9".into(),
            port: 5900,
            tls_port: None,
            internal_access_path: None,
            unix_socket: None,
        },
        access_url_base: "http://127.0.0.1:6080/vnc_auto.html".into(),
        expires_at: unix_seconds(SystemTime::now()) + ttl,
        minted_by: None,
    }
}

/// `record`, minted in `project`.
pub(crate) fn minted(token: &Token, server: &str, project: &str) -> TokenRecord {
    TokenRecord {
        minted_by: Some(MintedBy {
            user_id: "u".into(),
            project_id: project.into(),
        }),
        ..record(token, server, 600)
    }
}

/// The keys under `prefix` on each master, by SCAN on that node alone (a
/// key lives on the master of its slot only).
pub(crate) async fn keys_per_master(cluster: &RedisCluster, prefix: &str) -> Vec<Vec<String>> {
    let mut all = Vec::new();
    for url in cluster.urls() {
        let mut conn = redis::Client::open(url)
            .unwrap()
            .get_multiplexed_async_connection()
            .await
            .unwrap();
        let mut keys = Vec::new();
        let mut cursor = 0u64;
        loop {
            let (next, found): (u64, Vec<String>) = redis::cmd("SCAN")
                .arg(cursor)
                .arg("MATCH")
                .arg(format!("{prefix}*"))
                .arg("COUNT")
                .arg(1000)
                .query_async(&mut conn)
                .await
                .unwrap();
            keys.extend(found);
            cursor = next;
            if cursor == 0 {
                break;
            }
        }
        all.push(keys);
    }
    all
}
