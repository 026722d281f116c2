//! The token store suite over the memory store, and proof that it fails a
//! broken store.

use std::sync::Arc;

use consoled_core::MemoryTokenStore;
use consoled_testkit::{run_token_store_suite, FixedClock};

#[tokio::test]
async fn memory_store_passes() {
    run_token_store_suite(|clock, limits| MemoryTokenStore::with_clock_and_limits(clock, limits))
        .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn memory_store_passes_on_many_threads() {
    run_token_store_suite(|clock, limits| MemoryTokenStore::with_clock_and_limits(clock, limits))
        .await;
}

#[tokio::test]
async fn a_store_that_never_expires_fails() {
    // A store on a clock stuck at the epoch never sees a record expire.
    let run = tokio::spawn(run_token_store_suite(|_clock: Arc<FixedClock>, limits| {
        MemoryTokenStore::with_clock_and_limits(FixedClock::at(0), limits)
    }));
    let err = run
        .await
        .expect_err("the suite must fail a store that never expires");
    assert!(err.is_panic());
    let message = panic_message(err.into_panic());
    assert!(message.contains("expired"), "unexpected failure: {message}");
}

#[tokio::test]
async fn a_store_too_small_for_the_suite_fails() {
    let run = tokio::spawn(run_token_store_suite(|clock: Arc<FixedClock>, _limits| {
        MemoryTokenStore::with_clock(clock, 2)
    }));
    let err = run
        .await
        .expect_err("the suite must fail a store that refuses records");
    assert!(err.is_panic());
    assert!(panic_message(err.into_panic()).contains("authorize failed"));
}

#[tokio::test]
async fn a_store_that_ignores_the_project_cap_fails() {
    let run = tokio::spawn(run_token_store_suite(|clock: Arc<FixedClock>, _limits| {
        MemoryTokenStore::with_clock(clock, 10_000)
    }));
    let err = run
        .await
        .expect_err("the suite must fail a store without the per-project cap");
    assert!(panic_message(err.into_panic()).contains("OverQuota"));
}

fn panic_message(payload: Box<dyn std::any::Any + Send>) -> String {
    match payload.downcast::<String>() {
        Ok(s) => *s,
        Err(payload) => payload
            .downcast::<&str>()
            .map(|s| s.to_string())
            .unwrap_or_default(),
    }
}
