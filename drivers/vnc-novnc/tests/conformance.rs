//! The test kit's driver conformance suite for vnc/novnc, against a scripted VNC server.

consoled_testkit::driver_conformance! {
    driver: consoled_driver_vnc_novnc::NoVncDriver,
    endpoint: consoled_testkit::RfbServer,
}

/// The same suite for the driver wrapped in the RFB security proxy with
/// the default `[vnc]` (no proxying): the wrapper mints and connects as
/// the driver does.
mod with_default_security {
    consoled_testkit::driver_conformance! {
        driver: consoled_driver_vnc_novnc::NoVncDriver::with_security(consoled_rfb::VncSecurity::default()),
        endpoint: consoled_testkit::RfbServer,
    }
}
