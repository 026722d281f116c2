#![doc = include_str!("../README.md")]

mod claims;
mod client_addr;
mod config;
mod connection;
mod context;
mod error;
mod health;
mod lane;
mod listener;
mod live;
mod metrics;
mod origin;
mod pages;
mod prefixed;
mod raw_pump;
pub mod recording;
mod relay;
mod reply;
mod routes;
mod serial_hub;
mod server;
mod session;
mod shutdown;
mod tcp_front;
mod tls;
mod token;
mod watchdog;
mod websocket;
mod ws_frames;
mod ws_relay;

pub use config::{ListenerConfig, ProxySettings, TlsFiles};
pub use error::ProxyError;
pub use health::HEALTH_PATH;
pub use metrics::{ProxyMetrics, PUBLISH_INTERVAL};
pub use origin::{OriginCheck, OriginError};
pub use pages::DEFAULT_WEB_ROOTS;
pub use recording::RecordingSettings;
pub use server::ProxyServer;
pub use token::{token_from_cookie, token_from_query, token_from_request};

/// The WebSocket frame reader, for the fuzz targets in `fuzz/`: not part
/// of the API, and absent without the `fuzzing` feature.
#[cfg(feature = "fuzzing")]
#[doc(hidden)]
pub mod fuzzing {
    pub use crate::ws_frames::{Control, FrameError, FrameReader, Pieces};
}
