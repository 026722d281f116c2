//! The token store suite: one function every [`TokenStore`] runs in its
//! own tests.

use std::sync::Arc;
use std::time::{Duration, SystemTime};

use consoled_core::{
    unix_seconds, ConnectInfo, MintedBy, StoreError, StoreLimits, Token, TokenRecord, TokenStore,
};

use crate::FixedClock;

/// How many tasks the concurrency check runs, and records per task.
const TASKS: usize = 16;
const RECORDS_PER_TASK: usize = 25;
/// The most a store with native (real-time) expiry may take to forget an
/// expired record.
const NATIVE_EXPIRY_LIMIT: Duration = Duration::from_secs(5);

/// Runs every token store check; `make` builds a fresh, empty store on the
/// given clock, with the given limits, for each check.
///
/// The clock starts at the current real time, so that a store with native
/// expiry (a TTL in Redis) agrees with the records' `expires_at`. Expiry is
/// checked three ways: a record created already expired is never valid; a
/// record is void once the clock passes its `expires_at`; and a store that
/// expires by real time rather than by the clock is given a few real
/// seconds to forget a record whose `expires_at` has passed in real time.
///
/// Checks: authorize/validate round trip; unknown hash; expiry; a token
/// valid for many validations; `revoke_server` removes that server's
/// records only and counts them; `purge_expired` keeps live records;
/// concurrent authorize/validate from many tasks; a project at its cap
/// (`max_live_records_per_project`) is refused with
/// [`StoreError::OverQuota`] while another project still mints, and
/// revocation and expiry give its places back.
///
/// # Panics
/// On the first failed check, or when the store returns an error.
pub async fn run_token_store_suite<S, F>(make: F)
where
    S: TokenStore,
    F: Fn(Arc<FixedClock>, StoreLimits) -> S,
{
    let with_limits = |limits| {
        let clock = FixedClock::at(unix_seconds(SystemTime::now()));
        let store = make(clock.clone(), limits);
        (clock, store)
    };
    let fresh = || with_limits(StoreLimits::default());
    round_trip(fresh().1).await;
    expiry(fresh()).await;
    many_validations(fresh().1).await;
    revoke_server(fresh().1).await;
    purge_expired(fresh()).await;
    concurrent(Arc::new(fresh().1)).await;
    per_project_cap(with_limits(StoreLimits {
        max_live_records: 1_000,
        max_live_records_per_project: QUOTA,
    }))
    .await;
}

/// The per-project cap the quota check configures.
const QUOTA: usize = 3;

/// A record for a fresh token of `server`, valid for `ttl` seconds (or
/// expired that long ago when negative) from `clock`'s now.
fn record(clock: &FixedClock, server: &str, n: usize, ttl: i64) -> TokenRecord {
    use consoled_core::Clock;
    let now = unix_seconds(clock.now());
    TokenRecord {
        token_hash: Token::new(format!("store-suite-{server}-{n}")).hash(),
        protocol: "vnc".into(),
        console_type: "novnc".into(),
        instance_uuid: server.to_owned(),
        connect: ConnectInfo {
            host: "10.0.0.7".into(),
            port: 5900 + (n % 100) as u16,
            tls_port: Some(5901),
            internal_access_path: Some(format!("/console/{n}")),
            unix_socket: None,
        },
        access_url_base: "http://127.0.0.1:6080/vnc_auto.html".into(),
        expires_at: now.saturating_add_signed(ttl),
        minted_by: None,
    }
}

async fn authorize<S: TokenStore + ?Sized>(store: &S, r: &TokenRecord) {
    if let Err(e) = store.authorize(r.clone()).await {
        panic!("token store suite: authorize failed: {e}");
    }
}

async fn validate<S: TokenStore + ?Sized>(store: &S, r: &TokenRecord) -> Option<TokenRecord> {
    store
        .validate(&r.token_hash)
        .await
        .unwrap_or_else(|e| panic!("token store suite: validate failed: {e}"))
}

