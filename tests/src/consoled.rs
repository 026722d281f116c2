//! The `consoled` binary, run as its own process.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::Stdio;
use std::time::Duration;

use tokio::process::{Child, Command};

use crate::chromium::TempDir;
use crate::net::wait_for_listener;

/// The `consoled` binary that `cargo test --workspace` built next to this
/// test (target/<profile>/consoled).
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

    /// What it has logged so far (stderr).
    pub fn log(&self) -> String {
        std::fs::read_to_string(self.dir.path().join("consoled.log")).unwrap_or_default()
    }

    /// Its process id.
    pub fn pid(&self) -> Option<u32> {
        self.child.id()
    }
}
