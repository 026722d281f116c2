#![doc = include_str!("../README.md")]

use consoled_core::{ConsoleDriver, DriverDescriptor};

/// What the `serial/serial` driver declares.
pub const DESCRIPTOR: DriverDescriptor = DriverDescriptor::new(
    "serial",
    "serial",
    env!("CARGO_PKG_NAME"),
    "ws://127.0.0.1:6083/",
)
// A serial port takes one client: viewers of one server share it.
.with_one_client();

/// Serial consoles over WebSocket: every method is the trait's default
/// (the `serial` endpoint, the token in `token`, a plain TCP backend).
#[derive(Debug, Clone, Copy, Default)]
pub struct SerialDriver;

impl ConsoleDriver for SerialDriver {
    fn descriptor(&self) -> &DriverDescriptor {
        &DESCRIPTOR
    }
}

inventory::submit! {
    consoled_core::DriverRegistration::new(|| std::sync::Arc::new(SerialDriver))
}

// drivers/README.md walks through adding a driver; compiling and running
// its example here keeps it true.
#[cfg(doctest)]
#[doc = include_str!("../../README.md")]
mod drivers_readme {}
