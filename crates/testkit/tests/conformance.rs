//! The conformance suite passes the real driver of every kind and fails
//! the same drivers broken in the ways it promises to catch.
//!
//! The passing runs are the macro, as a driver crate invokes it; the
//! failing runs call the one check that must catch each flaw, which is the
//! very function the macro's test of that name calls.

mod support;

use std::future::Future;
use std::io;
use std::sync::Arc;

use consoled_core::{async_trait, BackendStream, Endpoint};
use consoled_testkit::conformance::{checks, local_endpoint, ConformanceEndpoint, ExternalGateway};
use consoled_testkit::{AuthdEndpoint, RfbServer, SerialEcho, SpiceEndpoint};
use support::{Flaw, Real, TestDriver};

fn driver(real: Real, flaw: Flaw) -> Arc<TestDriver> {
    Arc::new(TestDriver::new(real, flaw))
}

mod passes_novnc {
    consoled_testkit::driver_conformance! {
        driver: super::TestDriver::new(super::Real::Novnc, super::Flaw::None),
        endpoint: consoled_testkit::RfbServer,
    }
}

mod passes_xvpvnc {
    consoled_testkit::driver_conformance! {
        driver: super::TestDriver::new(super::Real::Xvpvnc, super::Flaw::None),
        endpoint: consoled_testkit::RfbServer,
    }
}

mod passes_serial {
    consoled_testkit::driver_conformance! {
        driver: super::TestDriver::new(super::Real::Serial, super::Flaw::None),
        endpoint: consoled_testkit::SerialEcho,
    }
}

mod passes_spice_html5 {
    consoled_testkit::driver_conformance! {
        driver: super::TestDriver::new(super::Real::SpiceHtml5, super::Flaw::None),
        endpoint: consoled_testkit::SpiceEndpoint,
    }
}

mod passes_webmks {
    consoled_testkit::driver_conformance! {
        driver: super::TestDriver::new(super::Real::Webmks, super::Flaw::None),
        endpoint: consoled_testkit::AuthdEndpoint,
    }
}

mod passes_spice_direct {
    consoled_testkit::driver_conformance! {
        driver: super::TestDriver::new(super::Real::SpiceDirect, super::Flaw::None),
        endpoint: consoled_testkit::conformance::ExternalGateway,
    }
}

/// Runs one check in its own task and returns its panic message.
async fn failure(check: impl Future<Output = ()> + Send + 'static) -> String {
    let run = tokio::spawn(check);
    let err = run.await.expect_err("the check must fail this driver");
    assert!(err.is_panic(), "the check must fail by panicking");
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
    let broken = driver(Real::Novnc, Flaw::TokenOutsidePath);
    let message = failure(async move { checks::access_url(broken) }).await;
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
    let broken = driver(Real::Serial, Flaw::KeepsStaleToken);
    let message = failure(async move { checks::access_url(broken) }).await;
    assert!(message.contains("exactly one `token`"), "{message}");
}

#[tokio::test]
async fn fails_a_driver_that_skips_the_connect_path() {
    let broken = driver(Real::Serial, Flaw::IgnoresConnectPath);
    let message = failure(checks::round_trip_through_a_connect_path::<SerialEcho>(
        broken,
    ))
    .await;
    assert!(message.contains("CONNECT path"), "{message}");
    let broken = driver(Real::Xvpvnc, Flaw::IgnoresConnectPath);
    let message = failure(checks::round_trip_through_a_connect_path::<RfbServer>(
        broken,
    ))
    .await;
    assert!(message.contains("CONNECT path"), "{message}");
}

#[tokio::test]
async fn fails_a_wrong_microversion() {
    let broken = driver(Real::Webmks, Flaw::WrongMicroversion);
    let message = failure(async move { checks::descriptor::<AuthdEndpoint>(broken) }).await;
    assert!(
        message.contains("descriptor") && message.contains("2.8"),
        "{message}"
    );
}

#[tokio::test]
async fn fails_a_wrong_error_mapping() {
    let broken = driver(Real::SpiceHtml5, Flaw::NoEndpointIs500);
    let message = failure(checks::connect_info_without_an_endpoint_is_400(broken)).await;
    assert!(message.contains("expected 400, got 500"), "{message}");
}

#[tokio::test]
async fn fails_a_front_that_does_not_fit_the_endpoint() {
    let direct = driver(Real::SpiceDirect, Flaw::None);
    let message = failure(async move { checks::descriptor::<SpiceEndpoint>(direct) }).await;
    assert!(message.contains("front external"), "{message}");
    let html5 = driver(Real::SpiceHtml5, Flaw::None);
    let message = failure(async move { checks::descriptor::<ExternalGateway>(html5) }).await;
    assert!(message.contains("front websocket"), "{message}");
}

#[tokio::test]
async fn fails_a_driver_that_relays_a_refused_ticket() {
    let broken = driver(Real::Webmks, Flaw::StreamsAnyway);
    let message = failure(checks::backend_refusals::<AuthdEndpoint>(broken)).await;
    assert!(message.contains("wrong ticket"), "{message}");
    assert!(message.contains("backend stream"), "{message}");
}

/// An echo that expects every byte twice: no driver can satisfy it, so
/// the round trip must report what the endpoint said, naming the check.
struct Stutter(SerialEcho);

#[async_trait]
impl ConformanceEndpoint for Stutter {
    async fn start(_connect_path: Option<&str>) -> io::Result<Self> {
        SerialEcho::start().await.map(Stutter)
    }

    fn endpoint(&self) -> Endpoint {
        local_endpoint(self.0.addr().port(), None)
    }

    async fn exchange(&self, _stream: &mut BackendStream) -> Result<(), String> {
        Err("the endpoint heard every byte once, expected twice".into())
    }
}

#[tokio::test]
async fn fails_with_what_the_drivers_own_endpoint_reports() {
    let serial = driver(Real::Serial, Flaw::None);
    let message = failure(checks::round_trip::<Stutter>(serial)).await;
    assert!(message.contains("\"round trip\""), "{message}");
    assert!(message.contains("expected twice"), "{message}");
}
