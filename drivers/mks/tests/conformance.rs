//! The test kit's driver conformance suite for mks/webmks, against a TLS authd.

use std::sync::Arc;

use consoled_driver_mks::WebMksDriver;
use consoled_testkit::conformance::{run_driver_conformance, EndpointKind};

#[tokio::test]
async fn webmks_conforms() {
    run_driver_conformance(Arc::new(WebMksDriver::default()), EndpointKind::Authd).await;
}
