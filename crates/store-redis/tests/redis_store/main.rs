//! The Redis token store over a real redis-server, one per test.

mod layout;
mod outage;
mod pubsub;
mod purge;
mod revoke;
mod sessions;
mod suite;
mod support;

use std::time::{Duration, SystemTime};

use consoled_core::{unix_seconds, ConnectInfo, Token, TokenRecord};
use consoled_store_redis::RedisTokenStore;
use support::RedisServer;

/// Generous: only keeps a broken test from hanging.
pub(crate) const PATIENCE: Duration = Duration::from_secs(15);
/// What a call to a dead or silent Redis may take beyond its timeout on a
/// busy machine: generous, since the point is that it does not hang.
pub(crate) const SLACK: Duration = Duration::from_secs(3);

/// Now, in Unix seconds.
pub(crate) fn now() -> u64 {
    unix_seconds(SystemTime::now())
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
            internal_access_path: Some("/console".into()),
            unix_socket: None,
        },
        access_url_base: "http://127.0.0.1:6080/vnc_auto.html".into(),
        expires_at: now() + ttl,
        minted_by: None,
    }
}

/// A store on the test Redis with the default settings.
pub(crate) async fn store(redis: &RedisServer) -> RedisTokenStore {
    RedisTokenStore::connect(&redis.url())
        .await
        .expect("connect to the test redis")
}
