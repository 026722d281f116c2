//! The test kit's driver conformance suite for vnc/xvpvnc, against a scripted VNC server.

consoled_testkit::driver_conformance! {
    driver: consoled_driver_vnc_xvpvnc::XvpVncDriver,
    endpoint: consoled_testkit::RfbServer,
}
