//! The conformance suite passes the real driver of every kind and fails
//! the same drivers broken in the ways it promises to catch.

mod support;

use std::sync::Arc;

use consoled_testkit::conformance::{run_driver_conformance, EndpointKind};
use support::{Flaw, Real, TestDriver};

fn driver(real: Real, flaw: Flaw) -> Arc<TestDriver> {
    Arc::new(TestDriver::new(real, flaw))
}

#[tokio::test]
async fn passes_novnc() {
    run_driver_conformance(driver(Real::Novnc, Flaw::None), EndpointKind::Rfb).await;
}

#[tokio::test]
async fn passes_xvpvnc() {
    run_driver_conformance(driver(Real::Xvpvnc, Flaw::None), EndpointKind::Rfb).await;
}

#[tokio::test]
async fn passes_serial() {
    run_driver_conformance(driver(Real::Serial, Flaw::None), EndpointKind::SerialEcho).await;
}

#[tokio::test]
async fn passes_spice_html5() {
    run_driver_conformance(driver(Real::SpiceHtml5, Flaw::None), EndpointKind::Spice).await;
}

#[tokio::test]
async fn passes_webmks() {
    run_driver_conformance(driver(Real::Webmks, Flaw::None), EndpointKind::Authd).await;
}

#[tokio::test]
async fn passes_spice_direct() {
    run_driver_conformance(
        driver(Real::SpiceDirect, Flaw::None),
        EndpointKind::External,
    )
    .await;
}

/// Runs the suite in its own task and returns its panic message.
async fn failure(real: Real, flaw: Flaw, endpoint: EndpointKind) -> String {
    let run = tokio::spawn(run_driver_conformance(driver(real, flaw), endpoint));
    let err = run.await.expect_err("the suite must fail this driver");
    assert!(err.is_panic(), "the suite must fail by panicking");
    let payload = err.into_panic();
    match payload.downcast::<String>() {
        Ok(message) => *message,
        Err(payload) => payload
            .downcast::<&str>()
            .map(|s| s.to_string())
            .unwrap_or_default(),
    }
}

#[tokio::test]
async fn fails_novnc_with_the_token_outside_path() {
    let message = failure(Real::Novnc, Flaw::TokenOutsidePath, EndpointKind::Rfb).await;
    assert!(message.contains("vnc/novnc"), "{message}");
    assert!(
        message.contains("access_url") && message.contains("path"),
        "{message}"
    );
    assert!(
        !message.contains("c0ffee00"),
        "the token stays out of the message: {message}"
    );
}

#[tokio::test]
async fn fails_a_driver_that_keeps_a_stale_token() {
    let message = failure(
        Real::Serial,
        Flaw::KeepsStaleToken,
        EndpointKind::SerialEcho,
    )
    .await;
    assert!(message.contains("exactly one `token`"), "{message}");
}

#[tokio::test]
async fn fails_a_driver_that_skips_the_connect_path() {
    let message = failure(
        Real::Serial,
        Flaw::IgnoresConnectPath,
        EndpointKind::SerialEcho,
    )
    .await;
    assert!(message.contains("CONNECT path"), "{message}");
    let message = failure(Real::Xvpvnc, Flaw::IgnoresConnectPath, EndpointKind::Rfb).await;
    assert!(message.contains("CONNECT path"), "{message}");
}

#[tokio::test]
async fn fails_a_wrong_microversion() {
    let message = failure(Real::Webmks, Flaw::WrongMicroversion, EndpointKind::Authd).await;
    assert!(
        message.contains("descriptor") && message.contains("2.8"),
        "{message}"
    );
}

#[tokio::test]
async fn fails_a_wrong_error_mapping() {
    let message = failure(Real::SpiceHtml5, Flaw::NoEndpointIs500, EndpointKind::Spice).await;
    assert!(message.contains("expected 400, got 500"), "{message}");
}

#[tokio::test]
async fn fails_a_front_that_does_not_fit_the_endpoint() {
    let message = failure(Real::SpiceDirect, Flaw::None, EndpointKind::Spice).await;
    assert!(message.contains("front external"), "{message}");
}
