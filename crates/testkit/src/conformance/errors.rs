//! Error mapping: what a driver answers when things are wrong.

use consoled_core::{ConsoleError, Endpoint};
use tokio::net::TcpListener;

use super::subject::{local_endpoint, Subject};
use super::EndpointKind;
use crate::ServerBuilder;

pub(super) async fn check(subject: &Subject, endpoint: EndpointKind) {
    no_endpoint_is_400(subject).await;
    let port = closed_port().await;
    if endpoint == EndpointKind::External {
        external_connect_is_501(subject, port).await;
    } else {
        closed_port_is_503(subject, endpoint, port).await;
    }
}

async fn no_endpoint_is_400(subject: &Subject) {
    const CHECK: &str = "connect_info without an endpoint";
    let other_protocol = format!("not-{}", subject.descriptor.protocol);
    let server = ServerBuilder::new(super::subject::SERVER_ID, "conformance")
        .endpoint(&other_protocol, "127.0.0.1", 5900)
        .build();
    match subject.connect_info(CHECK, &server).await {
        Err(e) if e.status() == 400 => {}
        Err(e) => subject.fail(CHECK, format!("expected 400, got {} ({e})", e.status())),
        Ok(info) => subject.fail(
            CHECK,
            format!(
                "expected 400, got connect info for {}:{}",
                info.host, info.port
            ),
        ),
    }
}

async fn external_connect_is_501(subject: &Subject, port: u16) {
    const CHECK: &str = "connect with an external front";
    let endpoint = Endpoint {
        tls_port: Some(port),
        ..local_endpoint(port, None)
    };
    let record = subject.record_for(CHECK, endpoint).await;
    match subject.connect(CHECK, &record).await {
        Err(ConsoleError::NotImplemented(_)) => {}
        Err(e) => subject.fail(CHECK, format!("expected 501, got {} ({e})", e.status())),
        Ok(_) => subject.fail(CHECK, "expected 501, got a backend stream"),
    }
}

async fn closed_port_is_503(subject: &Subject, endpoint: EndpointKind, port: u16) {
    const CHECK: &str = "connect to a closed port";
    let access_path = (endpoint == EndpointKind::Authd).then(|| {
        serde_json::json!({
            "ticket": "conformance-ticket",
            "cfgFile": "[ds1] conformance/vm.vmx",
            "thumbprint": "00:11:22:33:44:55:66:77:88:99:AA:BB:CC:DD:EE:FF:00:11:22:33",
        })
        .to_string()
    });
    let record = subject
        .record_for(CHECK, local_endpoint(port, access_path))
        .await;
    match subject.connect(CHECK, &record).await {
        Err(e) if e.status() == 503 => {}
        Err(e) => subject.fail(CHECK, format!("expected 503, got {} ({e})", e.status())),
        Ok(_) => subject.fail(CHECK, "expected 503, got a backend stream"),
    }
}

/// A port nothing listens on: bound by us, then released.
async fn closed_port() -> u16 {
    let listener = TcpListener::bind(("127.0.0.1", 0))
        .await
        .unwrap_or_else(|e| panic!("driver conformance: cannot bind 127.0.0.1: {e}"));
    let port = listener
        .local_addr()
        .unwrap_or_else(|e| panic!("driver conformance: no local address: {e}"))
        .port();
    drop(listener);
    port
}
