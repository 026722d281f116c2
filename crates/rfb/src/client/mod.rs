//! The RFB client: the handshake, a decoder of server messages onto a
//! framebuffer, and the screenshot built on both.

mod coverage;
mod decoder;
mod encoding;
mod error;
mod framebuffer;
mod handshake;
mod inflate;
mod pixel_format;
mod read;
mod screenshot;
mod zrle;

pub use decoder::{Decoder, ServerMessage};
pub use encoding::{Encoding, DESKTOP_SIZE};
pub use error::ClientError;
pub use framebuffer::{Framebuffer, MAX_DIMENSION};
pub use handshake::{handshake, replay_handshake, ServerInit};
pub use pixel_format::PixelFormat;
pub use screenshot::{
    capture, Screenshot, ScreenshotOptions, DEFAULT_MAX_REQUESTS, DEFAULT_TIMEOUT,
};
