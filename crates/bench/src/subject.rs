//! What a scenario measures: direct TCP, the plain relay, consoled. Each
//! but direct runs as its own process, so that its CPU can be read.

use std::net::{SocketAddr, TcpListener};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use crate::client::Wire;

/// What a scenario measures, each reached its own way.
pub enum Subject {
    /// Straight to the backend: the floor.
    Direct(SocketAddr),
    /// The one-hop limit.
    PlainRelay(PlainRelay),
    /// Nova's novncproxy's engine.
    Websockify(Websockify),
    /// Us.
    Consoled(Consoled),
}

impl Subject {
    /// The name in tables.
    pub fn name(&self) -> &'static str {
        match self {
            Subject::Direct(_) => "direct TCP",
            Subject::PlainRelay(_) => "plain relay",
            Subject::Websockify(_) => "websockify",
            Subject::Consoled(_) => "consoled",
        }
    }

    /// The process to charge CPU and memory to, if any.
    pub fn pid(&self) -> Option<u32> {
        match self {
            Subject::Direct(_) => None,
            Subject::PlainRelay(r) => Some(r.process.0.id()),
            Subject::Websockify(w) => Some(w.process.0.id()),
            Subject::Consoled(c) => Some(c.pid()),
        }
    }

    /// Where clients connect.
    pub fn addr(&self) -> SocketAddr {
        match self {
            Subject::Direct(addr) => *addr,
            Subject::PlainRelay(r) => r.addr,
            Subject::Websockify(w) => w.addr,
            Subject::Consoled(c) => c.proxy,
        }
    }

    /// A fresh client's wire; consoled mints a console (a token) per call.
    ///
    /// # Errors
    /// When minting fails.
    pub async fn wire(&self) -> Result<Wire, String> {
        match self {
            Subject::Direct(_) | Subject::PlainRelay(_) => Ok(Wire::Raw),
            Subject::Websockify(_) => Ok(Wire::WebSocket("/".into())),
            Subject::Consoled(c) => Ok(Wire::WebSocket(c.mint().await?)),
        }
    }
}

/// websockify from PyPI (installed by [`websockify_venv`]) in front of
/// the backend, as Nova's novncproxy runs it, without token plugins.
pub struct Websockify {
    process: Process,
    addr: SocketAddr,
}

impl Websockify {
    /// Starts `venv`'s websockify in front of `backend`.
    ///
    /// # Errors
    /// When it does not start listening.
    pub fn start(venv: &Path, backend: SocketAddr) -> Result<Websockify, String> {
        let addr = free_port()?;
        let child = Command::new(venv.join("bin/websockify"))
            .args([addr.to_string(), backend.to_string()])
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .map_err(|e| format!("websockify: {e}"))?;
        let process = Process(child);
        wait_listening(addr)?;
        Ok(Websockify { process, addr })
    }
}

/// The websockify version measured against.
const WEBSOCKIFY: &str = "websockify==0.13.0";

/// A virtualenv with websockify, under the bench's target folder; made
/// with `python3 -m venv` and pip when missing.
///
/// # Errors
/// When python3 or pip fail.
pub fn websockify_venv() -> Result<PathBuf, String> {
    let venv = target_dir()?.join("bench-venv");
    if venv.join("bin/websockify").exists() {
        return Ok(venv);
    }
    let run = |cmd: &mut Command| -> Result<(), String> {
        let status = cmd.status().map_err(|e| format!("{cmd:?}: {e}"))?;
        status
            .success()
            .then_some(())
            .ok_or_else(|| format!("{cmd:?} failed: {status}"))
    };
    run(Command::new("python3").args(["-m", "venv"]).arg(&venv))?;
    run(Command::new(venv.join("bin/pip")).args([
        "install",
        "-q",
        "--disable-pip-version-check",
        WEBSOCKIFY,
        "numpy",
    ]))?;
    Ok(venv)
}

/// The target folder this bench was built in (target/, above its profile).
fn target_dir() -> Result<PathBuf, String> {
    let exe = std::env::current_exe().map_err(|e| e.to_string())?;
    let profile = exe.parent().ok_or("bench executable has no folder")?;
    let profile = if profile.ends_with("deps") {
        profile.parent().unwrap_or(profile)
    } else {
        profile
    };
    profile
        .parent()
        .map(Path::to_path_buf)
        .ok_or_else(|| "bench executable is not in a target folder".into())
}

/// A child process, killed on drop.
struct Process(Child);

