#![doc = include_str!("../README.md")]

mod access_url;
pub mod backend;
pub mod catalog;
mod clock;
pub mod config;
mod dispatcher;
mod driver;
mod error;
mod guard;
pub mod http_head;
mod identity;
mod microversion;
mod record;
mod registry;
mod revocation;
mod server;
pub mod sessions;
mod settings;
pub mod store;
mod token;

pub use access_url::{with_query_param, with_token_query};
pub use clock::{Clock, SystemClock};
pub use config::SettingError;
pub use dispatcher::{Console, ConsoleBackend, Dispatcher};
pub use driver::{
    BackendIo, BackendStream, ConsoleDriver, DriverDescriptor, DriverRegistration, Front,
};
pub use error::ConsoleError;
pub use guard::guarded;
pub use identity::Identity;
pub use microversion::{Microversion, MicroversionError};
pub use record::{unix_seconds, ConnectInfo, MintedBy, TokenRecord};
pub use registry::{Registry, RegistryBuilder, RegistryError};
pub use revocation::{Ended, Listening, RevocationWatch, Revoker};
pub use server::{BackendError, Endpoint, Server, ServerBackend};
pub use settings::{DispatchSettings, SessionMode, TokenSettings, TypeSettings};
pub use store::{MemoryTokenStore, StoreError, StoreLimits, TokenStore};
pub use token::{OsTokenSource, Token, TokenHash, TokenSource};

/// Re-exported for driver crates' `#[async_trait]` impls.
pub use async_trait::async_trait;
/// Re-exported so that driver crates register with the same `inventory`
/// the core collects from.
pub use inventory;
/// Re-exported so that an embedder registers the metrics of every consoled
/// crate into a registry of the same `prometheus-client`.
pub use prometheus_client;
/// Re-exported: access URLs are `url::Url`s.
pub use url::Url;
