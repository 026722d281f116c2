//! Headless Chromium, driven over the DevTools protocol (a WebSocket that
//! Chromium opens on loopback), as a person would use a console page.

use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::{Duration, Instant};

use base64::Engine as _;
use futures_util::{SinkExt, StreamExt};
use serde_json::{json, Value};
use tokio::net::TcpStream;
use tokio::process::{Child, Command};
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::WebSocketStream;

/// The Chromium binary (Debian's package `chromium`).
pub const CHROMIUM: &str = "chromium";

/// A headless Chromium showing one page, killed on drop.
pub struct Browser {
    _child: Child,
    _profile: TempDir,
    devtools: WebSocketStream<TcpStream>,
    next_id: u64,
}

impl Browser {
    /// Whether Chromium is installed (the test command installs it).
    pub fn available() -> bool {
        std::process::Command::new(CHROMIUM)
            .arg("--version")
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status()
            .is_ok_and(|s| s.success())
    }

    /// Opens `url` in a new headless Chromium with an empty profile.
    ///
    /// # Panics
    /// When Chromium does not start or its DevTools endpoint does not open.
    pub async fn open(url: &str) -> Browser {
        let profile = TempDir::new("chromium-profile");
        let child = Command::new(CHROMIUM)
            .args([
                "--headless",
                "--no-sandbox",
                "--disable-gpu",
                "--disable-quic",
                "--no-first-run",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
                "--disable-dev-shm-usage",
                "--window-size=1024,768",
                "--remote-debugging-address=127.0.0.1",
                "--remote-debugging-port=0",
            ])
            .arg(format!("--user-data-dir={}", profile.path().display()))
            .arg(url)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .kill_on_drop(true)
            .spawn()
            .expect("chromium did not start");
        let port = devtools_port(profile.path()).await;
        let page_ws = page_target(port).await;
        let (devtools, _) = crate::ws::open(&page_ws, &[])
            .await
            .expect("DevTools WebSocket did not open");
        Browser {
            _child: child,
            _profile: profile,
            devtools,
            next_id: 1,
        }
    }

    /// Evaluates `expression` in the page and returns its JSON value.
    ///
    /// # Panics
    /// When the DevTools connection fails.
    pub async fn eval(&mut self, expression: &str) -> Value {
        let result = self
            .call(
                "Runtime.evaluate",
                json!({"expression": expression, "returnByValue": true, "awaitPromise": true}),
            )
            .await;
        result["result"]["value"].clone()
    }

    /// Polls `expression` until it returns `true` or `limit` passes; returns
    /// whether it did.
    pub async fn wait_until(&mut self, expression: &str, limit: Duration) -> bool {
        let deadline = Instant::now() + limit;
        while Instant::now() < deadline {
            if self.eval(expression).await == Value::Bool(true) {
                return true;
            }
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
        false
    }

    /// Saves a PNG screenshot of the page to `path`.
    ///
    /// # Panics
    /// When the screenshot cannot be taken or written.
    pub async fn screenshot(&mut self, path: &Path) {
        let result = self
            .call("Page.captureScreenshot", json!({"format": "png"}))
            .await;
        let data = result["data"].as_str().expect("screenshot data");
        let png = base64::engine::general_purpose::STANDARD
            .decode(data)
            .expect("screenshot is base64");
        if let Some(dir) = path.parent() {
            std::fs::create_dir_all(dir).expect("screenshot directory");
        }
        std::fs::write(path, png).expect("screenshot written");
    }

    async fn call(&mut self, method: &str, params: Value) -> Value {
        let id = self.next_id;
        self.next_id += 1;
        let request = json!({"id": id, "method": method, "params": params}).to_string();
        self.devtools
            .send(Message::Text(request.into()))
            .await
            .expect("DevTools send");
        while let Some(message) = self.devtools.next().await {
            let Message::Text(text) = message.expect("DevTools receive") else {
                continue;
            };
            let value: Value = serde_json::from_str(&text).expect("DevTools sent JSON");
            if value["id"] == json!(id) {
                assert!(value.get("error").is_none(), "{method} failed: {value}");
                return value["result"].clone();
            }
        }
        panic!("DevTools connection closed during {method}");
    }
}

async fn devtools_port(profile: &Path) -> u16 {
    let file = profile.join("DevToolsActivePort");
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        if let Ok(text) = std::fs::read_to_string(&file) {
            if let Some(port) = text.lines().next().and_then(|l| l.trim().parse().ok()) {
                return port;
            }
        }
        assert!(
            Instant::now() < deadline,
            "Chromium wrote no DevToolsActivePort"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

async fn page_target(port: u16) -> String {
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let list = reqwest::get(format!("http://127.0.0.1:{port}/json/list")).await;
        if let Ok(response) = list {
            if let Ok(targets) = response.json::<Vec<Value>>().await {
                if let Some(ws) = targets
                    .iter()
                    .find(|t| t["type"] == "page")
                    .and_then(|t| t["webSocketDebuggerUrl"].as_str())
                {
                    return ws.to_owned();
                }
            }
        }
        assert!(Instant::now() < deadline, "Chromium shows no page target");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// A directory removed on drop.
pub struct TempDir(PathBuf);

impl TempDir {
    /// A new empty directory under the system temp dir.
    pub fn new(label: &str) -> TempDir {
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.subsec_nanos())
            .unwrap_or(0);
        let dir =
            std::env::temp_dir().join(format!("consoled-{label}-{}-{nanos}", std::process::id()));
        std::fs::create_dir_all(&dir).expect("temp dir");
        TempDir(dir)
    }

    /// Its path.
    pub fn path(&self) -> &Path {
        &self.0
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}
