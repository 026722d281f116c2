//! `[metrics] listen`: a running `consoled serve` counts what it does, as
//! its own scrape shows and as a real Prometheus (Debian's `prometheus`
//! package, which scripts/test installs) sees it while sessions open,
//! relay and close.

mod common;

use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use common::{console_url, free_port, temp_dir, Served, WEB};
use consoled_testkit::{SerialEcho, WsIo};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::WebSocketStream;

/// Bounds every wait, only so that a broken test fails instead of hanging.
const LIMIT: Duration = Duration::from_secs(90);

/// A `consoled serve` with metrics, whose one server's serial console is
/// an echo.
struct Node {
    served: Served,
    proxy: SocketAddr,
    metrics: SocketAddr,
    _echo: SerialEcho,
}

impl Node {
    async fn start(name: &str) -> Node {
        let echo = SerialEcho::start().await.unwrap();
        let dir = temp_dir(name);
        let proxy: SocketAddr = ([127, 0, 0, 1], free_port()).into();
        let metrics: SocketAddr = ([127, 0, 0, 1], free_port()).into();
        std::fs::write(
            dir.join("servers.toml"),
            format!(
                "[[servers]]\nid = \"{WEB}\"\nname = \"web-1\"\nproject_id = \"demo\"\n\
                 host = \"compute-1\"\n[servers.consoles.serial]\nhost = \"127.0.0.1\"\nport = {}\n",
                echo.addr().port()
            ),
        )
        .unwrap();
        let config = dir.join("consoled.toml");
        std::fs::write(
            &config,
            format!(
                "[api]\nlisten = \"127.0.0.1:0\"\n\
                 [consoles.serial]\nbase_url = \"ws://{proxy}/\"\n\
                 [backend]\ninventory = \"servers.toml\"\n\
                 [[proxy.listeners]]\nlisten = \"{proxy}\"\ntypes = [\"serial\"]\n\
                 [metrics]\nlisten = \"{metrics}\"\n"
            ),
        )
        .unwrap();
        let served = Served::start(&config);
        Node {
            served,
            proxy,
            metrics,
            _echo: echo,
        }
    }

    /// A serial console's URL, minted through the API.
    async fn mint(&self) -> String {
        console_url(&self.served.url, "demo:demo", "serial", "serial").await
    }

    /// Connects to `url` through the proxy: the session, or the refusal's
    /// status.
    async fn connect(&self, url: &str) -> Result<Console, u16> {
        let tcp = TcpStream::connect(self.proxy).await.unwrap();
        match tokio_tungstenite::client_async(url.into_client_request().unwrap(), tcp).await {
            Ok((ws, _)) => Ok(WsIo::new(ws, Default::default())),
            Err(tokio_tungstenite::tungstenite::Error::Http(response)) => {
                Err(response.status().as_u16())
            }
            Err(e) => panic!("{url}: {e}"),
        }
    }

    /// `GET /metrics`.
    async fn scrape(&self) -> String {
        let r = reqwest::get(format!("http://{}/metrics", self.metrics))
            .await
            .unwrap();
        assert_eq!(r.status(), 200);
        assert_eq!(
            r.headers()["content-type"],
            "text/plain; version=0.0.4; charset=utf-8"
        );
        r.text().await.unwrap()
    }

