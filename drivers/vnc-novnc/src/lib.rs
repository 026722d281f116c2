#![doc = include_str!("../README.md")]

mod driver;
mod url_path;

use consoled_core::DriverDescriptor;

pub use driver::NoVncDriver;
pub use url_path::with_token_in_path;

/// What the `vnc/novnc` driver declares.
pub const DESCRIPTOR: DriverDescriptor = DriverDescriptor::new(
    "vnc",
    "novnc",
    env!("CARGO_PKG_NAME"),
    "http://127.0.0.1:6080/vnc_auto.html",
)
.with_label("VNC");

inventory::submit! {
    consoled_core::DriverRegistration::new(|| std::sync::Arc::new(NoVncDriver))
}