async fn round_trip<S: TokenStore>(store: S) {
    let clock = FixedClock::at(unix_seconds(SystemTime::now()));
    let r = record(&clock, "server-a", 1, 600);
    authorize(&store, &r).await;
    assert_eq!(
        validate(&store, &r).await.as_ref(),
        Some(&r),
        "token store suite: validate must return the authorized record unchanged"
    );
    let unknown = record(&clock, "server-a", 2, 600);
    assert_eq!(
        validate(&store, &unknown).await,
        None,
        "token store suite: an unknown hash must validate to None"
    );
}

async fn expiry<S: TokenStore>((clock, store): (Arc<FixedClock>, S)) {
    let stale = record(&clock, "server-a", 1, -5);
    authorize(&store, &stale).await;
    assert_eq!(
        validate(&store, &stale).await,
        None,
        "token store suite: a record created already expired must not validate"
    );

    let short = record(&clock, "server-a", 2, 1);
    authorize(&store, &short).await;
    assert!(
        validate(&store, &short).await.is_some(),
        "token store suite: a live record must validate"
    );
    clock.advance(Duration::from_secs(2));
    if validate(&store, &short).await.is_some() {
        // The store expires by real time: the record's second is passing.
        let deadline = tokio::time::Instant::now() + NATIVE_EXPIRY_LIMIT;
        while validate(&store, &short).await.is_some() {
            assert!(
                tokio::time::Instant::now() < deadline,
                "token store suite: a record still validates long after its expires_at"
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }
}

async fn many_validations<S: TokenStore>(store: S) {
    let clock = FixedClock::at(unix_seconds(SystemTime::now()));
    let r = record(&clock, "server-a", 1, 600);
    authorize(&store, &r).await;
    for i in 0..20 {
        assert!(
            validate(&store, &r).await.is_some(),
            "token store suite: a token must stay valid for many connections (validation {i} failed)"
        );
    }
}

async fn revoke_server<S: TokenStore>(store: S) {
    let clock = FixedClock::at(unix_seconds(SystemTime::now()));
    let doomed: Vec<_> = (0..3)
        .map(|n| record(&clock, "server-doomed", n, 600))
        .collect();
    let kept: Vec<_> = (0..2)
        .map(|n| record(&clock, "server-kept", n, 600))
        .collect();
    for r in doomed.iter().chain(&kept) {
        authorize(&store, r).await;
    }
    let revoke = |id: &'static str| async { store.revoke_server(id).await };
    let revoked = revoke("server-doomed")
        .await
        .unwrap_or_else(|e| panic!("token store suite: revoke_server failed: {e}"));
    assert_eq!(
        revoked, 3,
        "token store suite: revoke_server must count the records it removed"
    );
    for r in &doomed {
        assert_eq!(
            validate(&store, r).await,
            None,
            "token store suite: a revoked token still validates"
        );
    }
    for r in &kept {
        assert!(
            validate(&store, r).await.is_some(),
            "token store suite: revoke_server removed another server's token"
        );
    }
    let none = revoke("server-unknown")
        .await
        .unwrap_or_else(|e| panic!("token store suite: revoke_server failed: {e}"));
    assert_eq!(
        none, 0,
        "token store suite: revoking a server without tokens must count 0"
    );
}

async fn purge_expired<S: TokenStore>((clock, store): (Arc<FixedClock>, S)) {
    let live: Vec<_> = (0..3)
        .map(|n| record(&clock, "server-live", n, 600))
        .collect();
    // Created already expired, so that a store expiring by real time has
    // forgotten them too.
    let stale: Vec<_> = (0..4)
        .map(|n| record(&clock, "server-stale", n, -30))
        .collect();
    for r in live.iter().chain(&stale) {
        authorize(&store, r).await;
    }
    clock.advance(Duration::from_secs(1));
    let purged = store
        .purge_expired()
        .await
        .unwrap_or_else(|e| panic!("token store suite: purge_expired failed: {e}"));
    // A store with native expiry may have nothing left to purge.
    assert!(
        purged <= stale.len(),
        "token store suite: purge_expired counted {purged} records, only {} had expired",
        stale.len()
    );
    for r in &live {
        assert!(
            validate(&store, r).await.is_some(),
            "token store suite: purge_expired removed a live record"
        );
    }
    for r in &stale {
        assert_eq!(
            validate(&store, r).await,
            None,
            "token store suite: an expired record validates after a purge"
        );
    }
    let again = store
        .purge_expired()
        .await
        .unwrap_or_else(|e| panic!("token store suite: purge_expired failed: {e}"));
    assert_eq!(
        again, 0,
        "token store suite: a second purge found more expired records"
    );
}

async fn concurrent<S: TokenStore>(store: Arc<S>) {
    let clock = FixedClock::at(unix_seconds(SystemTime::now()));
    let tasks: Vec<_> = (0..TASKS)
        .map(|t| {
            let store = store.clone();
            let records: Vec<_> = (0..RECORDS_PER_TASK)
                .map(|n| record(&clock, &format!("server-{t}"), n, 600))
                .collect();
            tokio::spawn(async move {
                for r in &records {
                    authorize(&*store, r).await;
                    assert_eq!(
                        validate(&*store, r).await.as_ref(),
                        Some(r),
                        "token store suite: a record authorized by this task does not validate"
                    );
                }
                records
            })
        })
        .collect();
    let mut all = Vec::new();
    for task in tasks {
        match task.await {
            Ok(records) => all.extend(records),
            Err(e) if e.is_panic() => std::panic::resume_unwind(e.into_panic()),
            Err(e) => panic!("token store suite: a concurrent task failed: {e}"),
        }
    }
    for r in &all {
        assert!(
            validate(&*store, r).await.is_some(),
            "token store suite: a record went missing under concurrent use"
        );
    }
}

/// `record`, minted by someone in `project`.
fn minted(clock: &FixedClock, project: &str, server: &str, n: usize, ttl: i64) -> TokenRecord {
    TokenRecord {
        minted_by: Some(MintedBy {
            user_id: format!("user-of-{project}"),
            project_id: project.to_owned(),
        }),
        ..record(clock, &format!("{project}-{server}"), n, ttl)
    }
}

async fn per_project_cap<S: TokenStore>((clock, store): (Arc<FixedClock>, S)) {
    let busy: Vec<_> = (0..QUOTA)
        .map(|n| {
            minted(
                &clock,
                "busy",
                if n == 0 { "short" } else { "long" },
                n,
                if n == 0 { 1 } else { 600 },
            )
        })
        .collect();
    for r in &busy {
        authorize(&store, r).await;
    }
    let over = minted(&clock, "busy", "long", QUOTA, 600);
    match store.authorize(over.clone()).await {
        Err(StoreError::OverQuota { project, limit }) => assert!(
            project == "busy" && limit == QUOTA,
            "token store suite: the quota refusal names {project} and {limit}"
        ),
        other => {
            panic!("token store suite: a project over its cap must get OverQuota, got {other:?}")
        }
    }
    assert_eq!(
        validate(&store, &over).await,
        None,
        "token store suite: a record refused over quota must not validate"
    );
    // Storing a record the project already holds takes no new place.
    authorize(&store, &busy[1]).await;
    authorize(&store, &minted(&clock, "quiet", "a", 0, 600)).await;

    // Revocation gives places back.
    let revoked = store
        .revoke_server("busy-long")
        .await
        .unwrap_or_else(|e| panic!("token store suite: revoke_server failed: {e}"));
    assert_eq!(revoked, QUOTA - 1);
    for n in 0..QUOTA - 1 {
        authorize(&store, &minted(&clock, "busy", "again", n, 600)).await;
    }
    // And so does expiry: the short record's second passes (by the
    // store's clock, or by real time for a store that keeps its own).
    clock.advance(Duration::from_secs(2));
    let last = minted(&clock, "busy", "again", QUOTA, 600);
    let deadline = tokio::time::Instant::now() + NATIVE_EXPIRY_LIMIT;
    loop {
        match store.authorize(last.clone()).await {
            Ok(()) => break,
            Err(StoreError::OverQuota { .. }) if tokio::time::Instant::now() < deadline => {
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
            Err(e) => {
                panic!("token store suite: an expired record still counts against its project: {e}")
            }
        }
    }
    assert!(validate(&store, &last).await.is_some());
}
