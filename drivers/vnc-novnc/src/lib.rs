#![doc = include_str!("../README.md")]

mod driver;
mod url_path;

use consoled_core::{DriverDescriptor, Front, Microversion};

pub use driver::NoVncDriver;
pub use url_path::with_token_in_path;

/// What the `vnc/novnc` driver declares.
pub const DESCRIPTOR: DriverDescriptor = DriverDescriptor {
    protocol: "vnc",
    console_type: "novnc",
    crate_name: env!("CARGO_PKG_NAME"),
    min_version: Microversion::new(2, 6),
    front: Front::WebSocket,
    default_base_url: "http://127.0.0.1:6080/vnc_auto.html",
};

inventory::submit! {
    consoled_core::DriverRegistration::new(|| std::sync::Arc::new(NoVncDriver))
}
