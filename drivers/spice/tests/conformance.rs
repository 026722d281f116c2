//! The test kit's driver conformance suite for both SPICE types: html5
//! against a SPICE server, direct against no backend of ours.

mod spice_html5 {
    consoled_testkit::driver_conformance! {
        driver: consoled_driver_spice::SpiceHtml5Driver,
        endpoint: consoled_testkit::SpiceEndpoint,
    }
}

mod spice_direct {
    consoled_testkit::driver_conformance! {
        driver: consoled_driver_spice::SpiceDirectDriver,
        endpoint: consoled_testkit::conformance::ExternalGateway,
    }
}
