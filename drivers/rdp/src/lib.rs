#![doc = include_str!("../README.md")]

use consoled_core::{ConsoleDriver, DriverDescriptor};

/// What the `rdp/rdp-html5` driver declares.
pub const DESCRIPTOR: DriverDescriptor = DriverDescriptor::new(
    "rdp",
    "rdp-html5",
    env!("CARGO_PKG_NAME"),
    "http://127.0.0.1:6083/",
)
.with_label("RDP");

/// RDP for HTML5 gateways: every method is the trait's default (the `rdp`
/// endpoint, the token in `token`, a plain TCP backend).
#[derive(Debug, Clone, Copy, Default)]
pub struct RdpHtml5Driver;

impl ConsoleDriver for RdpHtml5Driver {
    fn descriptor(&self) -> &DriverDescriptor {
        &DESCRIPTOR
    }
}

inventory::submit! {
    consoled_core::DriverRegistration::new(|| std::sync::Arc::new(RdpHtml5Driver))
}
