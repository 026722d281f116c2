//! The test kit's driver conformance suite for serial/serial, against a byte echo.

use std::sync::Arc;

use consoled_driver_serial::SerialDriver;
use consoled_testkit::conformance::{run_driver_conformance, EndpointKind};

#[tokio::test]
async fn serial_conforms() {
    run_driver_conformance(Arc::new(SerialDriver), EndpointKind::SerialEcho).await;
}
