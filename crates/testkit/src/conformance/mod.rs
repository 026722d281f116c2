//! The driver conformance suite: one function every driver crate runs in
//! its own tests.
//!
//! ```no_run
//! # use std::sync::Arc;
//! # use consoled_core::ConsoleDriver;
//! # async fn demo(my_driver: Arc<dyn ConsoleDriver>) {
//! use consoled_testkit::conformance::{run_driver_conformance, EndpointKind};
//! run_driver_conformance(my_driver, EndpointKind::Rfb).await;
//! # }
//! ```

mod descriptor;
mod errors;
mod round_trip;
mod subject;
mod urls;

use std::sync::Arc;

use consoled_core::ConsoleDriver;

use subject::Subject;

/// Which scripted endpoint stands in for the driver's backend in the
/// round-trip checks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EndpointKind {
    /// A VNC server ([`RfbServer`](crate::RfbServer)): the RFB handshake
    /// and one frame, directly and through a `CONNECT` path.
    Rfb,
    /// A byte echo ([`SerialEcho`](crate::SerialEcho)): bytes come back,
    /// directly and through a `CONNECT` path.
    SerialEcho,
    /// A SPICE server ([`SpiceEndpoint`](crate::SpiceEndpoint)): the link
    /// reply is OK, then bytes echo.
    Spice,
    /// A VMware authd ([`AuthdEndpoint`](crate::AuthdEndpoint)): the
    /// webmks exchange with either thumbprint form, then echo; a wrong
    /// ticket is refused.
    Authd,
    /// No backend of ours: the type's front is
    /// [`Front::External`](consoled_core::Front::External) and `connect`
    /// must answer 501.
    External,
}

/// Runs every conformance check against `driver`, whose backend is played
/// by an endpoint of `endpoint`'s kind.
///
/// It checks the descriptor (names, the pair and its microversion against
/// [`consoled_core::catalog`], the default base URL, the front), the access
/// URL against odd base URLs (the token exactly once, where the type puts
/// it, every other base parameter kept), error mapping (no endpoint: 400;
/// closed port: 503; external front: 501) and a connect-and-relay round
/// trip through `driver.connect`.
///
/// # Panics
/// On the first failed check, with a message naming the driver, the check
/// and what was expected. Every driver call runs under a generous timeout
/// so that a hanging driver fails instead of hanging the test.
pub async fn run_driver_conformance(driver: Arc<dyn ConsoleDriver>, endpoint: EndpointKind) {
    let subject = Subject::new(driver);
    descriptor::check(&subject, endpoint);
    urls::check(&subject);
    errors::check(&subject, endpoint).await;
    round_trip::check(&subject, endpoint).await;
}
