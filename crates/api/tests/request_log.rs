//! Every request gets one log line naming method, route, status, latency
//! and request id, and no token reaches the log.

use std::io::Write;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use consoled_api::{router, ApiState, NoAuth};
use consoled_core::{DispatchSettings, Dispatcher, MemoryTokenStore, Registry};
use consoled_testkit::{FakeBackend, SequentialTokens, ServerBuilder};

use consoled_driver_vnc_novnc as _;

const WEB: &str = "c6d5a3a0-9f4e-4b8e-9a4e-0d1f6a1e2b3c";

#[derive(Clone, Default)]
struct Captured(Arc<Mutex<Vec<u8>>>);

impl Write for Captured {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

#[tokio::test]
async fn one_line_per_request_and_no_token() {
    let captured = Captured::default();
    let writer = captured.clone();
    tracing_subscriber::fmt()
        .with_ansi(false)
        .with_writer(move || writer.clone())
        .with_max_level(tracing::Level::DEBUG)
        .init();

    let backend = FakeBackend::new().with(ServerBuilder::new(WEB, "web-1").vnc("127.0.0.1", 5901));
    let dispatcher = Dispatcher::new(
        Arc::new(Registry::from_inventory().unwrap()),
        Arc::new(backend),
        Arc::new(MemoryTokenStore::new()),
        DispatchSettings::default(),
    )
    .with_token_source(SequentialTokens::new("secret-token"));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move {
        axum::serve(
            listener,
            router(ApiState::new(dispatcher, Arc::new(NoAuth))),
        )
        .await
    });
    let client = reqwest::Client::builder()
        .timeout(Duration::from_secs(30))
        .build()
        .unwrap();

    let created = client
        .post(format!("{url}/v2.1/servers/{WEB}/remote-consoles"))
        .header("x-auth-token", "demo:demo")
        .header("openstack-api-version", "compute 2.6")
        .json(&serde_json::json!({"remote_console": {"protocol": "vnc", "type": "novnc"}}))
        .send()
        .await
        .unwrap();
    let request_id = created.headers()["x-openstack-request-id"]
        .to_str()
        .unwrap()
        .to_owned();
    let body = created.text().await.unwrap();
    assert!(body.contains("secret-token-1"), "{body}");
    let shown = client
        .get(format!("{url}/v2.1/os-console-auth-tokens/secret-token-1"))
        .header("x-auth-token", "admin:admin")
        .header("openstack-api-version", "compute 2.31")
        .send()
        .await
        .unwrap();
    assert_eq!(shown.status(), 200);

    let log = String::from_utf8(captured.0.lock().unwrap().clone()).unwrap();
    let answered: Vec<&str> = log
        .lines()
        .filter(|l| l.contains("request answered"))
        .collect();
    assert_eq!(answered.len(), 2, "{log}");
    let first = answered[0];
    for part in [
        format!("request_id={request_id}").as_str(),
        "method=POST",
        "route=/v2.1/servers/{server_id}/remote-consoles",
        "status=200",
        "latency_ms=",
    ] {
        assert!(first.contains(part), "{part} missing from {first}");
    }
    assert!(
        answered[1].contains("route=/v2.1/os-console-auth-tokens/{token}"),
        "{}",
        answered[1]
    );
    // Lines logged inside the request carry its id too.
    assert!(
        log.lines()
            .any(|l| l.contains("console created") && l.contains(&request_id)),
        "{log}"
    );
    assert!(
        !log.contains("secret-token"),
        "a token reached the log:\n{log}"
    );
}
