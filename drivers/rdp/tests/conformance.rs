//! The test kit's driver conformance suite for rdp/rdp-html5. There is no
//! RDP fake, and the backend leg is a plain TCP relay, so a byte echo
//! stands in.

consoled_testkit::driver_conformance! {
    driver: consoled_driver_rdp::RdpHtml5Driver,
    endpoint: consoled_testkit::SerialEcho,
}
