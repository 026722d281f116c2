//! Client sides of the console protocols, generic over any stream, for
//! tests of drivers and proxies.

mod rfb;

pub use rfb::{rfb_client_handshake, rfb_request_frame, ServerInit};
