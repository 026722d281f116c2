//! One function per check of the suite: what each test that
//! [`driver_conformance!`](crate::driver_conformance) expands to calls.
//!
//! They are public so that a test can run one check on its own (the test
//! kit's own tests run them against deliberately flawed drivers). Each
//! panics with a message naming the driver and the check, never the token;
//! a check that does not apply to the endpoint (a `CONNECT` path for an
//! endpoint without one, a backend for an external gateway) returns
//! without calling the driver.

use std::sync::Arc;

use consoled_core::ConsoleDriver;

use super::endpoint::ConformanceEndpoint;
use super::round_trip::CONNECT_PATH;
use super::subject::Subject;
use super::{descriptor as descriptor_check, errors, round_trip as trips, urls};

/// The descriptor: non-empty names; the pair and its microversion agree
/// with [`consoled_core::catalog`]; the default base URL parses and has a
/// host; the front is external exactly when `E` is.
///
/// # Panics
/// When any of those fails.
pub fn descriptor<E: ConformanceEndpoint>(driver: Arc<dyn ConsoleDriver>) {
    descriptor_check::check::<E>(&Subject::new(driver));
}

/// The access URL against odd base URLs: the token appears once, where the
/// type puts it (inside noVNC's `path` for novnc, in `token` otherwise),
/// and every other part of the base is kept.
///
/// # Panics
/// When a base is refused or any of those fails.
pub fn access_url(driver: Arc<dyn ConsoleDriver>) {
    urls::check(&Subject::new(driver));
}

/// A server without an endpoint for the driver's protocol is a 400.
///
/// # Panics
/// On any other answer.
pub async fn connect_info_without_an_endpoint_is_400(driver: Arc<dyn ConsoleDriver>) {
    errors::no_endpoint_is_400(&Subject::new(driver)).await;
}

/// Connecting to [`E::unreachable`](ConformanceEndpoint::unreachable) on a
/// closed port is a 503 (for a backend of ours).
///
/// # Panics
/// On any other answer.
pub async fn connect_to_a_closed_port_is_503<E: ConformanceEndpoint>(
    driver: Arc<dyn ConsoleDriver>,
) {
    if !E::EXTERNAL {
        errors::closed_port_is_503::<E>(&Subject::new(driver)).await;
    }
}

/// Connecting a console of an external gateway is a 501 (for an
/// [`EXTERNAL`](ConformanceEndpoint::EXTERNAL) endpoint).
///
/// # Panics
/// On any other answer.
pub async fn connect_with_an_external_front_is_501<E: ConformanceEndpoint>(
    driver: Arc<dyn ConsoleDriver>,
) {
    if E::EXTERNAL {
        errors::external_connect_is_501::<E>(&Subject::new(driver)).await;
    }
}

/// A fresh `E` is minted for, connected to and completes its exchange
/// through the driver's backend stream, with every form of its endpoint
/// data; then `E` agrees with what it saw.
///
/// # Panics
/// When the endpoint cannot start, minting or connecting fails, or the
/// exchange or the endpoint's verdict does.
pub async fn round_trip<E: ConformanceEndpoint>(driver: Arc<dyn ConsoleDriver>) {
    if !E::EXTERNAL {
        trips::round_trip::<E>(&Subject::new(driver), "round trip", None).await;
    }
}

/// As [`round_trip`], with `E` behind Nova's `CONNECT <path>` handshake
/// (for endpoints with [`CONNECT_PATH`](ConformanceEndpoint::CONNECT_PATH)).
///
/// # Panics
/// As [`round_trip`]; a driver that skips the handshake fails here.
pub async fn round_trip_through_a_connect_path<E: ConformanceEndpoint>(
    driver: Arc<dyn ConsoleDriver>,
) {
    if E::CONNECT_PATH && !E::EXTERNAL {
        let subject = Subject::new(driver);
        let check = "round trip through a CONNECT path";
        trips::round_trip::<E>(&subject, check, Some(CONNECT_PATH)).await;
    }
}

/// Every [`Refusal`](super::Refusal) of a fresh `E` fails the way it says.
///
/// # Panics
/// When a driver gets a stream, the wrong status, or leaks the secret.
pub async fn backend_refusals<E: ConformanceEndpoint>(driver: Arc<dyn ConsoleDriver>) {
    if !E::EXTERNAL {
        trips::refusals::<E>(&Subject::new(driver)).await;
    }
}
