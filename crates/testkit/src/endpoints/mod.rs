//! Scripted console endpoints: real TCP listeners on 127.0.0.1 that stand
//! in for a hypervisor's VNC, serial, SPICE and MKS consoles.
//!
//! Each endpoint serves many connections at once, counts the connections it
//! accepted, and stops (closing every session) when dropped.

mod authd;
mod clock;
mod connect_path;
mod font;
mod frames;
mod getty;
mod listener;
mod pixel_format;
mod rfb;
mod serial;
mod serial_login;
mod spice;

pub use authd::{AuthdEndpoint, AuthdOptions};
pub use clock::ClockFrames;
pub use connect_path::expect_connect_path;
pub use frames::{fill, FrameSource, GradientFrames};
pub use rfb::{RfbOptions, RfbServer};
pub use serial::SerialEcho;
pub use serial_login::SerialLogin;
pub use spice::SpiceEndpoint;
