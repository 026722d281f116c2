//! A real three-master Redis Cluster for tests, on free 127.0.0.1 ports.

use std::process::{Command, Stdio};
use std::sync::{Mutex, OnceLock};
use std::time::Duration;

use crate::redis_process::{
    free_port, plain_command, require_redis, wait_for, Guarded, ScratchDir,
};

/// How many masters the cluster has.
pub const MASTERS: usize = 3;
/// A cluster's bus port is its client port plus this.
const BUS_OFFSET: u16 = 10000;
/// How long a master may be silent before the others count it failed: short,
/// so that a test that stops one sees the cluster notice and recover soon.
const NODE_TIMEOUT_MS: u32 = 2000;

/// Three redis-server masters joined into a cluster (no replicas), each
/// killed when this is dropped or the test process ends.
///
/// The cluster does not require full slot coverage: while one master is
/// stopped, the others go on serving their slots, as an operator would
/// set it up to survive a node.
pub struct RedisCluster {
    nodes: Vec<Node>,
    dir: ScratchDir,
}

struct Node {
    port: u16,
    process: Mutex<Option<Guarded>>,
}

impl RedisCluster {
    /// Starts three masters and joins them (`redis-cli --cluster create`),
    /// waiting until the cluster says it is ok. Blocking: from async
    /// code, call it where blocking is fine (a test's own runtime at
    /// start-up, or `spawn_blocking`).
    ///
    /// # Panics
    /// When redis-server is not installed or the cluster does not form.
    pub fn start() -> RedisCluster {
        require_redis();
        let mut last = String::new();
        for _ in 0..5 {
            match Self::try_start() {
                Ok(cluster) => return cluster,
                Err(e) => last = e,
            }
        }
        panic!("the redis cluster did not start: {last}");
    }

    /// One cluster shared by every test of this test binary, started on
    /// first use. Tests that stop nodes must start their own.
    ///
    /// # Panics
    /// As [`RedisCluster::start`].
    pub fn shared() -> &'static RedisCluster {
        static SHARED: OnceLock<RedisCluster> = OnceLock::new();
        SHARED.get_or_init(RedisCluster::start)
    }

    fn try_start() -> Result<RedisCluster, String> {
        let dir = ScratchDir::new("redis-cluster");
        let mut nodes = Vec::new();
        while nodes.len() < MASTERS {
            let port = free_port(BUS_OFFSET);
            if nodes.iter().any(|n: &Node| n.port == port) {
                continue;
            }
            nodes.push(Node {
                port,
                process: Mutex::new(None),
            });
        }
        let cluster = RedisCluster { nodes, dir };
        for i in 0..MASTERS {
            cluster.spawn(i)?;
        }
        let addresses: Vec<String> = cluster
            .nodes
            .iter()
            .map(|n| format!("127.0.0.1:{}", n.port))
            .collect();
        let out = Command::new("redis-cli")
            .args(["--cluster", "create"])
            .args(&addresses)
            .args(["--cluster-replicas", "0", "--cluster-yes"])
            .stdin(Stdio::null())
            .output()
            .map_err(|e| format!("cannot run redis-cli: {e}"))?;
        if !out.status.success() {
            return Err(format!(
                "redis-cli --cluster create: {}",
                String::from_utf8_lossy(&out.stdout)
            ));
        }
        cluster.wait_ok()?;
        Ok(cluster)
    }

    fn spawn(&self, i: usize) -> Result<(), String> {
        let node = &self.nodes[i];
        let port = node.port.to_string();
        let dir = self.dir.path().to_string_lossy().into_owned();
        let args: Vec<String> = [
            "--bind",
            "127.0.0.1",
            "--port",
            &port,
            "--dir",
            &dir,
            "--cluster-enabled",
            "yes",
            "--cluster-config-file",
            &format!("nodes-{port}.conf"),
            "--cluster-node-timeout",
            &NODE_TIMEOUT_MS.to_string(),
            "--cluster-require-full-coverage",
            "no",
            "--save",
            "",
            "--appendonly",
            "no",
            "--loglevel",
            "warning",
        ]
        .iter()
        .map(|s| (*s).to_owned())
        .collect();
        let process = Guarded::spawn(&args)?;
        let pid = process.pid.to_string();
        wait_for(&format!("redis-server on port {port}"), || {
            plain_command(node.port, "INFO server")
                .is_some_and(|info| info.contains(&format!("process_id:{pid}\r")))
        })?;
        *self.lock(i) = Some(process);
        Ok(())
    }

    /// Waits until every running master says the cluster is ok.
    fn wait_ok(&self) -> Result<(), String> {
        wait_for("cluster_state:ok", || {
            self.nodes.iter().enumerate().all(|(i, n)| {
                self.lock(i).is_none()
                    || plain_command(n.port, "CLUSTER INFO")
                        .is_some_and(|info| info.contains("cluster_state:ok"))
            })
        })
    }

    /// The masters' URLs, `redis://127.0.0.1:PORT/`.
    pub fn urls(&self) -> Vec<String> {
        self.nodes
            .iter()
            .map(|n| format!("redis://127.0.0.1:{}/", n.port))
            .collect()
    }

    /// The masters' ports.
    pub fn ports(&self) -> Vec<u16> {
        self.nodes.iter().map(|n| n.port).collect()
    }

    /// Freezes master `i` (SIGSTOP): its socket stays open and nothing
    /// answers, as with a hung host.
    ///
    /// # Panics
    /// When `i` is not running.
    pub fn pause(&self, i: usize) {
        self.with_process(i, |p| p.signal("STOP"));
    }

    /// Lets a paused master `i` run on (SIGCONT).
    ///
    /// # Panics
    /// When `i` is not running.
    pub fn resume(&self, i: usize) {
        self.with_process(i, |p| p.signal("CONT"));
    }

    /// Kills master `i` and waits until it is gone.
    pub fn stop(&self, i: usize) {
        if let Some(mut process) = self.lock(i).take() {
            process.kill();
        }
    }

    /// Starts master `i` again on its port with its cluster configuration
    /// file (so it is the same node with the same slots, and no data), and
    /// waits until the cluster is ok again.
    ///
    /// # Panics
    /// When it does not come back.
    pub fn restart(&self, i: usize) {
        self.stop(i);
        let mut last = String::new();
        // The port was just released; give the OS a few tries.
        for _ in 0..20 {
            match self.spawn(i) {
                Ok(()) => {
                    if let Err(e) = self.wait_ok() {
                        panic!("the cluster did not recover: {e}");
                    }
                    return;
                }
                Err(e) => last = e,
            }
            std::thread::sleep(Duration::from_millis(250));
        }
        panic!("master {i} did not restart: {last}");
    }

    fn with_process(&self, i: usize, f: impl FnOnce(&Guarded)) {
        let guard = self.lock(i);
        f(guard.as_ref().expect("the master is running"));
    }

    fn lock(&self, i: usize) -> std::sync::MutexGuard<'_, Option<Guarded>> {
        self.nodes[i]
            .process
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}

impl std::fmt::Debug for RedisCluster {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RedisCluster")
            .field("ports", &self.ports())
            .finish_non_exhaustive()
    }
}
