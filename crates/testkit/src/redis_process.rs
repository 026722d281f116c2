//! redis-server processes that die with the test process: the shared
//! cluster and TLS server live in statics, which are never dropped, so a
//! watchdog shell kills each server when the test's end closes its stdin.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdin, Command, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

/// How long a starting redis-server may take to answer.
pub(crate) const START_LIMIT: Duration = Duration::from_secs(15);

/// A redis-server under a watchdog shell: killed (SIGKILL, which also ends
/// a stopped process) when this is dropped or the test process ends.
pub(crate) struct Guarded {
    watchdog: Child,
    stdin: Option<ChildStdin>,
    /// redis-server's own process id, for SIGSTOP and SIGCONT.
    pub(crate) pid: u32,
}

impl Guarded {
    /// Runs `redis-server args...` under a watchdog.
    pub(crate) fn spawn(args: &[String]) -> Result<Guarded, String> {
        let mut watchdog = Command::new("sh")
            .arg("-c")
            .arg(
                "redis-server \"$@\" >/dev/null 2>&1 </dev/null & pid=$!; echo $pid; \
                 read _ignored; kill -9 $pid 2>/dev/null",
            )
            .arg("sh")
            .args(args)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .map_err(|e| format!("cannot run sh: {e}"))?;
        let stdin = watchdog.stdin.take();
        let stdout = watchdog.stdout.take().ok_or("no stdout")?;
        let mut line = String::new();
        BufReader::new(stdout)
            .read_line(&mut line)
            .map_err(|e| format!("watchdog: {e}"))?;
        let pid = line
            .trim()
            .parse()
            .map_err(|_| format!("watchdog printed {line:?}"))?;
        Ok(Guarded {
            watchdog,
            stdin,
            pid,
        })
    }

    /// Whether redis-server still runs.
    pub(crate) fn alive(&self) -> bool {
        Path::new(&format!("/proc/{}", self.pid)).exists()
            && !std::fs::read_to_string(format!("/proc/{}/stat", self.pid))
                .is_ok_and(|s| s.contains(") Z "))
    }

    /// Sends `signal` (`STOP`, `CONT`) to redis-server.
    pub(crate) fn signal(&self, signal: &str) {
        let status = Command::new("kill")
            .arg(format!("-{signal}"))
            .arg(self.pid.to_string())
            .status()
            .expect("run kill");
        assert!(status.success(), "kill -{signal} {} failed", self.pid);
    }

    /// Kills redis-server and waits until it is gone.
    pub(crate) fn kill(&mut self) {
        drop(self.stdin.take());
        let _ = self.watchdog.wait();
        let deadline = Instant::now() + START_LIMIT;
        while self.alive() && Instant::now() < deadline {
            std::thread::sleep(Duration::from_millis(20));
        }
    }
}

impl Drop for Guarded {
    fn drop(&mut self) {
        self.kill();
    }
}

/// A folder of its own under the system's temporary folder, removed by a
/// watchdog when the test process ends (or this is dropped).
pub(crate) struct ScratchDir {
    path: PathBuf,
    watchdog: Option<Child>,
}

impl ScratchDir {
    pub(crate) fn new(what: &str) -> ScratchDir {
        static N: AtomicUsize = AtomicUsize::new(0);
        let path = std::env::temp_dir().join(format!(
            "consoled-{what}-{}-{}",
            std::process::id(),
            N.fetch_add(1, Ordering::Relaxed)
        ));
        std::fs::create_dir_all(&path).expect("create a scratch folder");
        let watchdog = Command::new("sh")
            .arg("-c")
            .arg("read _ignored; rm -rf \"$1\"")
            .arg("sh")
            .arg(&path)
            .stdin(Stdio::piped())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .ok();
        ScratchDir { path, watchdog }
    }

    pub(crate) fn path(&self) -> &Path {
        &self.path
    }
}

impl Drop for ScratchDir {
    fn drop(&mut self) {
        if let Some(mut watchdog) = self.watchdog.take() {
            drop(watchdog.stdin.take());
            let _ = watchdog.wait();
        }
    }
}

/// A port that is free now, with `port + offset` free too (a cluster
/// node's bus port); the OS picks, so another process could take it
/// before redis binds it: callers retry.
pub(crate) fn free_port(offset: u16) -> u16 {
    loop {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind port 0");
        let port = listener.local_addr().expect("local addr").port();
        if offset == 0 {
            return port;
        }
        if port
            .checked_add(offset)
            .is_some_and(|bus| TcpListener::bind(("127.0.0.1", bus)).is_ok())
        {
            return port;
        }
    }
}

/// Sends one inline command to a plain Redis port and returns the reply's
/// text (a bulk reply's body, or a status line), or `None` when it does
/// not answer within a second.
pub(crate) fn plain_command(port: u16, command: &str) -> Option<String> {
    let mut stream = TcpStream::connect(("127.0.0.1", port)).ok()?;
    stream.set_read_timeout(Some(Duration::from_secs(1))).ok()?;
    stream.write_all(format!("{command}\r\n").as_bytes()).ok()?;
    let mut reader = BufReader::new(stream);
    let mut header = String::new();
    reader.read_line(&mut header).ok()?;
    if let Some(len) = header.strip_prefix('$') {
        let len: usize = len.trim().parse().ok()?;
        let mut body = vec![0u8; len];
        reader.read_exact(&mut body).ok()?;
        return String::from_utf8(body).ok();
    }
    Some(header.trim_end().to_owned())
}

/// Waits until `ready` says yes, or gives up after [`START_LIMIT`].
pub(crate) fn wait_for(what: &str, mut ready: impl FnMut() -> bool) -> Result<(), String> {
    let deadline = Instant::now() + START_LIMIT;
    while !ready() {
        if Instant::now() > deadline {
            return Err(format!("{what}: not ready within {START_LIMIT:?}"));
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    Ok(())
}

/// Panics with the set-up hint when redis-server is not installed.
pub(crate) fn require_redis() {
    if Command::new("redis-server")
        .arg("--version")
        .stdout(Stdio::null())
        .status()
        .is_err()
    {
        panic!(
            "redis-server is not installed: these tests need a real Redis. \
             Run scripts/test (it installs the Debian package redis-server) \
             or `apt-get install redis-server`"
        );
    }
}
