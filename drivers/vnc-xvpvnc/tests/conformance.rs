//! The test kit's driver conformance suite for vnc/xvpvnc, against a scripted VNC server.

use std::sync::Arc;

use consoled_driver_vnc_xvpvnc::XvpVncDriver;
use consoled_testkit::conformance::{run_driver_conformance, EndpointKind};

#[tokio::test]
async fn xvpvnc_conforms() {
    run_driver_conformance(Arc::new(XvpVncDriver), EndpointKind::Rfb).await;
}
