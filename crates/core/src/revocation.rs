//! Ending consoles: a server's (when its VM goes away, or an operator
//! says so), its tokens in the store and the sessions relaying to it on
//! every proxy node, as Nova's `clean_console_auths_for_instance` does for
//! the tokens; or one session.

use std::sync::Arc;

use tokio::sync::broadcast;

use crate::record::TokenRecord;
use crate::sessions::{Cut, LocalSessions, SessionDirectory};
use crate::store::{StoreError, TokenStore};
use crate::token::TokenHash;

/// Revokes servers' consoles and cuts sessions: what a backend calls when
/// it learns that a VM went away, and what the admin API calls. Cheap to
/// clone; every clone reaches the same sessions.
#[derive(Clone)]
pub struct Revoker {
    store: Arc<dyn TokenStore>,
    directory: Arc<dyn SessionDirectory>,
}

impl std::fmt::Debug for Revoker {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Revoker").finish_non_exhaustive()
    }
}

impl Revoker {
    /// A revoker over `store` whose orders reach this process's sessions.
    pub fn new(store: Arc<dyn TokenStore>) -> Self {
        Revoker::with_directory(store, Arc::new(LocalSessions::new()))
    }

    /// A revoker over `store` whose orders go through `directory`, so that
    /// they reach every node sharing it.
    pub fn with_directory(
        store: Arc<dyn TokenStore>,
        directory: Arc<dyn SessionDirectory>,
    ) -> Self {
        Revoker { store, directory }
    }

    /// Where sessions are published and orders go.
    pub fn directory(&self) -> &Arc<dyn SessionDirectory> {
        &self.directory
    }

    /// Voids every token of `instance_uuid` in the store, then ends every
    /// session of that server on every node (each watching through a
    /// [`RevocationWatch`]); returns how many tokens went.
    ///
    /// The order goes out even when the store fails: a VM that went away
    /// must not keep a console open.
    ///
    /// # Errors
    /// The store's or the directory's error; the caller should try again
    /// (both steps may be repeated), since until the store succeeds new
    /// connections with those tokens are still let in.
    pub async fn revoke_server(&self, instance_uuid: &str) -> Result<usize, StoreError> {
        let voided = self.store.revoke_server(instance_uuid).await;
        self.directory
            .send(Cut::Server(instance_uuid.to_owned()))
            .await?;
        voided
    }

    /// Tells every other session of `record`'s server and type listed in
    /// the directory to end, since session `session_id` takes over
    /// (`[consoles.<type>] sessions = "takeover"`); returns how many were
    /// told.
    ///
    /// # Errors
    /// The directory's error.
    pub async fn take_over(
        &self,
        record: &TokenRecord,
        session_id: &str,
    ) -> Result<usize, StoreError> {
        let mut told = 0;
        for other in self.directory.list().await? {
            if other.id != session_id
                && other.instance_uuid == record.instance_uuid
                && other.console_type == record.console_type
            {
                self.directory.send(Cut::TakenOver(other.id)).await?;
                told += 1;
            }
        }
        Ok(told)
    }

    /// Ends the session `session_id`, on whichever node relays it. Its
    /// token stays valid: the user may open the console again.
    ///
    /// # Errors
    /// The directory's error.
    pub async fn cut_session(&self, session_id: &str) -> Result<(), StoreError> {
        self.directory
            .send(Cut::Session(session_id.to_owned()))
            .await
    }

    /// Starts listening for revocations, before a token is checked: a
    /// revocation that voids the token after the check is then heard
    /// (the store is voided before the news goes out). Bind it to the
    /// checked record with [`Listening::watch`].
    pub fn listen(&self) -> Listening {
        Listening {
            news: self.directory.subscribe(),
            store: Arc::clone(&self.store),
        }
    }
}

/// Orders heard since [`Revoker::listen`], not yet bound to a session.
pub struct Listening {
    news: broadcast::Receiver<Cut>,
    store: Arc<dyn TokenStore>,
}

impl std::fmt::Debug for Listening {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Listening").finish_non_exhaustive()
    }
}

impl Listening {
    /// A watch that resolves when the server of `record` is revoked or the
    /// session `session_id` is cut, counting orders heard since listening
    /// began.
    pub fn watch(self, record: &TokenRecord, session_id: &str) -> RevocationWatch {
        RevocationWatch {
            news: self.news,
            store: self.store,
            instance: record.instance_uuid.clone(),
            session: session_id.to_owned(),
            hash: record.token_hash,
        }
    }
}

