#![doc = include_str!("../README.md")]

mod driver;

use consoled_core::{DriverDescriptor, Front, Microversion};

pub use driver::SerialDriver;

/// What the `serial/serial` driver declares.
pub const DESCRIPTOR: DriverDescriptor = DriverDescriptor {
    protocol: "serial",
    console_type: "serial",
    crate_name: env!("CARGO_PKG_NAME"),
    min_version: Microversion::new(2, 6),
    front: Front::WebSocket,
    default_base_url: "ws://127.0.0.1:6083/",
};

inventory::submit! {
    consoled_core::DriverRegistration::new(|| std::sync::Arc::new(SerialDriver))
}

// drivers/README.md walks through adding a driver; compiling and running
// its example here keeps it true.
#[cfg(doctest)]
#[doc = include_str!("../../README.md")]
mod drivers_readme {}
