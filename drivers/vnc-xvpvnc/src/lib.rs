#![doc = include_str!("../README.md")]

use consoled_core::{ConsoleDriver, DriverDescriptor, Front};
use consoled_rfb::{SecurityProxy, VncSecurity};

/// What the `vnc/xvpvnc` driver declares.
pub const DESCRIPTOR: DriverDescriptor = DriverDescriptor::new(
    "vnc",
    "xvpvnc",
    env!("CARGO_PKG_NAME"),
    "http://127.0.0.1:6081/console",
)
.with_label("VNC")
.with_front(Front::RawTcp);

/// VNC over raw TCP: every method is the trait's default (the `vnc`
/// endpoint, the token in `token`, a plain TCP backend).
#[derive(Debug, Clone, Copy, Default)]
pub struct XvpVncDriver;

impl XvpVncDriver {
    /// xvpvnc with `security` between the proxy and the VNC server: with
    /// `vencrypt` in its `auth_schemes`, Nova's RFB security proxy (the
    /// client is offered security None). Install it with
    /// [`Registry::replace`](consoled_core::Registry::replace).
    pub fn with_security(security: VncSecurity) -> SecurityProxy<XvpVncDriver> {
        SecurityProxy::new(XvpVncDriver, security)
    }
}

impl ConsoleDriver for XvpVncDriver {
    fn descriptor(&self) -> &DriverDescriptor {
        &DESCRIPTOR
    }
}

inventory::submit! {
    consoled_core::DriverRegistration::new(|| std::sync::Arc::new(XvpVncDriver))
}
