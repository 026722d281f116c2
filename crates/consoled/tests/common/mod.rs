//! Runs the built `consoled` binary with a temporary configuration.

#![allow(dead_code)]

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

pub const BIN: &str = env!("CARGO_BIN_EXE_consoled");
pub const WEB: &str = "c6d5a3a0-9f4e-4b8e-9a4e-0d1f6a1e2b3c";

/// A port on loopback that was free a moment ago.
pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// The repository's `examples/` folder.
pub fn examples() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../examples")
}

/// A fresh folder under the system's temp dir, never shared: tests of one
/// binary run in parallel and may ask for the same name.
pub fn temp_dir(name: &str) -> PathBuf {
    static NEXT: AtomicUsize = AtomicUsize::new(0);
    let n = NEXT.fetch_add(1, Ordering::Relaxed);
    let dir = std::env::temp_dir().join(format!("consoled-test-{}-{n}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// The example configuration, on any free port, with the example inventory.
pub fn example_config(dir: &Path) -> PathBuf {
    let text = std::fs::read_to_string(examples().join("consoled.toml")).unwrap();
    let inventory = examples().join("servers.toml").canonicalize().unwrap();
    // Every listener (the API's and the proxies') on a port the OS picks,
    // so that tests run side by side and beside a running demo.
    let text = ["8774", "6080", "6081", "6082", "6083", "6090"]
        .iter()
        .fold(text, |t, port| {
            t.replace(
                &format!("listen = \"127.0.0.1:{port}\""),
                "listen = \"127.0.0.1:0\"",
            )
        })
        .replace(
            "inventory = \"servers.toml\"",
            &format!("inventory = {:?}", inventory.display().to_string()),
        );
    assert!(text.contains("127.0.0.1:0") && text.contains(&inventory.display().to_string()));
    let path = dir.join("consoled.toml");
    std::fs::write(&path, text).unwrap();
    path
}

/// Runs `consoled <args>` to completion.
pub fn run(args: &[&str]) -> Output {
    Command::new(BIN)
        .args(args)
        .env_remove("RUST_LOG")
        .output()
        .expect("consoled runs")
}

/// Creates a console of the inventory's server web-1 through the compute
/// API at `api` as `token` (`user:project` under noauth); returns its URL.
///
/// # Panics
/// When the API does not answer with one.
pub async fn console_url(api: &str, token: &str, protocol: &str, console_type: &str) -> String {
    let body: serde_json::Value = reqwest::Client::new()
        .post(format!("{api}/v2.1/servers/{WEB}/remote-consoles"))
        .header("x-auth-token", token)
        .header("openstack-api-version", "compute 2.6")
        .json(&serde_json::json!({"remote_console": {"protocol": protocol, "type": console_type}}))
        .send()
        .await
        .expect("the compute API answers")
        .json()
        .await
        .expect("a JSON body");
    body["remote_console"]["url"]
        .as_str()
        .unwrap_or_else(|| panic!("no console URL in {body}"))
        .to_owned()
}

/// A running `consoled serve`.
pub struct Served {
    pub child: Child,
    pub url: String,
    pub log: Arc<Mutex<String>>,
}

impl Served {
    /// Starts `consoled serve --config <config>` and waits for its address.
    pub fn start(config: &Path) -> Served {
        Served::start_as("serve", config)
    }

    /// Starts `consoled <command> --config <config>` and waits until it
    /// listens. `url` is the API's address, or empty for `proxy`.
    pub fn start_as(command: &str, config: &Path) -> Served {
        Served::start_with_env(command, config, &[])
    }

    /// [`Served::start_as`] with `env` added to the process's environment.
    pub fn start_with_env(command: &str, config: &Path, env: &[(&str, &str)]) -> Served {
        let mut child = Command::new(BIN)
            .args([command, "--config"])
            .arg(config)
            .envs(env.iter().copied())
            .env("RUST_LOG", "info")
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .expect("consoled starts");
        let log = Arc::new(Mutex::new(String::new()));
        let (tx, rx) = std::sync::mpsc::channel();
        let stderr = child.stderr.take().unwrap();
        let sink = log.clone();
        let command_is_proxy = command == "proxy";
        std::thread::spawn(move || {
            for line in BufReader::new(stderr).lines().map_while(Result::ok) {
                if let Some(at) = line.find("listening on http://") {
                    // A text line ends with the URL; a JSON one quotes it.
                    let rest = &line[at + "listening on ".len()..];
                    let url = rest.split(['"', ' ']).next().unwrap_or(rest);
                    let _ = tx.send(url.trim().to_owned());
                } else if command_is_proxy && line.contains("console proxy listening") {
                    let _ = tx.send(String::new());
                }
                let mut log = sink.lock().unwrap();
                log.push_str(&line);
                log.push('\n');
            }
        });
        let url = match rx.recv_timeout(Duration::from_secs(30)) {
            Ok(url) => url,
            Err(_) => {
                let _ = child.kill();
                panic!("consoled did not start:\n{}", log.lock().unwrap());
            }
        };
        Served { child, url, log }
    }

    /// Sends SIGTERM.
    pub fn terminate(&self) {
        let status = Command::new("kill")
            .args(["-TERM", &self.child.id().to_string()])
            .status()
            .unwrap();
        assert!(status.success());
    }

    /// Waits (at most a generous minute) for the process to exit.
    pub fn wait_exit(&mut self) -> std::process::ExitStatus {
        let deadline = Instant::now() + Duration::from_secs(60);
        loop {
            if let Some(status) = self.child.try_wait().unwrap() {
                return status;
            }
            if Instant::now() > deadline {
                let _ = self.child.kill();
                panic!("consoled did not exit:\n{}", self.log.lock().unwrap());
            }
            std::thread::sleep(Duration::from_millis(50));
        }
    }
}

impl Drop for Served {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// `dir/servers.toml`: the one server web-1 (project demo), whose VNC
/// console is `vnc`.
pub fn write_vnc_inventory(dir: &Path, vnc: std::net::SocketAddr) {
    std::fs::write(
        dir.join("servers.toml"),
        format!(
            "[[servers]]\nid = \"{WEB}\"\nname = \"web-1\"\nproject_id = \"demo\"\nhost = \"compute-1\"\n\
             [servers.consoles.vnc]\nhost = \"{}\"\nport = {}\n",
            vnc.ip(),
            vnc.port()
        ),
    )
    .unwrap();
}
