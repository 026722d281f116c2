#![doc = include_str!("../README.md")]

mod direct;
mod endpoint;
mod html5;

use consoled_core::{DriverDescriptor, Front};

pub use direct::SpiceDirectDriver;
pub use html5::SpiceHtml5Driver;

/// What the `spice/spice-html5` driver declares.
pub const HTML5_DESCRIPTOR: DriverDescriptor = DriverDescriptor::new(
    "spice",
    "spice-html5",
    env!("CARGO_PKG_NAME"),
    "http://127.0.0.1:6082/spice_auto.html",
)
.with_label("SPICE");

/// What the `spice/spice-direct` driver declares.
pub const DIRECT_DESCRIPTOR: DriverDescriptor = DriverDescriptor::new(
    "spice",
    "spice-direct",
    env!("CARGO_PKG_NAME"),
    "http://127.0.0.1:13002/nova",
)
.with_label("SPICE")
.with_front(Front::External);

inventory::submit! {
    consoled_core::DriverRegistration::new(|| std::sync::Arc::new(SpiceHtml5Driver))
}

inventory::submit! {
    consoled_core::DriverRegistration::new(|| std::sync::Arc::new(SpiceDirectDriver))
}
