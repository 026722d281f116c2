//! The test kit's driver conformance suite for serial/serial, against a byte echo.

consoled_testkit::driver_conformance! {
    driver: consoled_driver_serial::SerialDriver,
    endpoint: consoled_testkit::SerialEcho,
}
