//! The test kit's driver conformance suite for vnc/novnc, against a scripted VNC server.

consoled_testkit::driver_conformance! {
    driver: consoled_driver_vnc_novnc::NoVncDriver,
    endpoint: consoled_testkit::RfbServer,
}
