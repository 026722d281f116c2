//! This node's live sessions, published to the session directory by a
//! task of their own, so that a slow or absent directory (Redis down)
//! delays the session list, never a session.

use std::collections::{HashMap, HashSet};
use std::sync::Arc;
use std::time::Duration;

use consoled_core::sessions::{SessionDirectory, SessionInfo};
use tokio::sync::mpsc;

/// How often the node republishes its sessions (their byte counts, and
/// that it is alive).
pub(crate) const HEARTBEAT: Duration = Duration::from_secs(5);

/// How long a node's sessions stay listed after its last heartbeat: a
/// node that died drops off the list within this.
pub(crate) const LISTED_FOR: Duration = Duration::from_secs(15);

/// What the publishing task is told.
#[derive(Debug)]
enum Change {
    Opened(Box<SessionInfo>),
    Progress {
        id: Arc<str>,
        to_client: u64,
        to_backend: u64,
    },
    Ended(Arc<str>),
}

/// The node's handle on its sessions. Cheap to clone.
#[derive(Clone, Debug)]
pub(crate) struct LiveSessions {
    node: Arc<str>,
    changes: mpsc::UnboundedSender<Change>,
}

impl LiveSessions {
    /// Starts publishing `node`'s sessions to `directory`; the task ends
    /// when every handle is gone, after taking the node's last sessions
    /// off the list. Needs a Tokio runtime.
    pub(crate) fn start(node: &str, directory: Arc<dyn SessionDirectory>) -> Self {
        let (changes, receiver) = mpsc::unbounded_channel();
        let node: Arc<str> = Arc::from(node);
        tokio::spawn(publish(Arc::clone(&node), directory, receiver));
        LiveSessions { node, changes }
    }

    /// The node's name.
    pub(crate) fn node(&self) -> &str {
        &self.node
    }

    /// Lists `info` until the returned guard drops.
    pub(crate) fn opened(&self, info: SessionInfo) -> Listed {
        let id: Arc<str> = Arc::from(info.id.as_str());
        let _ = self.changes.send(Change::Opened(Box::new(info)));
        Listed {
            id,
            changes: self.changes.clone(),
        }
    }
}

/// A session on the list; dropping it takes the session off.
#[derive(Debug)]
pub(crate) struct Listed {
    id: Arc<str>,
    changes: mpsc::UnboundedSender<Change>,
}

impl Listed {
    /// The session's byte counts so far, for the next publication.
    pub(crate) fn progress(&self, to_client: u64, to_backend: u64) {
        let _ = self.changes.send(Change::Progress {
            id: Arc::clone(&self.id),
            to_client,
            to_backend,
        });
    }
}

impl Drop for Listed {
    fn drop(&mut self) {
        let _ = self.changes.send(Change::Ended(Arc::clone(&self.id)));
    }
}

/// Publishes `node`'s sessions: each one when it opens and ends; at each
/// heartbeat the ones whose counts moved (an idle session costs nothing),
/// and every one after a failed write, since the directory may have lost
/// them (a Redis that restarted).
async fn publish(
    node: Arc<str>,
    directory: Arc<dyn SessionDirectory>,
    mut changes: mpsc::UnboundedReceiver<Change>,
) {
    let mut sessions: HashMap<Arc<str>, SessionInfo> = HashMap::new();
    let mut moved: HashSet<Arc<str>> = HashSet::new();
    let mut beat = tokio::time::interval(HEARTBEAT);
    beat.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    let mut failing = false;
    // Set by any failed write, cleared by a heartbeat that carried all.
    let mut resend_all = false;
    loop {
        let outcome = tokio::select! {
            change = changes.recv() => match change {
                Some(Change::Opened(info)) => {
                    let result = directory
                        .heartbeat(&node, std::slice::from_ref(&*info), LISTED_FOR)
                        .await;
                    sessions.insert(Arc::from(info.id.as_str()), *info);
                    result
                }
                Some(Change::Progress { id, to_client, to_backend }) => {
                    if let Some(info) = sessions.get_mut(&id) {
                        if (info.to_client, info.to_backend) != (to_client, to_backend) {
                            info.to_client = to_client;
                            info.to_backend = to_backend;
                            moved.insert(id);
                        }
                    }
                    Ok(())
                }
                Some(Change::Ended(id)) => {
                    sessions.remove(&id);
                    moved.remove(&id);
                    directory.ended(&node, &[id.to_string()]).await
                }
                None => {
                    let last: Vec<String> = sessions.keys().map(|id| id.to_string()).collect();
                    let _ = directory.ended(&node, &last).await;
                    return;
                }
            },
            _ = beat.tick() => {
                let due: Vec<SessionInfo> = if resend_all {
                    sessions.values().cloned().collect()
                } else {
                    moved.iter().filter_map(|id| sessions.get(id).cloned()).collect()
                };
                let result = directory.heartbeat(&node, &due, LISTED_FOR).await;
                if result.is_ok() {
                    moved.clear();
                    resend_all = false;
                }
                result
            }
        };
        match outcome {
            Err(e) => {
                resend_all = true;
                if !failing {
                    tracing::warn!(node = %node, error = %e, "cannot publish live sessions; retrying at each heartbeat");
                    failing = true;
                }
            }
            Ok(()) if failing => {
                tracing::info!(node = %node, "live sessions published again");
                failing = false;
            }
            Ok(()) => {}
        }
    }
}

/// The node's name when none is configured: this host's name and the
/// process id, unique among the nodes of one host.
pub(crate) fn default_node_name() -> String {
    let host = std::fs::read_to_string("/proc/sys/kernel/hostname")
        .ok()
        .map(|h| h.trim().to_owned())
        .filter(|h| !h.is_empty())
        .unwrap_or_else(|| "localhost".to_owned());
    format!("{host}-{}", std::process::id())
}

#[cfg(test)]
mod tests {
    use consoled_core::sessions::LocalSessions;

    use super::*;

    fn info(id: &str) -> SessionInfo {
        SessionInfo {
            id: id.into(),
            node: "n1".into(),
            instance_uuid: "vm".into(),
            console_type: "serial".into(),
            client: "127.0.0.1:1".into(),
            started_at: 1,
            to_client: 0,
            to_backend: 0,
            minted_by: None,
        }
    }

    async fn listed(dir: &LocalSessions, want: usize) -> Vec<SessionInfo> {
        for _ in 0..200 {
            let now = dir.list().await.unwrap();
            if now.len() == want {
                return now;
            }
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        panic!("never {want} listed");
    }

    #[tokio::test]
    async fn sessions_are_listed_while_their_guard_lives() {
        let dir = Arc::new(LocalSessions::new());
        let live = LiveSessions::start("n1", dir.clone());
        let one = live.opened(info("s1"));
        let two = live.opened(info("s2"));
        listed(&dir, 2).await;
        drop(one);
        assert_eq!(listed(&dir, 1).await[0].id, "s2");
        two.progress(10, 20);
        drop(two);
        listed(&dir, 0).await;
    }

    #[tokio::test(start_paused = true)]
    async fn byte_counts_go_out_with_the_heartbeat() {
        let dir = Arc::new(LocalSessions::new());
        let live = LiveSessions::start("n1", dir.clone());
        let one = live.opened(info("s1"));
        one.progress(1000, 7);
        tokio::time::sleep(HEARTBEAT + Duration::from_millis(10)).await;
        let all = dir.list().await.unwrap();
        assert_eq!((all[0].to_client, all[0].to_backend), (1000, 7));
    }

    #[test]
    fn the_default_node_name_carries_the_pid() {
        assert!(default_node_name().ends_with(&format!("-{}", std::process::id())));
    }
}
