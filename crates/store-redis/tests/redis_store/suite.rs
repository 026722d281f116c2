//! The shared token store suite, on the dispatcher's clock and on real time.

use std::sync::atomic::{AtomicUsize, Ordering};

use consoled_store_redis::RedisTokenStore;
use consoled_testkit::store_suite::run_token_store_suite;

use crate::support::RedisServer;

#[tokio::test]
async fn passes_the_token_store_suite() {
    let redis = RedisServer::start().await;
    let url = redis.url();
    // Each check gets a fresh, empty store: its own key prefix.
    let n = AtomicUsize::new(0);
    run_token_store_suite(|clock, limits| {
        let prefix = format!("suite-{}:", n.fetch_add(1, Ordering::Relaxed));
        RedisTokenStore::connect_lazy(&url, RedisTokenStore::DEFAULT_TIMEOUT)
            .expect("valid url")
            .with_key_prefix(prefix)
            .with_clock(clock)
            .with_limits(limits)
    })
    .await;
}

#[tokio::test]
async fn passes_the_suite_on_real_time() {
    let redis = RedisServer::start().await;
    let url = redis.url();
    let n = AtomicUsize::new(0);
    // Ignoring the suite's clock: Redis's own expiry must do the job.
    run_token_store_suite(|_clock, limits| {
        let prefix = format!("real-{}:", n.fetch_add(1, Ordering::Relaxed));
        RedisTokenStore::connect_lazy(&url, RedisTokenStore::DEFAULT_TIMEOUT)
            .expect("valid url")
            .with_key_prefix(prefix)
            .with_limits(limits)
    })
    .await;
}
