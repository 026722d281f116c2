#![doc = include_str!("../README.md")]

use consoled_core::{ConsoleDriver, DriverDescriptor};

/// What the `telnet/telnet-ws` driver declares. The pair is not in the
/// compute API's catalog, so it exists from the first `remote-consoles`
/// microversion; `telnet` is also the key of the server's endpoint.
pub const DESCRIPTOR: DriverDescriptor = DriverDescriptor::new(
    "telnet",
    "telnet-ws",
    env!("CARGO_PKG_NAME"),
    "ws://127.0.0.1:6085/",
)
.with_label("telnet");

/// Telnet consoles over a WebSocket: every method is the trait's default
/// (the `telnet` endpoint, the token in `token`, a plain TCP backend with
/// Nova's `CONNECT` path when the endpoint has one). The browser side
/// speaks telnet itself; the relay only carries bytes.
#[derive(Debug, Clone, Copy, Default)]
pub struct TelnetDriver;

impl ConsoleDriver for TelnetDriver {
    fn descriptor(&self) -> &DriverDescriptor {
        &DESCRIPTOR
    }
}

inventory::submit! {
    consoled_core::DriverRegistration::new(|| std::sync::Arc::new(TelnetDriver))
}
