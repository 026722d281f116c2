//! The test kit's driver conformance suite for telnet/telnet-ws, against
//! this crate's own fake telnet server.

mod fake_telnet;

consoled_testkit::driver_conformance! {
    driver: consoled_example_driver_telnet::TelnetDriver,
    endpoint: crate::fake_telnet::FakeTelnet,
}
