//! Slow clients (slowloris): hundreds of connections per listener, each
//! trickling one header line a second and never ending its head. Every
//! listener of `consoled serve` (the API, a WebSocket and page listener,
//! xvpvnc's raw front, a TLS listener) lets each one go once
//! `handshake_timeout_seconds` is up, and meanwhile a console is still
//! created and opened.

mod common;

use std::net::SocketAddr;
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use common::{free_port, temp_dir, Served, WEB};
use consoled_testkit::{rfb_client_handshake, RfbOptions, RfbServer, WsIo};
use rustls::pki_types::{CertificateDer, ServerName};
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio::task::JoinSet;
use tokio::time::timeout;
use tokio_rustls::TlsConnector;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;

/// Slow connections per listener.
const SLOW: usize = 500;
/// `handshake_timeout_seconds` in the configuration.
const HEAD_TIMEOUT: Duration = Duration::from_secs(2);
/// A generous bound on when the server lets a slow client go: the timeout
/// (twice on the TLS listener, whose handshake is bounded on its own) and
/// slack for a loaded machine.
const LET_GO_WITHIN: Duration = Duration::from_secs(2 * 2 + 5);
/// Bounds every other wait, only so that a broken test fails instead of
/// hanging.
const LIMIT: Duration = Duration::from_secs(30);

struct Ports {
    api: u16,
    novnc: u16,
    xvpvnc: u16,
    tls: u16,
}

/// The configuration: one listener of each kind, the VM's VNC at `vnc`,
/// a certificate for the TLS listener.
fn config(dir: &Path, ports: &Ports, vnc: SocketAddr) -> std::path::PathBuf {
    let certified =
        rcgen::generate_simple_self_signed(vec!["localhost".to_owned()]).expect("certificate");
    std::fs::write(dir.join("cert.pem"), certified.cert.pem()).unwrap();
    std::fs::write(dir.join("key.pem"), certified.signing_key.serialize_pem()).unwrap();
    std::fs::write(dir.join("cert.der"), certified.cert.der()).unwrap();
    common::write_vnc_inventory(dir, vnc);
    let Ports {
        api,
        novnc,
        xvpvnc,
        tls,
    } = ports;
    let path = dir.join("consoled.toml");
    std::fs::write(
        &path,
        format!(
            "[api]\nlisten = \"127.0.0.1:{api}\"\n\
             [consoles.novnc]\nbase_url = \"http://127.0.0.1:{novnc}/vnc_lite.html\"\n\
             [consoles.xvpvnc]\nbase_url = \"http://127.0.0.1:{xvpvnc}/console\"\n\
             [consoles.serial]\nbase_url = \"wss://localhost:{tls}/\"\n\
             [backend]\ninventory = \"servers.toml\"\n\
             [proxy]\nhandshake_timeout_seconds = {}\n\
             [[proxy.listeners]]\nlisten = \"127.0.0.1:{novnc}\"\ntypes = [\"novnc\"]\n\
             [[proxy.listeners]]\nlisten = \"127.0.0.1:{xvpvnc}\"\ntypes = [\"xvpvnc\"]\n\
             [[proxy.listeners]]\nlisten = \"127.0.0.1:{tls}\"\ntypes = [\"serial\"]\n\
             tls_cert = \"cert.pem\"\ntls_key = \"key.pem\"\n",
            HEAD_TIMEOUT.as_secs()
        ),
    )
    .unwrap();
    path
}

/// Sends a request line, then a header line a second, never the blank
/// line, until the server closes. Returns the lines sent, or why the
/// server did not let the client go in time.
async fn trickle<S: AsyncRead + AsyncWrite + Unpin>(mut stream: S) -> Result<usize, String> {
    let slow = async {
        let mut answer = [0u8; 512];
        let mut sent = 0;
        loop {
            let line = if sent == 0 {
                "GET /healthz HTTP/1.1\r\n".to_owned()
            } else {
                format!("X-Slow-{sent}: still typing\r\n")
            };
            if stream.write_all(line.as_bytes()).await.is_err() {
                // Reset by the server.
                return Ok(sent);
            }
            sent += 1;
            match timeout(Duration::from_secs(1), stream.read(&mut answer)).await {
                Err(_) => {}
                Ok(Ok(0) | Err(_)) => return Ok(sent),
                Ok(Ok(n)) => {
                    return Err(format!(
                        "a slow client got an answer: {:?}",
                        String::from_utf8_lossy(&answer[..n])
                    ))
                }
            }
        }
    };
    timeout(LET_GO_WITHIN, slow)
        .await
        .map_err(|_| "still connected".to_owned())?
}

fn tls_connector(dir: &Path) -> TlsConnector {
    let mut roots = rustls::RootCertStore::empty();
    roots
        .add(CertificateDer::from(
            std::fs::read(dir.join("cert.der")).unwrap(),
        ))
        .unwrap();
    let config = rustls::ClientConfig::builder_with_provider(Arc::new(
        rustls::crypto::ring::default_provider(),
    ))
    .with_safe_default_protocol_versions()
    .unwrap()
    .with_root_certificates(roots)
    .with_no_client_auth();
    TlsConnector::from(Arc::new(config))
}

