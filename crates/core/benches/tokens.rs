//! The token's hot pieces on the proxy's side of a console: hashing the
//! token a client presents, and looking its record up in a memory store
//! holding many live records (what every session open pays before a
//! backend byte flows).

// criterion_group! expands to an undocumented `pub fn`.
#![allow(missing_docs)]

use std::hint::black_box;
use std::sync::Arc;

use consoled_core::{
    ConnectInfo, MemoryTokenStore, MintedBy, StoreLimits, Token, TokenRecord, TokenStore,
};
use consoled_testkit::FixedClock;
use criterion::{criterion_group, criterion_main, Criterion};

/// Live records in the store: a busy region's consoles within one TTL.
const RECORDS: usize = 200_000;

fn record(n: usize) -> TokenRecord {
    TokenRecord {
        token_hash: Token::new(format!("bench-token-{n}")).hash(),
        protocol: "vnc".into(),
        console_type: "novnc".into(),
        instance_uuid: format!("server-{}", n % 5_000),
        connect: ConnectInfo {
            host: "10.0.0.1".into(),
            port: 5900,
            tls_port: None,
            internal_access_path: None,
            unix_socket: None,
        },
        access_url_base: "http://127.0.0.1:6080/vnc_auto.html".into(),
        expires_at: 1_700_000_600,
        minted_by: Some(MintedBy {
            user_id: "alice".into(),
            project_id: format!("project-{}", n % 100),
        }),
    }
}

fn tokens(c: &mut Criterion) {
    let token = Token::new("8d3b7a0e-6c55-4f0e-9d0c-4c1d0f2b9a11");
    c.bench_function("token hash (SHA-256 of a UUID token)", |b| {
        b.iter(|| black_box(black_box(&token).hash()))
    });

    let runtime = tokio::runtime::Builder::new_current_thread()
        .build()
        .expect("a Tokio runtime");
    let store = Arc::new(MemoryTokenStore::with_clock_and_limits(
        FixedClock::at(1_700_000_000),
        StoreLimits {
            max_live_records: RECORDS * 2,
            max_live_records_per_project: 0,
        },
    ));
    runtime.block_on(async {
        for n in 0..RECORDS {
            store.authorize(record(n)).await.expect("room");
        }
    });
    let present = Token::new(format!("bench-token-{}", RECORDS / 2));
    c.bench_function("token validate (hash + look-up, 200k live records)", |b| {
        b.iter(|| {
            let hash = black_box(&present).hash();
            runtime
                .block_on(store.validate(&hash))
                .expect("answers")
                .expect("live")
        })
    });
}

criterion_group!(benches, tokens);
criterion_main!(benches);
