#![doc = include_str!("../README.md")]

use consoled_core::{ConsoleDriver, DriverDescriptor, Front};

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

impl ConsoleDriver for XvpVncDriver {
    fn descriptor(&self) -> &DriverDescriptor {
        &DESCRIPTOR
    }
}

inventory::submit! {
    consoled_core::DriverRegistration::new(|| std::sync::Arc::new(XvpVncDriver))
}