impl Drop for Process {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// The bench itself, re-run as a helper process (`consoled-bench <args>`)
/// listening on a fresh port.
fn bench_child(args: &[&str]) -> Result<(Process, SocketAddr), String> {
    let addr = free_port()?;
    let exe = std::env::current_exe().map_err(|e| e.to_string())?;
    let child = Command::new(exe)
        .args(args)
        .args(["--listen", &addr.to_string()])
        .stdin(Stdio::null())
        .spawn()
        .map_err(|e| format!("{args:?}: {e}"))?;
    let process = Process(child);
    wait_listening(addr)?;
    Ok((process, addr))
}

/// The HTTP limit (`consoled-bench axum-limit`): a fixed JSON answer.
pub struct AxumLimit {
    process: Process,
    addr: SocketAddr,
}

impl AxumLimit {
    /// Starts it.
    ///
    /// # Errors
    /// When it does not start listening.
    pub fn start() -> Result<AxumLimit, String> {
        let (process, addr) = bench_child(&["axum-limit"])?;
        Ok(AxumLimit { process, addr })
    }

    /// Where it listens.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// Its process, to charge CPU to.
    pub fn pid(&self) -> u32 {
        self.process.0.id()
    }
}

/// The plain relay (`consoled-bench plain-relay`) in front of the backend.
pub struct PlainRelay {
    process: Process,
    addr: SocketAddr,
}

impl PlainRelay {
    /// Starts it in front of `backend`.
    ///
    /// # Errors
    /// When it does not start listening.
    pub fn start(backend: SocketAddr) -> Result<PlainRelay, String> {
        let addr = free_port()?;
        let exe = std::env::current_exe().map_err(|e| e.to_string())?;
        let child = Command::new(exe)
            .args([
                "plain-relay",
                "--listen",
                &addr.to_string(),
                "--to",
                &backend.to_string(),
            ])
            .stdin(Stdio::null())
            .spawn()
            .map_err(|e| format!("plain relay: {e}"))?;
        let process = Process(child);
        wait_listening(addr)?;
        Ok(PlainRelay { process, addr })
    }
}

/// `consoled serve` with one novnc listener in front of the backend (the
/// WebSocket relay every WebSocket console type shares; serial consoles
/// would share one backend connection between sessions of a server).
pub struct Consoled {
    process: Process,
    api: SocketAddr,
    proxy: SocketAddr,
    http: reqwest::Client,
    _dir: TempDir,
}

/// The id of the one server of the bench's inventory.
pub const SERVER: &str = "bench-server-1";

impl Consoled {
    /// Starts `binary serve` with a VNC console at `backend`, and
    /// `proxy_lines` and `tokens_lines` as the lines of its `[proxy]` and `[tokens]`
    /// sections.
    ///
    /// # Errors
    /// When it does not start listening.
    pub fn start(
        binary: &Path,
        backend: SocketAddr,
        proxy_lines: &str,
        tokens_lines: &str,
    ) -> Result<Consoled, String> {
        let (api, proxy) = (free_port()?, free_port()?);
        let dir = TempDir::new("consoled")?;
        let config = format!(
            "[api]\nlisten = \"{api}\"\n\n[consoles.novnc]\nbase_url = \"ws://{proxy}/\"\n\n\
             [backend]\ninventory = \"servers.toml\"\n\n[tokens]\n{tokens_lines}\n\n[proxy]\n{proxy_lines}\n\n\
             [[proxy.listeners]]\nlisten = \"{proxy}\"\ntypes = [\"novnc\"]\n"
        );
        let inventory = format!(
            "[[servers]]\nid = \"{SERVER}\"\nname = \"bench\"\nproject_id = \"bench\"\n\
             host = \"bench-host\"\n\n[servers.consoles.vnc]\nhost = \"{}\"\nport = {}\n",
            backend.ip(),
            backend.port()
        );
        std::fs::write(dir.0.join("consoled.toml"), config).map_err(|e| e.to_string())?;
        std::fs::write(dir.0.join("servers.toml"), inventory).map_err(|e| e.to_string())?;
        // Logging as deployed (RUST_LOG's default, info: a line per request
        // and per session), into a file rather than the bench's terminal.
        let log_path = dir.0.join("consoled.log");
        let log = std::fs::File::create(&log_path).map_err(|e| e.to_string())?;
        let child = Command::new(binary)
            .args(["serve", "--config"])
            .arg(dir.0.join("consoled.toml"))
            .env_remove("RUST_LOG")
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(log)
            .spawn()
            .map_err(|e| format!("{}: {e}", binary.display()))?;
        let process = Process(child);
        let started = wait_listening(api).and_then(|()| wait_listening(proxy));
        if let Err(e) = started {
            let log = std::fs::read_to_string(&log_path).unwrap_or_default();
            return Err(format!("consoled did not start ({e}): {log}"));
        }
        let http = reqwest::Client::builder()
            .timeout(Duration::from_secs(30))
            .build()
            .map_err(|e| e.to_string())?;
        Ok(Consoled {
            process,
            api,
            proxy,
            http,
            _dir: dir,
        })
    }