/// Why [`RevocationWatch::revoked`] resolved.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Ended {
    /// Its server was revoked, or an operator cut it.
    Revoked,
    /// A newer session of its console took over.
    TakenOver,
}

/// One session's view of the orders: see [`RevocationWatch::revoked`].
pub struct RevocationWatch {
    news: broadcast::Receiver<Cut>,
    store: Arc<dyn TokenStore>,
    instance: String,
    session: String,
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
    /// Resolves when the session's server is revoked or the session is
    /// cut, and says which. When so many orders came at once that some
    /// were missed, it asks the store whether the session's token is still
    /// there, and resolves if not (a store that cannot answer keeps the
    /// session). Cancel safe.
    pub async fn revoked(&mut self) -> Ended {
        loop {
            match self.news.recv().await {
                Ok(Cut::Server(instance)) if instance == self.instance => return Ended::Revoked,
                Ok(Cut::Session(id)) if id == self.session => return Ended::Revoked,
                Ok(Cut::TakenOver(id)) if id == self.session => return Ended::TakenOver,
                Ok(_) => {}
                Err(broadcast::error::RecvError::Lagged(_)) => {
                    if let Ok(None) = self.store.validate(&self.hash).await {
                        return Ended::Revoked;
                    }
                }
                // The directory is gone with its process's services:
                // nothing will be cut any more.
                Err(broadcast::error::RecvError::Closed) => std::future::pending().await,
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;
    use crate::record::sample_record;
    use crate::store::MemoryTokenStore;

    fn record(token: &str, instance: &str) -> TokenRecord {
        TokenRecord {
            instance_uuid: instance.into(),
            ..sample_record(token)
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
        let (mut watch_a, mut watch_b) = (
            revoker.listen().watch(&a, "s-a"),
            revoker.listen().watch(&b, "s-b"),
        );
        assert_eq!(revoker.revoke_server("vm-a").await.unwrap(), 1);
        assert!(resolves(&mut watch_a).await);
        assert!(!resolves(&mut watch_b).await);
        assert_eq!(store.validate(&a.token_hash).await.unwrap(), None);
        assert!(store.validate(&b.token_hash).await.unwrap().is_some());
    }

    #[tokio::test]
    async fn a_cut_session_ends_alone_and_keeps_its_token() {
        let store: Arc<dyn TokenStore> = Arc::new(MemoryTokenStore::new());
        let a = record("ta", "vm-a");
        store.authorize(a.clone()).await.unwrap();
        let revoker = Revoker::new(Arc::clone(&store));
        let (mut cut, mut other) = (
            revoker.listen().watch(&a, "s-1"),
            revoker.listen().watch(&a, "s-2"),
        );
        revoker.cut_session("s-1").await.unwrap();
        assert!(resolves(&mut cut).await);
        assert!(
            !resolves(&mut other).await,
            "the same server's other session goes on"
        );
        assert!(store.validate(&a.token_hash).await.unwrap().is_some());
    }

    #[tokio::test]
    async fn a_revocation_between_listening_and_binding_counts() {
        let store: Arc<dyn TokenStore> = Arc::new(MemoryTokenStore::new());
        let a = record("ta", "vm-a");
        let revoker = Revoker::new(Arc::clone(&store));
        let listening = revoker.listen();
        revoker.revoke_server("vm-a").await.unwrap();
        assert!(resolves(&mut listening.watch(&a, "s-a")).await);
    }

    #[tokio::test]
    async fn a_watch_that_fell_behind_asks_the_store() {
        let store: Arc<dyn TokenStore> = Arc::new(MemoryTokenStore::new());
        let (kept, gone) = (record("tk", "vm-kept"), record("tg", "vm-gone"));
        store.authorize(kept.clone()).await.unwrap();
        store.authorize(gone.clone()).await.unwrap();
        let revoker = Revoker::new(Arc::clone(&store));
        let (mut watch_kept, mut watch_gone) = (
            revoker.listen().watch(&kept, "s-k"),
            revoker.listen().watch(&gone, "s-g"),
        );
        revoker.revoke_server("vm-gone").await.unwrap();
        for i in 0..crate::sessions::ORDER_BACKLOG + 1 {
            revoker.revoke_server(&format!("other-{i}")).await.unwrap();
        }
        assert!(resolves(&mut watch_gone).await, "its token is gone");
        assert!(!resolves(&mut watch_kept).await, "its token is still live");
    }
}
