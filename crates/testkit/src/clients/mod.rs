//! Client sides of the console protocols, generic over any stream, for
//! tests of drivers and proxies.

mod rfb;
mod spice;
mod ws_io;

pub use rfb::{rfb_client_handshake, rfb_request_frame, ServerInit};
pub use spice::{spice_link_message, spice_read_link_reply};
pub use ws_io::WsIo;
