//! The test kit's driver conformance suite for rdp/rdp-html5. There is no
//! RDP fake, and the backend leg is a plain TCP relay, so a byte echo
//! stands in.

use std::sync::Arc;

use consoled_driver_rdp::RdpHtml5Driver;
use consoled_testkit::conformance::{run_driver_conformance, EndpointKind};

#[tokio::test]
async fn rdp_html5_conforms() {
    run_driver_conformance(Arc::new(RdpHtml5Driver), EndpointKind::SerialEcho).await;
}
