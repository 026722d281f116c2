//! The authd endpoint against the authd client helper, over real TLS.

use std::io::ErrorKind;
use std::time::Duration;

use consoled_testkit::{authd_client_connect, normalize_thumbprint, AuthdEndpoint, AuthdOptions};
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
async fn full_exchange_then_echo() {
    let authd = AuthdEndpoint::start(options()).await.unwrap();
    let tcp = TcpStream::connect(authd.addr()).await.unwrap();
    let mut session = timeout(
        LIMIT,
        authd_client_connect(
            tcp,
            "mks-ticket-1",
            "[datastore1] vm-1/vm-1.vmx",
            &authd.thumbprint(),
        ),
    )
    .await
    .unwrap()
    .unwrap();
    session.write_all(b"mks bytes").await.unwrap();
    session.flush().await.unwrap();
    let mut back = [0u8; 9];
    timeout(LIMIT, session.read_exact(&mut back))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(&back, b"mks bytes");
    assert_eq!(authd.authenticated(), 1);
    assert_eq!(authd.connections(), 1);
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

    let plain = normalize_thumbprint(&thumbprint);
    assert_eq!(plain.len(), 40);
    let tcp = TcpStream::connect(authd.addr()).await.unwrap();
    let mut session = timeout(
        LIMIT,
        authd_client_connect(tcp, "mks-ticket-1", "[datastore1] vm-1/vm-1.vmx", &plain),
    )
    .await
    .unwrap()
    .unwrap();
    // The endpoint counts the session once it has checked the nonce, which
    // an echo proves.
    session.write_all(b"x").await.unwrap();
    session.flush().await.unwrap();
    let mut back = [0u8; 1];
    timeout(LIMIT, session.read_exact(&mut back))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(authd.authenticated(), 1);
}

#[tokio::test]
async fn refusals() {
    let authd = AuthdEndpoint::start(options()).await.unwrap();
    let vmx = "[datastore1] vm-1/vm-1.vmx";

    let tcp = TcpStream::connect(authd.addr()).await.unwrap();
    let err = timeout(
        LIMIT,
        authd_client_connect(tcp, "wrong", vmx, &authd.thumbprint()),
    )
    .await
    .unwrap()
    .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::PermissionDenied);
    assert!(
        !err.to_string().contains("wrong"),
        "the ticket stays out of errors"
    );

    let tcp = TcpStream::connect(authd.addr()).await.unwrap();
    let err = timeout(
        LIMIT,
        authd_client_connect(tcp, "mks-ticket-1", "other.vmx", &authd.thumbprint()),
    )
    .await
    .unwrap()
    .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::PermissionDenied);

    let tcp = TcpStream::connect(authd.addr()).await.unwrap();
    let forged = "00:11:22:33:44:55:66:77:88:99:AA:BB:CC:DD:EE:FF:00:11:22:33";
    assert!(timeout(
        LIMIT,
        authd_client_connect(tcp, "mks-ticket-1", vmx, forged)
    )
    .await
    .unwrap()
    .is_err());

    assert_eq!(authd.authenticated(), 0);
    assert_eq!(authd.connections(), 3);
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