    /// Scrapes until `series` shows `value`; returns that scrape.
    async fn scrape_until(&self, series: &str, value: f64) -> String {
        let deadline = Instant::now() + LIMIT;
        loop {
            let text = self.scrape().await;
            if sample(&text, series) == Some(value) {
                return text;
            }
            assert!(
                Instant::now() < deadline,
                "{series} never reached {value}:\n{text}"
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }
}

type Console = WsIo<WebSocketStream<TcpStream>>;

/// The value of one series (name and labels exactly as written) in a
/// scrape.
fn sample(text: &str, series: &str) -> Option<f64> {
    text.lines()
        .find_map(|l| l.strip_prefix(series)?.strip_prefix(' '))
        .and_then(|v| v.trim().parse().ok())
}

/// Types a payload on each console in turn; the sessions share the one
/// serial connection, so every console reads every echo. Returns the bytes
/// typed.
async fn type_on_each(consoles: &mut [Console]) -> usize {
    let mut sent = 0;
    for i in 0..consoles.len() {
        let bytes = payload(i);
        consoles[i].write_all(&bytes).await.unwrap();
        for console in consoles.iter_mut() {
            let mut back = vec![0u8; bytes.len()];
            tokio::time::timeout(LIMIT, console.read_exact(&mut back))
                .await
                .expect("echo in time")
                .unwrap();
            assert_eq!(back, bytes);
        }
        sent += bytes.len();
    }
    sent
}

/// Closes as a browser does (a close frame) and reads to the end.
async fn close(mut console: Console) {
    console.shutdown().await.unwrap();
    let mut rest = Vec::new();
    let _ = tokio::time::timeout(LIMIT, console.read_to_end(&mut rest)).await;
}

/// What each session sends (and gets back).
fn payload(i: usize) -> Vec<u8> {
    format!("session {i}: {}\r\n", "x".repeat(100 * (i + 1))).into_bytes()
}

const SESSIONS: usize = 3;

#[tokio::test]
async fn a_scrape_counts_sessions_refusals_bytes_and_store_operations() {
    let node = Node::start("metrics-scrape").await;
    let url = node.mint().await;
    let mut consoles = Vec::new();
    for _ in 0..SESSIONS {
        consoles.push(node.connect(&url).await.expect("token accepted"));
    }
    node.scrape_until(r#"consoled_proxy_sessions_active{type="serial"}"#, 3.0)
        .await;
    let sent = type_on_each(&mut consoles).await;
    let bad = url.replace("token=", "token=x");
    assert_eq!(node.connect(&bad).await.err(), Some(403));
    let no_token = format!("ws://{}/", node.proxy);
    assert_eq!(node.connect(&no_token).await.err(), Some(403));
    for console in consoles {
        close(console).await;
    }
    let text = node
        .scrape_until(r#"consoled_proxy_sessions_active{type="serial"}"#, 0.0)
        .await;
    let sent = sent as f64;
    for (series, value) in [
        (
            r#"consoled_proxy_sessions_total{type="serial",end="client_closed"}"#,
            3.0,
        ),
        (
            r#"consoled_proxy_bytes_total{type="serial",direction="to_backend"}"#,
            sent,
        ),
        (
            r#"consoled_proxy_bytes_total{type="serial",direction="to_client"}"#,
            sent * SESSIONS as f64,
        ),
        (
            r#"consoled_proxy_session_duration_seconds_count{type="serial"}"#,
            3.0,
        ),
        (
            r#"consoled_proxy_refusals_total{type="serial",reason="bad_token"}"#,
            1.0,
        ),
        (
            r#"consoled_proxy_refusals_total{type="serial",reason="no_token"}"#,
            1.0,
        ),
        (r#"consoled_consoles_created_total{type="serial"}"#, 1.0),
        (
            r#"consoled_api_requests_total{route="/v2.1/servers/{server_id}/remote-consoles",status="200"}"#,
            1.0,
        ),
        (
            r#"consoled_token_store_operations_total{store="memory",op="authorize",result="ok"}"#,
            1.0,
        ),
        (
            r#"consoled_token_store_operations_total{store="memory",op="validate",result="ok"}"#,
            3.0,
        ),
        (
            r#"consoled_token_store_operations_total{store="memory",op="validate",result="not_found"}"#,
            1.0,
        ),
        (r#"consoled_token_store_live_records{store="memory"}"#, 1.0),
    ] {
        assert_eq!(sample(&text, series), Some(value), "{series} in\n{text}");
    }
    for name in [
        "process_cpu_seconds_total",
        "process_resident_memory_bytes",
        "process_virtual_memory_bytes",
        "process_open_fds",
        "process_max_fds",
        "process_start_time_seconds",
    ] {
        assert!(sample(&text, name).is_some(), "no {name} in\n{text}");
    }
    let token = url.rsplit("token=").next().unwrap();
    assert!(!text.contains(token), "a token in the metrics:\n{text}");
}

/// A Prometheus server scraping one target every second, with its data in
/// a fresh folder; killed on drop.
struct Prometheus {
    child: Child,
    url: String,
    _dir: PathBuf,
}

impl Prometheus {
    async fn start(target: SocketAddr) -> Prometheus {
        assert!(
            Command::new("prometheus")
                .arg("--version")
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .status()
                .is_ok_and(|s| s.success()),
            "prometheus is not installed: install the package prometheus (scripts/test installs it)"
        );
        let dir = temp_dir("prometheus");
        let config = dir.join("prometheus.yml");
        std::fs::write(
            &config,
            format!(
                "global:\n  scrape_interval: 1s\n  evaluation_interval: 1s\n\
                 scrape_configs:\n  - job_name: consoled\n    scrape_interval: 1s\n    \
                 static_configs:\n      - targets: [\"{target}\"]\n"
            ),
        )
        .unwrap();
        let listen: SocketAddr = ([127, 0, 0, 1], free_port()).into();
        let log = std::fs::File::create(dir.join("prometheus.log")).unwrap();
        let child = Command::new("prometheus")
            .arg(format!("--config.file={}", config.display()))
            .arg(format!(
                "--storage.tsdb.path={}",
                dir.join("data").display()
            ))
            .arg(format!("--web.listen-address={listen}"))
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(log)
            .spawn()
            .expect("prometheus starts");
        let prometheus = Prometheus {
            child,
            url: format!("http://{listen}"),
            _dir: dir,
        };
        let deadline = Instant::now() + LIMIT;
        loop {
            let ready = reqwest::get(format!("{}/-/ready", prometheus.url)).await;
            if ready.is_ok_and(|r| r.status() == 200) {
                return prometheus;
            }
            assert!(Instant::now() < deadline, "prometheus did not get ready");
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
    }

    /// The value of an instant query that yields one series, if it does.
    async fn query(&self, query: &str) -> Option<f64> {
        let body: serde_json::Value = reqwest::Client::new()
            .get(format!("{}/api/v1/query", self.url))
            .query(&[("query", query)])
            .send()
            .await
            .ok()?
            .json()
            .await
            .ok()?;
        assert_eq!(body["status"], "success", "{query}: {body}");
        body["data"]["result"][0]["value"][1].as_str()?.parse().ok()
    }

    /// Queries until `query` yields `value`.
    async fn wait_for(&self, query: &str, value: f64) {
        let deadline = Instant::now() + LIMIT;
        loop {
            let got = self.query(query).await;
            if got == Some(value) {
                return;
            }
            assert!(
                Instant::now() < deadline,
                "{query} never reached {value} in Prometheus (last: {got:?})"
            );
            tokio::time::sleep(Duration::from_millis(250)).await;
        }
    }
}

impl Drop for Prometheus {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// `promtool check metrics` on one scrape: its exit status and what it
/// said.
fn promtool_check(text: &str) -> (bool, String) {
    let mut child = Command::new("promtool")
        .args(["check", "metrics"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("promtool runs (package prometheus)");
    let mut stdin = child.stdin.take().unwrap();
    std::io::Write::write_all(&mut stdin, text.as_bytes()).unwrap();
    drop(stdin);
    let out = child.wait_with_output().unwrap();
    let said = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    (out.status.success(), said)
}

#[tokio::test]
async fn prometheus_sees_sessions_rise_and_fall_and_the_bytes_sent() {
    let node = Node::start("metrics-prometheus").await;
    let prometheus = Prometheus::start(node.metrics).await;
    prometheus.wait_for(r#"up{job="consoled"}"#, 1.0).await;

    let url = node.mint().await;
    let mut consoles = Vec::new();
    for _ in 0..SESSIONS {
        consoles.push(node.connect(&url).await.expect("token accepted"));
    }
    let sent = type_on_each(&mut consoles).await;
    // Every family has samples now: the scrape is what Prometheus lints.
    let (clean, said) = promtool_check(&node.scrape().await);
    assert!(clean, "promtool check metrics: {said}");

    let active = "sum(consoled_proxy_sessions_active)";
    prometheus.wait_for(active, SESSIONS as f64).await;
    // While the sessions are still open, the bytes arrive with the next
    // publication.
    let sent = sent as f64;
    prometheus
        .wait_for(
            r#"sum(consoled_proxy_bytes_total{direction="to_backend"})"#,
            sent,
        )
        .await;
    prometheus
        .wait_for(
            r#"sum(consoled_proxy_bytes_total{direction="to_client"})"#,
            sent * SESSIONS as f64,
        )
        .await;
    assert_eq!(prometheus.query(active).await, Some(SESSIONS as f64));

    for console in consoles {
        close(console).await;
    }
    prometheus.wait_for(active, 0.0).await;
    prometheus
        .wait_for(
            r#"sum(consoled_proxy_sessions_total{end="client_closed"})"#,
            SESSIONS as f64,
        )
        .await;
}
