//! Revocation across masters: every record of the server is void, the
//! quota places come back, and a write racing the revocation stays void.

use consoled_core::{StoreError, StoreLimits, Token, TokenStore};
use redis::AsyncCommands;

use crate::{cluster, keys_per_master, minted, prefix, record, store};

#[tokio::test]
async fn revocation_voids_the_server_on_every_master() {
    let cluster = cluster().await;
    let prefix = prefix("revoke");
    let store = store(cluster, &prefix).await.with_limits(StoreLimits {
        max_live_records: 100_000,
        max_live_records_per_project: 120,
    });
    let doomed: Vec<_> = (0..120)
        .map(|n| minted(&Token::new(format!("doomed-{n}")), "server-doomed", "p1"))
        .collect();
    let kept: Vec<_> = (0..30)
        .map(|n| record(&Token::new(format!("kept-{n}")), "server-kept", 600))
        .collect();
    for r in doomed.iter().chain(&kept) {
        store.authorize(r.clone()).await.unwrap();
    }
    // The project is at its cap.
    let over = minted(&Token::new("over"), "server-other", "p1");
    assert!(matches!(
        store.authorize(over.clone()).await,
        Err(StoreError::OverQuota { .. })
    ));

    assert_eq!(store.revoke_server("server-doomed").await.unwrap(), 120);
    for r in &doomed {
        assert_eq!(store.validate(&r.token_hash).await.unwrap(), None);
    }
    for r in &kept {
        assert_eq!(
            store.validate(&r.token_hash).await.unwrap().as_ref(),
            Some(r)
        );
    }
    // Idempotent: nothing is left to revoke, and the index is gone.
    assert_eq!(store.revoke_server("server-doomed").await.unwrap(), 0);
    let mut conn = store.connection();
    assert!(!conn
        .exists::<_, bool>(format!("{prefix}server:server-doomed"))
        .await
        .unwrap());
    // The places came back.
    store.authorize(over.clone()).await.unwrap();
    assert!(store.validate(&over.token_hash).await.unwrap().is_some());
    assert_eq!(store.revoke_server("server-kept").await.unwrap(), 30);

    // What is left are the revoked records' marks (until their expiry),
    // on more than one master, and the unrelated server's index.
    let left = keys_per_master(cluster, &prefix).await;
    assert!(left.iter().filter(|k| !k.is_empty()).count() > 1);
    for key in left.iter().flatten() {
        assert!(
            key.starts_with(&format!("{prefix}token:"))
                || key == &format!("{prefix}server:server-other")
                || key == &format!("{prefix}project:p1"),
            "unexpected key {key}"
        );
    }
}

#[tokio::test]
async fn a_record_written_after_its_revocation_stays_void() {
    let cluster = cluster().await;
    let prefix = prefix("race");
    let store = store(cluster, &prefix).await;
    let r = record(&Token::new("racing"), "server-race", 600);
    // The token is indexed, and its record not yet written, when the
    // server is revoked: the state between authorize's two steps.
    let mut conn = store.connection();
    let _: () = conn
        .sadd(format!("{prefix}server:server-race"), r.token_hash.to_hex())
        .await
        .unwrap();
    let _: () = conn
        .expire(format!("{prefix}server:server-race"), 600)
        .await
        .unwrap();
    assert_eq!(store.revoke_server("server-race").await.unwrap(), 0);
    store.authorize(r.clone()).await.unwrap();
    assert_eq!(store.validate(&r.token_hash).await.unwrap(), None);
    // A later token of the same server is a new one: it is valid.
    let later = record(&Token::new("later"), "server-race", 600);
    store.authorize(later.clone()).await.unwrap();
    assert!(store.validate(&later.token_hash).await.unwrap().is_some());
}
