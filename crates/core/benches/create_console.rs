//! One `create_console`: backend look-up among a few thousand servers,
//! policy and state checks, the novnc driver's connect info and URL, a
//! fresh OS token, its hash stored in the in-memory store.

// criterion_group! expands to an undocumented `pub fn`.
#![allow(missing_docs)]

use std::hint::black_box;
use std::sync::Arc;
use std::time::{Duration, Instant};

use consoled_core::{
    DispatchSettings, Dispatcher, Identity, MemoryTokenStore, Registry, TokenStore,
};
use consoled_driver_vnc_novnc::NoVncDriver;
use consoled_testkit::{FakeBackend, FixedClock, ServerBuilder};
use criterion::{criterion_group, criterion_main, Criterion};

const SERVERS: u32 = 5_000;
/// Records kept before the store is emptied (outside the timed section),
/// so that a long run measures a store of realistic size, not an
/// ever-growing one.
const PURGE_EVERY: u64 = 10_000;

fn server_id(n: u32) -> String {
    format!("00000000-0000-4000-8000-{n:012}")
}

fn create_console(c: &mut Criterion) {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("a Tokio runtime");
    let backend = FakeBackend::new();
    for n in 0..SERVERS {
        backend.insert(
            ServerBuilder::new(server_id(n), format!("vm-{n}"))
                .vnc("10.0.0.1", 5900 + (n % 1000) as u16)
                .build(),
        );
    }
    let clock = FixedClock::at(1_700_000_000);
    let store = Arc::new(MemoryTokenStore::with_clock(clock.clone(), 1_000_000));
    let registry = Registry::builder()
        .register(Arc::new(NoVncDriver))
        .build()
        .expect("one driver");
    let settings = DispatchSettings::default();
    let ttl = settings.token_ttl();
    let dispatcher = Dispatcher::new(
        Arc::new(registry),
        Arc::new(backend),
        store.clone(),
        settings,
    )
    .with_clock(clock.clone());
    let member = Identity::new("alice", "demo", ["member"]);
    let target = server_id(SERVERS / 2);

    c.bench_function("create_console novnc, 5000 servers, memory store", |b| {
        b.iter_custom(|iters| {
            let mut timed = Duration::ZERO;
            for i in 0..iters {
                let started = Instant::now();
                let console = runtime
                    .block_on(dispatcher.create_console(&member, &target, "vnc", "novnc"))
                    .expect("console created");
                timed += started.elapsed();
                black_box(console);
                if (i + 1) % PURGE_EVERY == 0 {
                    clock.advance(ttl);
                    runtime.block_on(store.purge_expired()).expect("purge");
                }
            }
            timed
        });
    });
}

criterion_group!(benches, create_console);
criterion_main!(benches);
