//! The test kit's driver conformance suite for both SPICE types.

use std::sync::Arc;

use consoled_driver_spice::{SpiceDirectDriver, SpiceHtml5Driver};
use consoled_testkit::conformance::{run_driver_conformance, EndpointKind};

#[tokio::test]
async fn spice_html5_conforms() {
    run_driver_conformance(Arc::new(SpiceHtml5Driver), EndpointKind::Spice).await;
}

#[tokio::test]
async fn spice_direct_conforms() {
    run_driver_conformance(Arc::new(SpiceDirectDriver), EndpointKind::External).await;
}
