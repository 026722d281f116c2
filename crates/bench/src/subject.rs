//! What a scenario measures: direct TCP, the plain relay, consoled. Each
//! but direct runs as its own process, so that its CPU can be read.

use std::net::{SocketAddr, TcpListener};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use crate::client::Wire;

/// Where a client connects, how, and whose CPU to charge.
pub trait Subject {
    /// The name in tables.
    fn name(&self) -> &'static str;
    /// The process to charge CPU to, if any.
    fn pid(&self) -> Option<u32>;
    /// Where clients connect.
    fn addr(&self) -> SocketAddr;
    /// A fresh client's wire (a WebSocket subject mints a token per call).
    fn wire(&self) -> impl std::future::Future<Output = Result<Wire, String>> + Send;
}

/// Straight to the backend: the floor.
pub struct Direct(pub SocketAddr);

impl Subject for Direct {
    fn name(&self) -> &'static str {
        "direct TCP"
    }
    fn pid(&self) -> Option<u32> {
        None
    }
    fn addr(&self) -> SocketAddr {
        self.0
    }
    async fn wire(&self) -> Result<Wire, String> {
        Ok(Wire::Raw)
    }
}

/// A child process, killed on drop.
struct Process(Child);

impl Drop for Process {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
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

impl Subject for PlainRelay {
    fn name(&self) -> &'static str {
        "plain relay"
    }
    fn pid(&self) -> Option<u32> {
        Some(self.process.0.id())
    }
    fn addr(&self) -> SocketAddr {
        self.addr
    }
    async fn wire(&self) -> Result<Wire, String> {
        Ok(Wire::Raw)
    }
}

/// `consoled serve` with one serial listener in front of the backend.
pub struct Consoled {
    process: Process,
    api: SocketAddr,
    proxy: SocketAddr,
    http: reqwest::Client,
    _dir: TempDir,
}

/// The id of the one server of the bench's inventory.
const SERVER: &str = "bench-server-1";

impl Consoled {
    /// Starts `binary serve` with a serial console at `backend`, and
    /// `extra` appended to the `[proxy]` section.
    ///
    /// # Errors
    /// When it does not start listening.
    pub fn start(
        binary: &Path,
        backend: SocketAddr,
        extra_proxy: &str,
    ) -> Result<Consoled, String> {
        let (api, proxy) = (free_port()?, free_port()?);
        let dir = TempDir::new("consoled")?;
        let config = format!(
            "[api]\nlisten = \"{api}\"\n\n[consoles.serial]\nbase_url = \"ws://{proxy}/\"\n\n\
             [backend]\ninventory = \"servers.toml\"\n\n[proxy]\n{extra_proxy}\n\n\
             [[proxy.listeners]]\nlisten = \"{proxy}\"\ntypes = [\"serial\"]\n"
        );
        let inventory = format!(
            "[[servers]]\nid = \"{SERVER}\"\nname = \"bench\"\nproject_id = \"bench\"\n\
             host = \"bench-host\"\n\n[servers.consoles.serial]\nhost = \"{}\"\nport = {}\n",
            backend.ip(),
            backend.port()
        );
        std::fs::write(dir.0.join("consoled.toml"), config).map_err(|e| e.to_string())?;
        std::fs::write(dir.0.join("servers.toml"), inventory).map_err(|e| e.to_string())?;
        let child = Command::new(binary)
            .args(["serve", "--config"])
            .arg(dir.0.join("consoled.toml"))
            .env("RUST_LOG", "warn")
            .stdin(Stdio::null())
            .spawn()
            .map_err(|e| format!("{}: {e}", binary.display()))?;
        let process = Process(child);
        wait_listening(api)?;
        wait_listening(proxy)?;
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

    /// Mints a serial console and returns its URL's request target.
    async fn mint(&self) -> Result<String, String> {
        let response = self
            .http
            .post(format!(
                "http://{}/v2.1/servers/{SERVER}/remote-consoles",
                self.api
            ))
            .header("x-auth-token", "bench:bench")
            .header("openstack-api-version", "compute 2.6")
            .json(&serde_json::json!({"remote_console": {"protocol": "serial", "type": "serial"}}))
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
        let target = url
            .split_once("://")
            .and_then(|(_, rest)| rest.find('/').map(|i| rest[i..].to_owned()))
            .ok_or_else(|| format!("odd console URL {url}"))?;
        Ok(target)
    }
}

impl Subject for Consoled {
    fn name(&self) -> &'static str {
        "consoled"
    }
    fn pid(&self) -> Option<u32> {
        Some(self.process.0.id())
    }
    fn addr(&self) -> SocketAddr {
        self.proxy
    }
    async fn wire(&self) -> Result<Wire, String> {
        Ok(Wire::WebSocket(self.mint().await?))
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
