//! `https`/`wss` listeners: a certificate and key from PEM files (made
//! with rcgen into a temp dir), a real TLS client.

mod support;

use std::net::SocketAddr;
use std::sync::Arc;

use consoled_proxy::ListenerConfig;
use consoled_testkit::SerialEcho;
use futures_util::{SinkExt, StreamExt};
use rustls::pki_types::ServerName;
use support::*;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio::time::timeout;
use tokio_rustls::client::TlsStream;
use tokio_rustls::TlsConnector;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::Message;

struct Certs {
    dir: TempDir,
    der: rustls::pki_types::CertificateDer<'static>,
}

fn certs() -> Certs {
    let certified =
        rcgen::generate_simple_self_signed(vec!["localhost".to_owned()]).expect("certificate");
    let dir = TempDir::new("tls");
    dir.write("cert.pem", certified.cert.pem());
    dir.write("key.pem", certified.signing_key.serialize_pem());
    Certs {
        der: certified.cert.der().clone(),
        dir,
    }
}

fn tls_listener(certs: &Certs, types: &[&str]) -> ListenerConfig {
    ListenerConfig::new(SocketAddr::from(([127, 0, 0, 1], 0)), types.iter().copied()).with_tls(
        certs.dir.path().join("cert.pem"),
        certs.dir.path().join("key.pem"),
    )
}

async fn tls_connect(certs: &Certs, addr: SocketAddr) -> TlsStream<TcpStream> {
    let mut roots = rustls::RootCertStore::empty();
    roots
        .add(certs.der.clone())
        .expect("trust the test certificate");
    let config = rustls::ClientConfig::builder_with_provider(Arc::new(
        rustls::crypto::ring::default_provider(),
    ))
    .with_safe_default_protocol_versions()
    .unwrap()
    .with_root_certificates(roots)
    .with_no_client_auth();
    let tcp = TcpStream::connect(addr).await.unwrap();
    let name = ServerName::try_from("localhost").unwrap();
    timeout(
        LIMIT,
        TlsConnector::from(Arc::new(config)).connect(name, tcp),
    )
    .await
    .expect("TLS handshake in time")
    .expect("TLS handshake")
}

#[tokio::test]
async fn wss_serial_console() {
    let certs = certs();
    let echo = SerialEcho::start().await.unwrap();
    let proxy = ProxyBuilder::new()
        .listener_config(tls_listener(&certs, &["serial"]))
        .start()
        .await;
    let url = proxy.mint_serial(&echo).await;
    let tls = tls_connect(&certs, proxy.addr(0)).await;
    let request = format!(
        "wss://localhost:{}{}",
        proxy.addr(0).port(),
        console_target(&url)
    )
    .into_client_request()
    .unwrap();
    let (mut ws, _) = timeout(LIMIT, tokio_tungstenite::client_async(request, tls))
        .await
        .unwrap()
        .expect("upgrade over TLS");
    ws.send(Message::binary(&b"over tls"[..])).await.unwrap();
    let mut got = Vec::new();
    while got.len() < 8 {
        match timeout(LIMIT, ws.next()).await.unwrap().unwrap().unwrap() {
            Message::Binary(data) => got.extend_from_slice(&data),
            other => panic!("unexpected {other:?}"),
        }
    }
    assert_eq!(got, b"over tls");
}

#[tokio::test]
async fn https_health_and_a_silent_tls_probe() {
    let certs = certs();
    let proxy = ProxyBuilder::new()
        .listener_config(tls_listener(&certs, &["serial"]))
        .settings(|s| s.handshake_timeout = std::time::Duration::from_millis(300))
        .start()
        .await;
    // A probe that opens TCP and never says hello.
    let mut probe = TcpStream::connect(proxy.addr(0)).await.unwrap();
    // A TLS probe that completes the handshake and sends no request.
    let mut quiet = tls_connect(&certs, proxy.addr(0)).await;
    let mut tls = tls_connect(&certs, proxy.addr(0)).await;
    tls.write_all(b"GET /healthz HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n")
        .await
        .unwrap();
    let mut response = Vec::new();
    let _ = timeout(LIMIT, tls.read_to_end(&mut response))
        .await
        .unwrap();
    let (head, body) = split_response(&response);
    assert!(head.starts_with("HTTP/1.1 200 OK\r\n"), "{head}");
    assert_eq!(body, b"ok\n");
    // Both probes are let go without a byte of HTTP.
    let mut rest = Vec::new();
    timeout(LIMIT, probe.read_to_end(&mut rest))
        .await
        .unwrap()
        .unwrap();
    assert!(rest.is_empty());
    let mut rest = Vec::new();
    let _ = timeout(LIMIT, quiet.read_to_end(&mut rest)).await.unwrap();
    assert!(rest.is_empty());
}

#[tokio::test]
async fn plain_http_to_a_tls_listener_gets_nothing() {
    let certs = certs();
    let proxy = ProxyBuilder::new()
        .listener_config(tls_listener(&certs, &["serial"]))
        .start()
        .await;
    let mut tcp = TcpStream::connect(proxy.addr(0)).await.unwrap();
    tcp.write_all(b"GET /healthz HTTP/1.1\r\n\r\n")
        .await
        .unwrap();
    let mut rest = Vec::new();
    let _ = timeout(LIMIT, tcp.read_to_end(&mut rest)).await.unwrap();
    assert!(
        !rest.starts_with(b"HTTP/1.1 200"),
        "served plain HTTP on a TLS listener"
    );
}
