#![doc = include_str!("../README.md")]

mod access;
mod authd;
mod driver;
mod lines;
mod pin;

use consoled_core::DriverDescriptor;

pub use driver::WebMksDriver;

/// What the `mks/webmks` driver declares.
pub const DESCRIPTOR: DriverDescriptor = DriverDescriptor::new(
    "mks",
    "webmks",
    env!("CARGO_PKG_NAME"),
    "http://127.0.0.1:6090/",
)
.with_label("MKS");

/// The authd line reader, for the fuzz targets in `fuzz/`: not part of the
/// API, and absent without the `fuzzing` feature.
#[cfg(feature = "fuzzing")]
#[doc(hidden)]
pub mod fuzzing {
    pub use crate::lines::{expect_status, read_line, MAX_LINE};
}

inventory::submit! {
    consoled_core::DriverRegistration::new(|| std::sync::Arc::new(WebMksDriver::default()))
}
