#![doc = include_str!("../README.md")]

mod driver;

use consoled_core::{DriverDescriptor, Front, Microversion};

pub use driver::XvpVncDriver;

/// What the `vnc/xvpvnc` driver declares.
pub const DESCRIPTOR: DriverDescriptor = DriverDescriptor {
    protocol: "vnc",
    console_type: "xvpvnc",
    crate_name: env!("CARGO_PKG_NAME"),
    min_version: Microversion::new(2, 6),
    front: Front::RawTcp,
    default_base_url: "http://127.0.0.1:6081/console",
};

inventory::submit! {
    consoled_core::DriverRegistration::new(|| std::sync::Arc::new(XvpVncDriver))
}
