//! This node's live sessions, published to the session directory by a
//! task of their own, so that a slow or absent directory (Redis down)
//! delays the session list, never a session.
//!
//! The task gathers what changes for [`GATHER`] after the first change
//! before it writes: sessions that open and end in a burst wake it once
//! and cost the directory one write per window, not one each. Woken on
//! every open, it cost each open about 45 µs of latency on a two-core
//! host (the waking worker also wakes the idle one). A session whose
//! console is exclusive or taken over is written at once: the next
//! session of its console, on any node, looks for it in the list.

use std::collections::{HashMap, HashSet};
use std::sync::Arc;
use std::time::Duration;

use consoled_core::sessions::{SessionDirectory, SessionInfo};
use consoled_core::StoreError;
use tokio::sync::{mpsc, Notify};

/// How often the node republishes its sessions (their byte counts, and
/// that it is alive).
pub(crate) const HEARTBEAT: Duration = Duration::from_secs(5);

/// How long a node's sessions stay listed after its last heartbeat: a
/// node that died drops off the list within this.
pub(crate) const LISTED_FOR: Duration = Duration::from_secs(15);

/// How long the publishing task gathers changes after the first one: a
/// session is listed, and taken off the list, within about this.
pub(crate) const GATHER: Duration = Duration::from_millis(100);

/// What the publishing task is told.
#[derive(Debug)]
enum Change {
    /// The session's id as its [`Listed`] guard names it, so that the
    /// task keys it by the same allocation.
    Opened(Arc<str>, Box<SessionInfo>),
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
    /// Ends the gathering window early, for a session listed at once.
    at_once: Arc<Notify>,
}

impl LiveSessions {
    /// Starts publishing `node`'s sessions to `directory`; the task ends
    /// when every handle is gone, after taking the node's last sessions
    /// off the list. Needs a Tokio runtime.
    pub(crate) fn start(node: &str, directory: Arc<dyn SessionDirectory>) -> Self {
        let (changes, receiver) = mpsc::unbounded_channel();
        let node: Arc<str> = Arc::from(node);
        let at_once = Arc::new(Notify::new());
        tokio::spawn(publish(
            Arc::clone(&node),
            directory,
            receiver,
            Arc::clone(&at_once),
        ));
        LiveSessions {
            node,
            changes,
            at_once,
        }
    }

    /// The node's name.
    pub(crate) fn node(&self) -> &str {
        &self.node
    }