/// Creates a console through the API; returns its access URL.
async fn mint(api: &str, console_type: &str) -> url::Url {
    let body: serde_json::Value = reqwest::Client::new()
        .post(format!("{api}/v2.1/servers/{WEB}/remote-consoles"))
        .header("x-auth-token", "demo:demo")
        .header("openstack-api-version", "compute 2.6")
        .json(&serde_json::json!({"remote_console": {"protocol": "vnc", "type": console_type}}))
        .timeout(LIMIT)
        .send()
        .await
        .expect("the API answers")
        .json()
        .await
        .unwrap();
    url::Url::parse(body["remote_console"]["url"].as_str().unwrap()).unwrap()
}

/// The token of an access URL: in `token`, or inside noVNC's `path`.
fn token_of(url: &url::Url) -> String {
    let (key, value) = url
        .query_pairs()
        .find(|(k, _)| k == "token" || k == "path")
        .expect("a token");
    match value.strip_prefix("?token=") {
        Some(token) if key == "path" => token.to_owned(),
        _ => value.into_owned(),
    }
}

#[tokio::test]
async fn slow_request_heads_are_let_go_on_every_listener() {
    let vm = RfbServer::start_with(RfbOptions {
        name: "web-1".into(),
        ..RfbOptions::default()
    })
    .await
    .unwrap();
    let dir = temp_dir("slow-heads");
    let ports = Ports {
        api: free_port(),
        novnc: free_port(),
        xvpvnc: free_port(),
        tls: free_port(),
    };
    let served = Served::start(&config(&dir, &ports, vm.addr()));
    // The proxies log their listeners after the API's line.
    for port in [ports.novnc, ports.xvpvnc, ports.tls] {
        let mut up = false;
        for _ in 0..600 {
            if TcpStream::connect(("127.0.0.1", port)).await.is_ok() {
                up = true;
                break;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        assert!(up, "proxy listener {port} never came up");
    }

    let tls = tls_connector(&dir);
    let mut slow = JoinSet::new();
    for (kind, port) in [
        ("api", ports.api),
        ("novnc", ports.novnc),
        ("xvpvnc", ports.xvpvnc),
        ("tls", ports.tls),
    ] {
        for _ in 0..SLOW {
            let tls = tls.clone();
            slow.spawn(async move {
                let tcp = timeout(LIMIT, TcpStream::connect(("127.0.0.1", port)))
                    .await
                    .map_err(|_| format!("{kind}: connect timed out"))?
                    .map_err(|e| format!("{kind}: connect: {e}"))?;
                let trickled = if kind == "tls" {
                    let name = ServerName::try_from("localhost").unwrap();
                    let stream = timeout(LIMIT, tls.connect(name, tcp))
                        .await
                        .map_err(|_| format!("{kind}: TLS handshake timed out"))?
                        .map_err(|e| format!("{kind}: TLS handshake: {e}"))?;
                    trickle(stream).await
                } else {
                    trickle(tcp).await
                };
                trickled.map_err(|e| format!("{kind}: {e}"))
            });
        }
    }

    // Meanwhile a console is created and opened on both VNC fronts.
    let api = format!("http://127.0.0.1:{}", ports.api);
    let novnc = mint(&api, "novnc").await;
    let request = format!("ws://127.0.0.1:{}/?token={}", ports.novnc, token_of(&novnc))
        .into_client_request()
        .unwrap();
    let tcp = TcpStream::connect(("127.0.0.1", ports.novnc))
        .await
        .unwrap();
    let (ws, _) = timeout(LIMIT, tokio_tungstenite::client_async(request, tcp))
        .await
        .expect("upgrade in time")
        .expect("the proxy accepts the token");
    let mut io = WsIo::new(ws, Default::default());
    let init = timeout(LIMIT, rfb_client_handshake(&mut io))
        .await
        .expect("handshake in time")
        .expect("RFB handshake through the WebSocket proxy");
    assert_eq!(init.name, "web-1");

    let xvpvnc = mint(&api, "xvpvnc").await;
    let mut raw = TcpStream::connect(("127.0.0.1", ports.xvpvnc))
        .await
        .unwrap();
    raw.write_all(format!("GET /console?token={} HTTP/1.1\r\n\r\n", token_of(&xvpvnc)).as_bytes())
        .await
        .unwrap();
    let mut accepted = [0u8; 19];
    timeout(LIMIT, raw.read_exact(&mut accepted))
        .await
        .expect("answer in time")
        .unwrap();
    assert_eq!(&accepted, b"HTTP/1.1 200 OK\r\n\r\n");
    let init = timeout(LIMIT, rfb_client_handshake(&mut raw))
        .await
        .expect("handshake in time")
        .expect("RFB handshake through the raw front");
    assert_eq!(init.name, "web-1");

    let mut let_go = 0;
    while let Some(done) = slow.join_next().await {
        let lines = done.expect("no panic").unwrap_or_else(|e| panic!("{e}"));
        // Not refused at the door: the server had a head to wait on.
        assert!(lines >= 1, "closed before the request line");
        let_go += 1;
    }
    assert_eq!(let_go, 4 * SLOW);
    assert_eq!(vm.connections(), 2);
    drop(served);
}
