#![doc = include_str!("../README.md")]

mod client;
mod handshake;
mod pem;
mod presented_none;
mod security;
mod security_proxy;
mod settings;
mod vencrypt;
mod wire;

pub use client::{
    capture, handshake as client_handshake, replay_handshake, ClientError, Decoder, Encoding,
    Framebuffer, PixelFormat, Screenshot, ScreenshotOptions, ServerInit, ServerMessage,
    DEFAULT_MAX_REQUESTS, DEFAULT_TIMEOUT, DESKTOP_SIZE, MAX_DIMENSION,
};
pub use handshake::RFB_3_8;
pub use presented_none::PresentedNone;
pub use security::VncSecurity;
pub use security_proxy::SecurityProxy;
pub use settings::{AuthScheme, VncSettings};
pub use vencrypt::X509_NONE;
