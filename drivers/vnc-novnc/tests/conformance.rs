//! The test kit's driver conformance suite for vnc/novnc, against a scripted VNC server.

use std::sync::Arc;

use consoled_driver_vnc_novnc::NoVncDriver;
use consoled_testkit::conformance::{run_driver_conformance, EndpointKind};

#[tokio::test]
async fn novnc_conforms() {
    run_driver_conformance(Arc::new(NoVncDriver), EndpointKind::Rfb).await;
}
