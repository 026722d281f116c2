#![doc = include_str!("../README.md")]

mod direct;
mod endpoint;
mod html5;

use consoled_core::{DriverDescriptor, Front, Microversion};

pub use direct::SpiceDirectDriver;
pub use html5::SpiceHtml5Driver;

/// What the `spice/spice-html5` driver declares.
pub const HTML5_DESCRIPTOR: DriverDescriptor = DriverDescriptor {
    protocol: "spice",
    console_type: "spice-html5",
    crate_name: env!("CARGO_PKG_NAME"),
    min_version: Microversion::new(2, 6),
    front: Front::WebSocket,
    default_base_url: "http://127.0.0.1:6082/spice_auto.html",
};

/// What the `spice/spice-direct` driver declares.
pub const DIRECT_DESCRIPTOR: DriverDescriptor = DriverDescriptor {
    protocol: "spice",
    console_type: "spice-direct",
    crate_name: env!("CARGO_PKG_NAME"),
    min_version: Microversion::new(2, 99),
    front: Front::External,
    default_base_url: "http://127.0.0.1:13002/nova",
};

inventory::submit! {
    consoled_core::DriverRegistration::new(|| std::sync::Arc::new(SpiceHtml5Driver))
}

inventory::submit! {
    consoled_core::DriverRegistration::new(|| std::sync::Arc::new(SpiceDirectDriver))
}
