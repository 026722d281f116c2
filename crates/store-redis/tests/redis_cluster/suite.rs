//! The shared token store suite, on the cluster.

use consoled_store_redis::RedisTokenStore;
use consoled_testkit::store_suite::run_token_store_suite;

use crate::{cluster, prefix, settings};

#[tokio::test]
async fn passes_the_token_store_suite() {
    let target = settings(cluster().await).target().unwrap();
    run_token_store_suite(|clock, limits| {
        RedisTokenStore::connect_target_lazy(&target, RedisTokenStore::DEFAULT_TIMEOUT)
            .expect("cluster client")
            .with_key_prefix(prefix("suite"))
            .with_clock(clock)
            .with_limits(limits)
    })
    .await;
}

#[tokio::test]
async fn passes_the_suite_on_real_time() {
    let target = settings(cluster().await).target().unwrap();
    run_token_store_suite(|_clock, limits| {
        RedisTokenStore::connect_target_lazy(&target, RedisTokenStore::DEFAULT_TIMEOUT)
            .expect("cluster client")
            .with_key_prefix(prefix("real"))
            .with_limits(limits)
    })
    .await;
}
