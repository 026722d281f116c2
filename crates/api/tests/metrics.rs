//! With metrics, every request is counted by route template and status,
//! timed, and every console created is counted by type; the path (and a
//! token in it) never becomes a label.

use std::sync::Arc;
use std::time::Duration;

use consoled_api::{router, ApiMetrics, ApiState, NoAuth};
use consoled_core::prometheus_client::encoding::prometheus_text::encode;
use consoled_core::prometheus_client::registry::Registry as Metrics;
use consoled_core::{DispatchSettings, Dispatcher, MemoryTokenStore, Registry};
use consoled_testkit::{FakeBackend, SequentialTokens, ServerBuilder};

use consoled_driver_serial as _;
use consoled_driver_vnc_novnc as _;

const WEB: &str = "c6d5a3a0-9f4e-4b8e-9a4e-0d1f6a1e2b3c";

#[tokio::test]
async fn requests_and_consoles_are_counted() {
    let backend = FakeBackend::new().with(
        ServerBuilder::new(WEB, "web-1")
            .vnc("127.0.0.1", 5901)
            .serial("127.0.0.1", 5902),
    );
    let dispatcher = Dispatcher::new(
        Arc::new(Registry::from_inventory().unwrap()),
        Arc::new(backend),
        Arc::new(MemoryTokenStore::new()),
        DispatchSettings::default(),
    )
    .with_token_source(SequentialTokens::new("secret-token"));
    let mut metrics = Metrics::default();
    let api = Arc::new(ApiMetrics::register(&mut metrics));
    let state = ApiState::new(dispatcher, Arc::new(NoAuth)).with_metrics(api);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, router(state)).await });
    let client = reqwest::Client::builder()
        .timeout(Duration::from_secs(30))
        .build()
        .unwrap();

    for _ in 0..2 {
        let created = client
            .post(format!("{url}/v2.1/servers/{WEB}/remote-consoles"))
            .header("x-auth-token", "demo:demo")
            .header("openstack-api-version", "compute 2.6")
            .json(&serde_json::json!({"remote_console": {"protocol": "vnc", "type": "novnc"}}))
            .send()
            .await
            .unwrap();
        assert_eq!(created.status(), 200);
    }
    let legacy = client
        .post(format!("{url}/v2.1/servers/{WEB}/action"))
        .header("x-auth-token", "demo:demo")
        .json(&serde_json::json!({"os-getSerialConsole": {"type": "serial"}}))
        .send()
        .await
        .unwrap();
    assert_eq!(legacy.status(), 200);
    let missing = client
        .post(format!("{url}/v2.1/servers/nope/remote-consoles"))
        .header("x-auth-token", "demo:demo")
        .header("openstack-api-version", "compute 2.6")
        .json(&serde_json::json!({"remote_console": {"protocol": "vnc", "type": "novnc"}}))
        .send()
        .await
        .unwrap();
    assert_eq!(missing.status(), 404);
    let shown = client
        .get(format!("{url}/v2.1/os-console-auth-tokens/secret-token-1"))
        .header("x-auth-token", "admin:admin")
        .header("openstack-api-version", "compute 2.31")
        .send()
        .await
        .unwrap();
    assert_eq!(shown.status(), 200);
    let unknown = client.get(format!("{url}/nowhere")).send().await.unwrap();
    assert_eq!(unknown.status(), 404);

    let mut text = String::new();
    encode(&mut text, &metrics).unwrap();
    let remote = "/v2.1/servers/{server_id}/remote-consoles";
    for line in [
        format!(r#"consoled_api_requests_total{{route="{remote}",status="200"}} 2"#),
        format!(r#"consoled_api_requests_total{{route="{remote}",status="404"}} 1"#),
        r#"consoled_api_requests_total{route="/v2.1/servers/{server_id}/action",status="200"} 1"#
            .to_owned(),
        r#"consoled_api_requests_total{route="/v2.1/os-console-auth-tokens/{token}",status="200"} 1"#
            .to_owned(),
        r#"consoled_api_requests_total{route="(unmatched)",status="404"} 1"#.to_owned(),
        format!(r#"consoled_api_request_duration_seconds_count{{route="{remote}"}} 3"#),
        format!(r#"consoled_api_request_duration_seconds_bucket{{route="{remote}",le="+Inf"}} 3"#),
        r#"consoled_consoles_created_total{type="novnc"} 2"#.to_owned(),
        r#"consoled_consoles_created_total{type="serial"} 1"#.to_owned(),
    ] {
        assert!(text.lines().any(|l| l == line), "no {line} in\n{text}");
    }
    assert!(!text.contains("secret-token"), "{text}");
    assert!(!text.contains("nowhere"), "{text}");
}
