//! Scripted console endpoints: real TCP listeners on 127.0.0.1 that stand
//! in for a hypervisor's VNC, serial, SPICE and MKS consoles.
//!
//! Each endpoint serves many connections at once, counts the connections it
//! accepted, and stops (closing every session) when dropped.

mod authd;
mod connect_path;
mod frames;
mod listener;
mod pixel_format;
mod rfb;
mod serial;
mod spice;

pub use authd::{AuthdEndpoint, AuthdOptions};
pub use frames::{fill, FrameSource, GradientFrames};
pub use rfb::{RfbOptions, RfbServer};
pub use serial::SerialEcho;
pub use spice::SpiceEndpoint;
