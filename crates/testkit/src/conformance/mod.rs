//! The driver conformance suite: one macro every driver crate invokes in
//! its own tests, expanding to one named test per check.
//!
//! ```
//! // tests/conformance.rs of a driver crate (tokio is a dev-dependency):
//! consoled_testkit::driver_conformance! {
//!     driver: consoled_driver_serial::SerialDriver,
//!     endpoint: consoled_testkit::SerialEcho,
//! }
//! # fn main() {}
//! ```
//!
//! `endpoint` names the fake backend: a type implementing
//! [`ConformanceEndpoint`], one of the test kit's or the driver crate's
//! own. The checks are the functions of [`checks`].

pub mod checks;
mod descriptor;
mod endpoint;
mod errors;
mod kit_endpoints;
mod round_trip;
mod subject;
mod urls;

pub use endpoint::{echo_exchange, local_endpoint, ConformanceEndpoint, Refusal, Refused};
pub use kit_endpoints::ExternalGateway;

/// Expands to the driver conformance suite: one test per function of
/// [`conformance::checks`](crate::conformance::checks), each named after
/// its check, so that a failure names the check and the others still run.
///
/// `driver` is an expression building the driver (evaluated once per
/// test); `endpoint` is the [`ConformanceEndpoint`] type that plays its
/// backend. Invoke it once per module (put two drivers of one crate in two
/// modules); the crate needs `tokio` (with `macros` and `rt`) as a
/// dev-dependency for `#[tokio::test]`.
///
/// ```
/// mod spice_html5 {
///     consoled_testkit::driver_conformance! {
///         driver: consoled_driver_spice::SpiceHtml5Driver,
///         endpoint: consoled_testkit::SpiceEndpoint,
///     }
/// }
/// mod spice_direct {
///     consoled_testkit::driver_conformance! {
///         driver: consoled_driver_spice::SpiceDirectDriver,
///         endpoint: consoled_testkit::conformance::ExternalGateway,
///     }
/// }
/// # fn main() {}
/// ```
#[macro_export]
macro_rules! driver_conformance {
    (driver: $driver:expr, endpoint: $endpoint:ty $(,)?) => {
        #[test]
        fn descriptor() {
            $crate::conformance::checks::descriptor::<$endpoint>(::std::sync::Arc::new($driver));
        }

        #[test]
        fn access_url() {
            $crate::conformance::checks::access_url(::std::sync::Arc::new($driver));
        }

        #[tokio::test]
        async fn connect_info_without_an_endpoint_is_400() {
            $crate::conformance::checks::connect_info_without_an_endpoint_is_400(
                ::std::sync::Arc::new($driver),
            )
            .await;
        }

        #[tokio::test]
        async fn connect_to_a_closed_port_is_503() {
            $crate::conformance::checks::connect_to_a_closed_port_is_503::<$endpoint>(
                ::std::sync::Arc::new($driver),
            )
            .await;
        }

        #[tokio::test]
        async fn connect_with_an_external_front_is_501() {
            $crate::conformance::checks::connect_with_an_external_front_is_501::<$endpoint>(
                ::std::sync::Arc::new($driver),
            )
            .await;
        }

        #[tokio::test]
        async fn round_trip() {
            $crate::conformance::checks::round_trip::<$endpoint>(::std::sync::Arc::new($driver))
                .await;
        }

        #[tokio::test]
        async fn round_trip_through_a_connect_path() {
            $crate::conformance::checks::round_trip_through_a_connect_path::<$endpoint>(
                ::std::sync::Arc::new($driver),
            )
            .await;
        }

        #[tokio::test]
        async fn backend_refusals() {
            $crate::conformance::checks::backend_refusals::<$endpoint>(::std::sync::Arc::new(
                $driver,
            ))
            .await;
        }
    };
}
