//! Ending a server's consoles when its VM goes away (stopped, destroyed,
//! migrated): its tokens in the store, and the sessions this process
//! relays to it, as Nova's `clean_console_auths_for_instance` does for the
//! tokens.

use std::sync::Arc;

use tokio::sync::broadcast;

use crate::record::TokenRecord;
use crate::store::{StoreError, TokenStore};
use crate::token::TokenHash;

/// How many revocations a session may fall behind by before it stops
/// trusting the news and asks the store about its own token instead.
const BACKLOG: usize = 1024;

/// Revokes servers' consoles: what a backend calls when it learns that a
/// VM went away. Cheap to clone; every clone revokes for the same sessions.
#[derive(Clone)]
pub struct Revoker {
    store: Arc<dyn TokenStore>,
    news: broadcast::Sender<Arc<str>>,
}

impl std::fmt::Debug for Revoker {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Revoker")
            .field("sessions_watching", &self.news.receiver_count())
            .finish()
    }
}

impl Revoker {
    /// A revoker over `store`, with no session watching yet.
    pub fn new(store: Arc<dyn TokenStore>) -> Self {
        let (news, _) = broadcast::channel(BACKLOG);
        Revoker { store, news }
    }

    /// Voids every token of `instance_uuid` in the store, then ends this
    /// process's sessions of that server (each watching through a
    /// [`RevocationWatch`]); returns how many tokens went.
    ///
    /// The sessions end even when the store fails: a VM that went away
    /// must not keep a console open.
    ///
    /// # Errors
    /// The store's error; the caller should try again, since new
    /// connections with those tokens are still let in until it succeeds.
    pub async fn revoke_server(&self, instance_uuid: &str) -> Result<usize, StoreError> {
        let voided = self.store.revoke_server(instance_uuid).await;
        // No receiver is no session: nothing to tell.
        let _ = self.news.send(Arc::from(instance_uuid));
        voided
    }

    /// Starts listening for revocations, before a token is checked: a
    /// revocation that voids the token after the check is then heard
    /// (the store is voided before the news goes out). Bind it to the
    /// checked record with [`Listening::watch`].
    pub fn listen(&self) -> Listening {
        Listening {
            news: self.news.subscribe(),
            store: Arc::clone(&self.store),
        }
    }
}

/// Revocations heard since [`Revoker::listen`], not yet bound to a record.
pub struct Listening {
    news: broadcast::Receiver<Arc<str>>,
    store: Arc<dyn TokenStore>,
}

impl std::fmt::Debug for Listening {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Listening").finish_non_exhaustive()
    }
}

impl Listening {
    /// A watch that resolves when the server of `record` is revoked,
    /// counting revocations heard since listening began.
    pub fn watch(self, record: &TokenRecord) -> RevocationWatch {
        RevocationWatch {
            news: self.news,
            store: self.store,
            instance: Arc::from(record.instance_uuid.as_str()),
            hash: record.token_hash,
        }
    }
}

/// One session's view of revocations: see [`RevocationWatch::revoked`].
pub struct RevocationWatch {
    news: broadcast::Receiver<Arc<str>>,
    store: Arc<dyn TokenStore>,
    instance: Arc<str>,
    hash: TokenHash,
}

impl std::fmt::Debug for RevocationWatch {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RevocationWatch")
            .field("instance", &self.instance)
            .finish_non_exhaustive()
    }
}

impl RevocationWatch {
    /// Resolves when the session's server is revoked. When so many
    /// revocations came at once that some were missed, it asks the store
    /// whether the session's token is still there, and resolves if not (a
    /// store that cannot answer keeps the session). Cancel safe.
    pub async fn revoked(&mut self) {
        loop {
            match self.news.recv().await {
                Ok(instance) if instance == self.instance => return,
                Ok(_) => {}
                Err(broadcast::error::RecvError::Lagged(_)) => {
                    if let Ok(None) = self.store.validate(&self.hash).await {
                        return;
                    }
                }
                // The revoker is gone with its process's services: nothing
                // will be revoked any more.
                Err(broadcast::error::RecvError::Closed) => std::future::pending().await,
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;
    use crate::record::ConnectInfo;
    use crate::store::MemoryTokenStore;
    use crate::token::Token;

    fn record(token: &str, instance: &str) -> TokenRecord {
        TokenRecord {
            token_hash: Token::new(token).hash(),
            protocol: "vnc".into(),
            console_type: "novnc".into(),
            instance_uuid: instance.into(),
            connect: ConnectInfo {
                host: "h".into(),
                port: 5900,
                tls_port: None,
                internal_access_path: None,
                unix_socket: None,
            },
            access_url_base: "http://h/".into(),
            expires_at: u64::MAX,
            minted_by: None,
        }
    }

    async fn resolves(watch: &mut RevocationWatch) -> bool {
        tokio::time::timeout(Duration::from_millis(200), watch.revoked())
            .await
            .is_ok()
    }

    #[tokio::test]
    async fn only_the_named_servers_sessions_end_and_its_tokens_go() {
        let store: Arc<dyn TokenStore> = Arc::new(MemoryTokenStore::new());
        let (a, b) = (record("ta", "vm-a"), record("tb", "vm-b"));
        store.authorize(a.clone()).await.unwrap();
        store.authorize(b.clone()).await.unwrap();
        let revoker = Revoker::new(Arc::clone(&store));
        let (mut watch_a, mut watch_b) = (revoker.listen().watch(&a), revoker.listen().watch(&b));
        assert_eq!(revoker.revoke_server("vm-a").await.unwrap(), 1);
        assert!(resolves(&mut watch_a).await);
        assert!(!resolves(&mut watch_b).await);
        assert_eq!(store.validate(&a.token_hash).await.unwrap(), None);
        assert!(store.validate(&b.token_hash).await.unwrap().is_some());
    }

    #[tokio::test]
    async fn a_revocation_between_listening_and_binding_counts() {
        let store: Arc<dyn TokenStore> = Arc::new(MemoryTokenStore::new());
        let a = record("ta", "vm-a");
        let revoker = Revoker::new(Arc::clone(&store));
        let listening = revoker.listen();
        revoker.revoke_server("vm-a").await.unwrap();
        assert!(resolves(&mut listening.watch(&a)).await);
    }

    #[tokio::test]
    async fn a_watch_that_fell_behind_asks_the_store() {
        let store: Arc<dyn TokenStore> = Arc::new(MemoryTokenStore::new());
        let (kept, gone) = (record("tk", "vm-kept"), record("tg", "vm-gone"));
        store.authorize(kept.clone()).await.unwrap();
        store.authorize(gone.clone()).await.unwrap();
        let revoker = Revoker::new(Arc::clone(&store));
        let (mut watch_kept, mut watch_gone) =
            (revoker.listen().watch(&kept), revoker.listen().watch(&gone));
        revoker.revoke_server("vm-gone").await.unwrap();
        for i in 0..BACKLOG + 1 {
            revoker.revoke_server(&format!("other-{i}")).await.unwrap();
        }
        assert!(resolves(&mut watch_gone).await, "its token is gone");
        assert!(!resolves(&mut watch_kept).await, "its token is still live");
    }
}
