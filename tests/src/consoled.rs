//! The `consoled` binary, run as its own process.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::Duration;

use tokio::process::{Child, Command};

use crate::chromium::TempDir;
use crate::net::wait_for_listener;

/// The `consoled` binary that `cargo test --workspace` built next to this
/// test (`target/<profile>/consoled`).
///
/// # Panics
/// When it has not been built.
pub fn binary() -> PathBuf {
    let exe = std::env::current_exe().expect("test executable path");
    let profile_dir = exe
        .parent()
        .and_then(|deps| deps.parent())
        .expect("test executable lives in target/<profile>/deps");
    let bin = profile_dir.join(format!("consoled{}", std::env::consts::EXE_SUFFIX));
    assert!(
        bin.exists(),
        "{} is missing: build it first (cargo build -p consoled)",
        bin.display()
    );
    bin
}

/// The build's target folder (where `consoled` and the tests were built),
/// under which the tests leave their screenshots (`target/e2e/`).
///
/// # Panics
/// When the test executable is not inside a target folder.
pub fn target_dir() -> PathBuf {
    let exe = std::env::current_exe().expect("test executable path");
    exe.ancestors()
        .nth(3)
        .expect("test executable lives in target/<profile>/deps")
        .to_path_buf()
}

/// Where a test saves the artifact `name` for people to look at:
/// `target/e2e/<name>`.
pub fn artifact(name: &str) -> PathBuf {
    target_dir().join("e2e").join(name)
}

/// A running `consoled`, killed on drop.
pub struct Consoled {
    child: Child,
    dir: TempDir,
}

impl Consoled {
    /// Runs `consoled <args..> --config <dir>/consoled.toml` after writing
    /// `files` (name, contents) into a fresh directory, and waits until each
    /// of `listeners` accepts TCP.
    ///
    /// # Panics
    /// When it cannot start or a listener does not open.
    pub async fn start(
        args: &[&str],
        files: &[(&str, String)],
        listeners: &[SocketAddr],
    ) -> Consoled {
        let dir = TempDir::new("consoled");
        for (name, contents) in files {
            std::fs::write(dir.path().join(name), contents).expect("config file written");
        }
        let log = std::fs::File::create(dir.path().join("consoled.log")).expect("log file");
        let child = Command::new(binary())
            .args(args)
            .arg("--config")
            .arg(dir.path().join("consoled.toml"))
            .current_dir(dir.path())
            .env("RUST_LOG", "info")
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(log)
            .kill_on_drop(true)
            .spawn()
            .expect("consoled did not start");
        let mut consoled = Consoled { child, dir };
        for addr in listeners {
            tokio::select! {
                () = wait_for_listener(*addr, Duration::from_secs(30)) => {}
                status = consoled.child.wait() => {
                    panic!("consoled exited early ({status:?}):\n{}", consoled.log());
                }
            }
        }
        consoled
    }

    /// The folder of its configuration file (paths in it are relative to
    /// this folder).
    pub fn dir(&self) -> &Path {
        self.dir.path()
    }

    /// What it has logged so far (stderr).
    pub fn log(&self) -> String {
        std::fs::read_to_string(self.dir.path().join("consoled.log")).unwrap_or_default()
    }

    /// Its process id.
    pub fn pid(&self) -> Option<u32> {
        self.child.id()
    }

    /// Sends it SIGTERM, as a service manager stops it.
    ///
    /// # Panics
    /// When it has already been reaped or `kill` fails.
    pub fn terminate(&self) {
        let pid = self.pid().expect("consoled still running");
        let status = std::process::Command::new("kill")
            .args(["-TERM", &pid.to_string()])
            .status()
            .expect("kill runs");
        assert!(status.success(), "kill -TERM {pid} failed");
    }

    /// Waits for it to exit, at most `limit` (only so that a broken test
    /// fails instead of hanging).
    ///
    /// # Panics
    /// When it does not exit in time.
    pub async fn wait_exit(&mut self, limit: Duration) -> std::process::ExitStatus {
        match tokio::time::timeout(limit, self.child.wait()).await {
            Ok(status) => status.expect("consoled's exit status"),
            Err(_) => panic!("consoled did not exit within {limit:?}:\n{}", self.log()),
        }
    }

    /// Polls its log until a line contains every one of `parts`; returns
    /// that line.
    ///
    /// # Panics
    /// When no such line appears within `limit`.
    pub async fn wait_for_log_line(&self, parts: &[&str], limit: Duration) -> String {
        let deadline = tokio::time::Instant::now() + limit;
        loop {
            let log = self.log();
            if let Some(line) = log.lines().find(|l| parts.iter().all(|p| l.contains(p))) {
                return line.to_owned();
            }
            assert!(
                tokio::time::Instant::now() < deadline,
                "no log line with {parts:?} within {limit:?}:\n{log}"
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }
}
