//! The test kit's driver conformance suite for mks/webmks, against a TLS authd.

consoled_testkit::driver_conformance! {
    driver: consoled_driver_mks::WebMksDriver::default(),
    endpoint: consoled_testkit::AuthdEndpoint,
}
