//! Harness for consoled's end-to-end tests: real processes on loopback.
//!
//! - [`qemu`]: a real `qemu-system-x86_64` with VNC and a serial port on
//!   loopback TCP.
//! - [`chromium`]: headless Chromium driven over the DevTools protocol;
//!   [`novnc_page`] asks a noVNC page what it shows.
//! - [`consoled`]: the `consoled` binary run as its own process;
//!   [`stack`] runs `consoled serve` in front of QEMU, [`demo`] runs
//!   `consoled demo` and reads its welcome.
//! - [`console_urls`], [`vnc`], [`ws`]: console URLs taken apart and
//!   opened as their clients open them.
//! - [`tools`]: a missing tool fails the test, naming its package.
//!
//! Every process is killed when its handle is dropped, so a failing test
//! leaves nothing behind.

pub mod chromium;
pub mod console_urls;
pub mod consoled;
pub mod demo;
pub mod net;
pub mod novnc_page;
pub mod qemu;
pub mod stack;
pub mod tools;
pub mod vnc;
pub mod ws;
pub mod ws_text;