    /// The API's address.
    pub fn api(&self) -> SocketAddr {
        self.api
    }

    /// Its process, to charge CPU and memory to.
    pub fn pid(&self) -> u32 {
        self.process.0.id()
    }

    /// Mints a novnc console and returns the request target noVNC opens
    /// (the URL's `path` parameter).
    async fn mint(&self) -> Result<String, String> {
        let response = self
            .http
            .post(format!(
                "http://{}/v2.1/servers/{SERVER}/remote-consoles",
                self.api
            ))
            .header("x-auth-token", "bench:bench")
            .header("openstack-api-version", "compute 2.6")
            .json(&serde_json::json!({"remote_console": {"protocol": "vnc", "type": "novnc"}}))
            .send()
            .await
            .map_err(|e| format!("minting a console: {e}"))?;
        if !response.status().is_success() {
            return Err(format!("minting a console: {}", response.status()));
        }
        let body: serde_json::Value = response.json().await.map_err(|e| e.to_string())?;
        let url = body["remote_console"]["url"]
            .as_str()
            .ok_or("no url in the answer")?;
        let path = url::Url::parse(url)
            .ok()
            .and_then(|u| {
                u.query_pairs()
                    .find(|(k, _)| k == "path")
                    .map(|(_, v)| v.into_owned())
            })
            .ok_or_else(|| format!("odd console URL {url}"))?;
        let target = format!("/{path}");
        Ok(target)
    }
}

/// The `consoled` binary: `explicit`, else the one built beside this bench
/// (building it with cargo, in the bench's own profile, when it is missing).
///
/// # Errors
/// When there is none and cargo cannot build it.
pub fn consoled_binary(explicit: Option<PathBuf>) -> Result<PathBuf, String> {
    if let Some(path) = explicit {
        return Ok(path);
    }
    let exe = std::env::current_exe().map_err(|e| e.to_string())?;
    let dir = exe.parent().ok_or("bench executable has no folder")?;
    // Test binaries live one level down, in deps/.
    let dir = if dir.ends_with("deps") {
        dir.parent().unwrap_or(dir)
    } else {
        dir
    };
    let bin = dir.join("consoled");
    if !bin.exists() {
        let release = dir.ends_with("release");
        let mut cargo = Command::new(std::env::var("CARGO").unwrap_or_else(|_| "cargo".into()));
        cargo.args(["build", "-q", "-p", "consoled"]);
        if release {
            cargo.arg("--release");
        }
        let status = cargo.status().map_err(|e| format!("cargo build: {e}"))?;
        if !status.success() || !bin.exists() {
            return Err(format!(
                "{} is missing and cargo could not build it",
                bin.display()
            ));
        }
    }
    Ok(bin)
}

/// A port on loopback that was free a moment ago.
fn free_port() -> Result<SocketAddr, String> {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map_err(|e| format!("no free port: {e}"))
}

/// Waits until something accepts on `addr`.
fn wait_listening(addr: SocketAddr) -> Result<(), String> {
    let deadline = Instant::now() + Duration::from_secs(60);
    while Instant::now() < deadline {
        if std::net::TcpStream::connect(addr).is_ok() {
            return Ok(());
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    Err(format!("nothing listens on {addr} after 60 s"))
}

/// A folder removed on drop.
struct TempDir(PathBuf);

impl TempDir {
    fn new(name: &str) -> Result<TempDir, String> {
        static NEXT: AtomicUsize = AtomicUsize::new(0);
        let dir = std::env::temp_dir().join(format!(
            "consoled-bench-{}-{name}-{}",
            std::process::id(),
            NEXT.fetch_add(1, Ordering::Relaxed)
        ));
        std::fs::create_dir_all(&dir).map_err(|e| format!("{}: {e}", dir.display()))?;
        Ok(TempDir(dir))
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}