    /// Lists `info` until the returned guard drops: within [`GATHER`], or
    /// `at_once`.
    pub(crate) fn opened(&self, info: SessionInfo, at_once: bool) -> Listed {
        let id: Arc<str> = Arc::from(info.id.as_str());
        let _ = self
            .changes
            .send(Change::Opened(Arc::clone(&id), Box::new(info)));
        if at_once {
            // Ends the window under way, or (the task idle) leaves a
            // permit that ends the window this change opens at once.
            self.at_once.notify_one();
        }
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

/// Publishes `node`'s sessions until every handle on them is gone: those
/// opened and ended since the last write, [`GATHER`] after the first of
/// them or when `at_once` is notified; at each heartbeat the ones whose
/// counts moved (an idle session costs nothing), and every one after a
/// failed write, since the directory may have lost them (a Redis that
/// restarted).
async fn publish(
    node: Arc<str>,
    directory: Arc<dyn SessionDirectory>,
    mut changes: mpsc::UnboundedReceiver<Change>,
    at_once: Arc<Notify>,
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
            change = changes.recv() => {
                let Some(first) = change else {
                    let last: Vec<String> = sessions.keys().map(|id| id.to_string()).collect();
                    let _ = directory.ended(&node, &last).await;
                    return;
                };
                // Not waiting on the channel while asleep: the changes of
                // the window do not wake the task.
                tokio::select! {
                    () = tokio::time::sleep(GATHER) => {}
                    () = at_once.notified() => {}
                }
                let mut window = Window::default();
                window.take(first, &mut sessions, &mut moved);
                while let Ok(change) = changes.try_recv() {
                    window.take(change, &mut sessions, &mut moved);
                }
                window.write(&node, &*directory, &sessions).await
            }
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

/// The sessions one gathering window opened and ended.
#[derive(Default)]
struct Window {
    /// Opened in the window, and still open.
    opened: HashSet<Arc<str>>,
    /// Ended in the window, listed before it.
    ended: Vec<String>,
}

impl Window {
    /// Applies `change` to the node's `sessions` and notes what to write.
    fn take(
        &mut self,
        change: Change,
        sessions: &mut HashMap<Arc<str>, SessionInfo>,
        moved: &mut HashSet<Arc<str>>,
    ) {
        match change {
            Change::Opened(id, info) => {
                sessions.insert(Arc::clone(&id), *info);
                self.opened.insert(id);
            }
            Change::Progress {
                id,
                to_client,
                to_backend,
            } => {
                if let Some(info) = sessions.get_mut(&id) {
                    if (info.to_client, info.to_backend) != (to_client, to_backend) {
                        info.to_client = to_client;
                        info.to_backend = to_backend;
                        moved.insert(id);
                    }
                }
            }
            Change::Ended(id) => {
                sessions.remove(&id);
                moved.remove(&id);
                // One that opened and ended within the window was never
                // listed: there is nothing to take off.
                if !self.opened.remove(&id) {
                    self.ended.push(id.to_string());
                }
            }
        }
    }

    /// Lists the window's new sessions and takes its ended ones off: one
    /// write each, none when there is nothing to say.
    async fn write(
        self,
        node: &str,
        directory: &dyn SessionDirectory,
        sessions: &HashMap<Arc<str>, SessionInfo>,
    ) -> Result<(), StoreError> {
        let mut listed = Ok(());
        if !self.opened.is_empty() {
            let fresh: Vec<SessionInfo> = self
                .opened
                .iter()
                .filter_map(|id| sessions.get(id).cloned())
                .collect();
            listed = directory.heartbeat(node, &fresh, LISTED_FOR).await;
        }
        // Tried even when listing failed: an ended session that stayed
        // listed would only drop off after `LISTED_FOR`.
        let taken_off = if self.ended.is_empty() {
            Ok(())
        } else {
            directory.ended(node, &self.ended).await
        };
        listed.and(taken_off)
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

    /// Yields to the publishing task, with (paused) time standing still.
    async fn let_the_task_run() {
        for _ in 0..10 {
            tokio::task::yield_now().await;
        }
    }

    /// The ids listed now, in the directory's order.
    async fn ids(dir: &LocalSessions) -> Vec<String> {
        dir.list()
            .await
            .unwrap()
            .into_iter()
            .map(|s| s.id)
            .collect()
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
        let one = live.opened(info("s1"), false);
        let two = live.opened(info("s2"), false);
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
        let one = live.opened(info("s1"), false);
        one.progress(1000, 7);
        tokio::time::sleep(HEARTBEAT + Duration::from_millis(10)).await;
        let all = dir.list().await.unwrap();
        assert_eq!((all[0].to_client, all[0].to_backend), (1000, 7));
    }

    #[tokio::test(start_paused = true)]
    async fn opens_are_gathered_for_a_window_before_they_are_listed() {
        let dir = Arc::new(LocalSessions::new());
        let live = LiveSessions::start("n1", dir.clone());
        let _one = live.opened(info("s1"), false);
        tokio::time::sleep(GATHER / 2).await;
        let _two = live.opened(info("s2"), false);
        assert!(ids(&dir).await.is_empty(), "within the window");
        tokio::time::sleep(GATHER / 2 + Duration::from_millis(10)).await;
        assert_eq!(
            ids(&dir).await,
            ["s1", "s2"],
            "both, in the window's one write"
        );
    }

    #[tokio::test(start_paused = true)]
    async fn a_session_listed_at_once_ends_the_window_with_those_before_it() {
        let dir = Arc::new(LocalSessions::new());
        let live = LiveSessions::start("n1", dir.clone());
        let _shared = live.opened(info("s1"), false);
        tokio::time::sleep(GATHER / 4).await;
        let _exclusive = live.opened(info("s2"), true);
        // No time passes: the task runs as soon as the test yields.
        let_the_task_run().await;
        assert_eq!(ids(&dir).await, ["s1", "s2"]);
        // And alone, it is written without a window.
        let _alone = live.opened(info("s3"), true);
        let_the_task_run().await;
        assert_eq!(ids(&dir).await, ["s1", "s2", "s3"]);
    }

    #[test]
    fn a_window_lists_what_is_still_open_and_takes_off_what_was_listed() {
        let (mut sessions, mut moved) = (HashMap::new(), HashSet::new());
        sessions.insert(Arc::from("s0"), info("s0"));
        let mut window = Window::default();
        for id in ["s1", "s2"] {
            window.take(
                Change::Opened(Arc::from(id), Box::new(info(id))),
                &mut sessions,
                &mut moved,
            );
        }
        window.take(Change::Ended(Arc::from("s1")), &mut sessions, &mut moved);
        window.take(Change::Ended(Arc::from("s0")), &mut sessions, &mut moved);
        assert_eq!(window.opened, HashSet::from([Arc::from("s2")]));
        assert_eq!(window.ended, ["s0"], "s1 was never listed");
        let mut left: Vec<&str> = sessions.keys().map(|id| &**id).collect();
        left.sort_unstable();
        assert_eq!(left, ["s2"]);
    }

    #[test]
    fn the_default_node_name_carries_the_pid() {
        assert!(default_node_name().ends_with(&format!("-{}", std::process::id())));
    }
}
