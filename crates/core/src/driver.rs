//! The unit of protocol knowledge: a console driver.

use std::fmt;
use std::sync::Arc;

use async_trait::async_trait;
use tokio::io::{AsyncRead, AsyncWrite};
use url::Url;

use crate::error::ConsoleError;
use crate::microversion::Microversion;
use crate::record::{ConnectInfo, TokenRecord};
use crate::server::Server;
use crate::token::Token;

/// What a proxy offers clients of a console type.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Front {
    /// A WebSocket upgrade (noVNC, spice-html5, serial, rdp-html5, webmks).
    WebSocket,
    /// Raw TCP after an HTTP request line carrying the token (xvpvnc).
    RawTcp,
    /// No front of ours: an external gateway consumes the token through
    /// the console auth token API (spice-direct).
    External,
}

impl fmt::Display for Front {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Front::WebSocket => "websocket",
            Front::RawTcp => "tcp",
            Front::External => "external",
        })
    }
}

/// What a driver declares about itself.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DriverDescriptor {
    /// The console protocol (`vnc`, `spice`, ...), as on the wire.
    pub protocol: &'static str,
    /// The console type (`novnc`, `spice-html5`, ...), as on the wire. Also
    /// the name of its configuration section, `[consoles.<type>]`.
    pub console_type: &'static str,
    /// The crate that provides the driver (`env!("CARGO_PKG_NAME")`), named
    /// in listings and in duplicate-registration errors.
    pub crate_name: &'static str,
    /// The first compute API microversion that knows this type.
    pub min_version: Microversion,
    /// What a proxy offers clients of this type.
    pub front: Front,
    /// Nova's default base URL for this type's access URLs.
    pub default_base_url: &'static str,
}

/// A byte stream to a console backend, ready to relay.
pub trait BackendIo: AsyncRead + AsyncWrite + Send + Unpin + 'static {}

impl<T: AsyncRead + AsyncWrite + Send + Unpin + 'static> BackendIo for T {}

/// An open backend stream. Boxed because each protocol has its own stack
/// (plain TCP, TLS inside TLS for webmks, ...); the cost is one virtual call
/// per read or write, nothing next to a network round trip.
pub type BackendStream = Box<dyn BackendIo>;

/// A console protocol: minting the access URL and connecting to the
/// backend.
///
/// Drivers are built once at start-up and shared between tasks.
#[async_trait]
pub trait ConsoleDriver: Send + Sync + 'static {
    /// What the driver declares about itself.
    fn descriptor(&self) -> &DriverDescriptor;

    /// Minting, first half: the connect info for `server`'s console of this
    /// driver's protocol.
    ///
    /// # Errors
    /// [`ConsoleError::BadRequest`] when the server has no such console
    /// configured, or its endpoint data is unusable for this type.
    async fn connect_info(&self, server: &Server) -> Result<ConnectInfo, ConsoleError>;

    /// Minting, second half: the URL that carries `token`, built on `base`.
    ///
    /// # Errors
    /// [`ConsoleError::Internal`] when `base` cannot carry a token.
    fn access_url(&self, base: &Url, token: &Token) -> Result<Url, ConsoleError>;

    /// Connecting: opens the backend stream a proxy relays to, for a record
    /// that the store has already validated. No client byte has flowed yet.
    ///
    /// # Errors
    /// [`ConsoleError::ServiceUnavailable`] when the backend cannot be
    /// reached or refuses the handshake; [`ConsoleError::NotImplemented`]
    /// for a type with no front of ours.
    async fn connect(&self, record: &TokenRecord) -> Result<BackendStream, ConsoleError>;
}

/// A driver's link-time registration: submit one with
/// `inventory::submit!` from the driver crate.
///
/// ```ignore
/// inventory::submit! {
///     consoled_core::DriverRegistration::new(|| std::sync::Arc::new(MyDriver::default()))
/// }
/// ```
pub struct DriverRegistration {
    build: fn() -> Arc<dyn ConsoleDriver>,
}

impl DriverRegistration {
    /// A registration that builds the driver with `build` at start-up.
    pub const fn new(build: fn() -> Arc<dyn ConsoleDriver>) -> Self {
        DriverRegistration { build }
    }

    /// Builds the driver.
    pub fn build(&self) -> Arc<dyn ConsoleDriver> {
        (self.build)()
    }
}

inventory::collect!(DriverRegistration);
