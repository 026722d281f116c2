#![doc = include_str!("../README.md")]

mod driver;

use consoled_core::{DriverDescriptor, Front, Microversion};

pub use driver::RdpHtml5Driver;

/// What the `rdp/rdp-html5` driver declares.
pub const DESCRIPTOR: DriverDescriptor = DriverDescriptor {
    protocol: "rdp",
    console_type: "rdp-html5",
    crate_name: env!("CARGO_PKG_NAME"),
    min_version: Microversion::new(2, 6),
    front: Front::WebSocket,
    default_base_url: "http://127.0.0.1:6083/",
};

inventory::submit! {
    consoled_core::DriverRegistration::new(|| std::sync::Arc::new(RdpHtml5Driver))
}
