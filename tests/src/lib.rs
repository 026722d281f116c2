//! Harness for consoled's end-to-end tests: real processes on loopback.
//!
//! - [`qemu`]: a real `qemu-system-x86_64` with VNC and a serial port on
//!   loopback TCP.
//! - [`chromium`]: headless Chromium driven over the DevTools protocol.
//! - [`consoled`]: the `consoled` binary run as its own process.
//!
//! Every process is killed when its handle is dropped, so a failing test
//! leaves nothing behind.

pub mod chromium;
pub mod consoled;
pub mod net;
pub mod qemu;
pub mod ws;
