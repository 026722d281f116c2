//! The webmks backend leg against the test kit's authd (real TLS with
//! self-signed certificates over 127.0.0.1): the whole exchange, then
//! bytes relayed through TLS inside TLS; and each way it can be refused.

use std::time::Duration;

use consoled_core::{ConnectInfo, ConsoleDriver, ConsoleError, Endpoint, Token, TokenRecord};
use consoled_driver_mks::WebMksDriver;
use consoled_testkit::{AuthdEndpoint, AuthdOptions, ServerBuilder};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

const TICKET: &str = "52-ticket-a1b2c3";
const CFG: &str = "[datastore1] web-1/web-1.vmx";
const LIMIT: Duration = Duration::from_secs(30);

async fn authd() -> AuthdEndpoint {
    AuthdEndpoint::start(AuthdOptions {
        ticket: TICKET.into(),
        cfg_file: CFG.into(),
    })
    .await
    .expect("authd endpoint")
}

/// A record minted the way the dispatcher does: through `connect_info`.
async fn record_for(authd: &AuthdEndpoint, access: String) -> TokenRecord {
    let server = ServerBuilder::new("vm-1", "web-1")
        .console(
            "mks",
            Endpoint {
                host: "127.0.0.1".into(),
                port: authd.addr().port(),
                tls_port: None,
                internal_access_path: Some(access),
                unix_socket: None,
            },
        )
        .build();
    let connect: ConnectInfo = WebMksDriver::default()
        .connect_info(&server)
        .await
        .expect("valid access data");
    TokenRecord {
        token_hash: Token::new("t").hash(),
        protocol: "mks".into(),
        console_type: "webmks".into(),
        instance_uuid: server.id,
        connect,
        access_url_base: "http://127.0.0.1:6090/".into(),
        expires_at: u64::MAX,
        minted_by: None,
    }
}

async fn connect(record: &TokenRecord) -> Result<consoled_core::BackendStream, ConsoleError> {
    tokio::time::timeout(LIMIT, WebMksDriver::default().connect(record))
        .await
        .expect("connect finished in time")
}

fn access(ticket: &str, cfg: &str, thumbprint: &str) -> String {
    serde_json::json!({"ticket": ticket, "cfgFile": cfg, "thumbprint": thumbprint}).to_string()
}

#[tokio::test]
async fn full_exchange_then_relay() {
    let authd = authd().await;
    let record = record_for(&authd, authd.internal_access_path()).await;
    let mut stream = connect(&record).await.expect("exchange completes");
    stream.write_all(b"\x01\x02mks bytes").await.unwrap();
    stream.flush().await.unwrap();
    let mut echoed = [0u8; 11];
    tokio::time::timeout(LIMIT, stream.read_exact(&mut echoed))
        .await
        .expect("echo in time")
        .unwrap();
    assert_eq!(&echoed, b"\x01\x02mks bytes");
    assert_eq!(authd.authenticated(), 1);
}

#[tokio::test]
async fn plain_lower_case_thumbprint_is_accepted_too() {
    let authd = authd().await;
    let plain = authd.thumbprint().replace(':', "").to_lowercase();
    let record = record_for(&authd, access(TICKET, CFG, &plain)).await;
    let mut stream = connect(&record).await.expect("exchange completes");
    // The endpoint counts a session once it has checked the nonce, which
    // an echo round trip proves it has.
    stream.write_all(b"x").await.unwrap();
    let mut echoed = [0u8; 1];
    tokio::time::timeout(LIMIT, stream.read_exact(&mut echoed))
        .await
        .expect("echo in time")
        .unwrap();
    assert_eq!(authd.authenticated(), 1);
}

fn refusal(result: Result<consoled_core::BackendStream, ConsoleError>) -> ConsoleError {
    match result {
        Ok(_) => panic!("the exchange should have been refused"),
        Err(e) => e,
    }
}

#[tokio::test]
async fn wrong_thumbprint_is_refused_at_tls() {
    let authd = authd().await;
    let record = record_for(&authd, access(TICKET, CFG, &"ab".repeat(20))).await;
    let err = refusal(connect(&record).await);
    assert_eq!(err.status(), 503);
    assert!(err.to_string().contains("TLS to the host"), "{err}");
    assert_eq!(authd.authenticated(), 0);
}

#[tokio::test]
async fn wrong_ticket_is_refused_without_naming_it() {
    let authd = authd().await;
    let thumbprint = authd.thumbprint();
    let record = record_for(&authd, access("wrong-ticket-zz9", CFG, &thumbprint)).await;
    let err = refusal(connect(&record).await);
    assert_eq!(err.status(), 503);
    let message = err.to_string();
    assert!(
        message.contains("PASS") && message.contains("530"),
        "{message}"
    );
    assert!(!message.contains("wrong-ticket-zz9"), "{message}");
    assert_eq!(authd.authenticated(), 0);
}

#[tokio::test]
async fn wrong_cfg_file_is_refused_at_connect() {
    let authd = authd().await;
    let thumbprint = authd.thumbprint();
    let record = record_for(&authd, access(TICKET, "[ds] other.vmx", &thumbprint)).await;
    let err = refusal(connect(&record).await);
    assert_eq!(err.status(), 503);
    assert!(err.to_string().contains("CONNECT"), "{err}");
    assert!(!err.to_string().contains(TICKET), "{err}");
}

#[tokio::test]
async fn closed_port_is_503() {
    let authd = authd().await;
    let mut record = record_for(&authd, authd.internal_access_path()).await;
    let closed = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    record.connect.port = closed.local_addr().unwrap().port();
    drop(closed);
    assert_eq!(refusal(connect(&record).await).status(), 503);
}
