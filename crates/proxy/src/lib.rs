#![doc = include_str!("../README.md")]

mod config;
mod context;
mod error;
mod health;
mod http_head;
mod listener;
mod origin;
mod relay;
mod response;
mod server;
mod session;
mod shutdown;
mod static_files;
mod tcp_front;
mod tls;
mod token;
mod watchdog;
mod websocket;

pub use config::{ListenerConfig, ProxySettings, TlsFiles};
pub use error::ProxyError;
pub use health::HEALTH_PATH;
pub use http_head::{parse_head, HeadError, RequestHead, MAX_HEAD};
pub use origin::{OriginCheck, OriginError};
pub use server::ProxyServer;
pub use static_files::DEFAULT_WEB_ROOTS;
pub use token::{token_from_cookie, token_from_query, token_from_request};
