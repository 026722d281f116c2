//! The authd endpoint's greeting, TLS requirement and access data. The
//! whole exchange is exercised by the webmks driver's own tests against
//! this endpoint (drivers/mks/tests/authd_exchange.rs), the one client
//! implementation of it.

use std::time::Duration;

use consoled_testkit::{normalize_thumbprint, AuthdEndpoint, AuthdOptions};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio::time::timeout;

const LIMIT: Duration = Duration::from_secs(20);

fn options() -> AuthdOptions {
    AuthdOptions {
        ticket: "mks-ticket-1".into(),
        cfg_file: "[datastore1] vm-1/vm-1.vmx".into(),
    }
}

#[tokio::test]
async fn thumbprint_forms_and_access_path() {
    let authd = AuthdEndpoint::start(options()).await.unwrap();
    let thumbprint = authd.thumbprint();
    assert_eq!(thumbprint.len(), 59);
    assert!(thumbprint
        .chars()
        .all(|c| c == ':' || c.is_ascii_digit() || ('A'..='F').contains(&c)));
    let path: serde_json::Value = serde_json::from_str(&authd.internal_access_path()).unwrap();
    assert_eq!(path["ticket"], "mks-ticket-1");
    assert_eq!(path["cfgFile"], "[datastore1] vm-1/vm-1.vmx");
    assert_eq!(path["thumbprint"], thumbprint.as_str());

    assert_eq!(normalize_thumbprint(&thumbprint).len(), 40);
    assert_eq!(authd.connections(), 0);
}

#[tokio::test]
async fn greets_and_requires_tls() {
    let authd = AuthdEndpoint::start(options()).await.unwrap();
    let mut tcp = TcpStream::connect(authd.addr()).await.unwrap();
    let mut greeting = [0u8; 61];
    timeout(LIMIT, tcp.read_exact(&mut greeting))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        &greeting,
        b"220 VMware Authentication Daemon Version 1.10: SSL Required\r\n"
    );
    tcp.write_all(b"USER mks-ticket-1\r\n").await.unwrap();
    let mut rest = Vec::new();
    let _ = timeout(LIMIT, tcp.read_to_end(&mut rest)).await.unwrap();
    assert!(!rest.starts_with(b"331"), "no login without TLS");
    assert_eq!(authd.authenticated(), 0);
}
