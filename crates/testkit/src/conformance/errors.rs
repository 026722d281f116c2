//! Error mapping: what a driver answers when things are wrong.

use consoled_core::ConsoleError;
use tokio::net::TcpListener;

use super::endpoint::ConformanceEndpoint;
use super::subject::{Subject, SERVER_ID};
use crate::ServerBuilder;

pub(super) async fn no_endpoint_is_400(subject: &Subject) {
    const CHECK: &str = "connect_info without an endpoint";
    let other_protocol = format!("not-{}", subject.descriptor.protocol);
    let server = ServerBuilder::new(SERVER_ID, "conformance")
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

pub(super) async fn external_connect_is_501<E: ConformanceEndpoint>(subject: &Subject) {
    const CHECK: &str = "connect with an external front";
    let port = closed_port().await;
    let record = subject.record_for(CHECK, E::unreachable(port)).await;
    match subject.connect(CHECK, &record).await {
        Err(ConsoleError::NotImplemented(_)) => {}
        Err(e) => subject.fail(CHECK, format!("expected 501, got {} ({e})", e.status())),
        Ok(_) => subject.fail(CHECK, "expected 501, got a backend stream"),
    }
}

pub(super) async fn closed_port_is_503<E: ConformanceEndpoint>(subject: &Subject) {
    const CHECK: &str = "connect to a closed port";
    let port = closed_port().await;
    let record = subject.record_for(CHECK, E::unreachable(port)).await;
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
