//! The unit of protocol knowledge: a console driver.

use std::fmt;
use std::sync::Arc;

use async_trait::async_trait;
use tokio::io::{AsyncRead, AsyncWrite};
use url::Url;

use crate::access_url::with_token_query;
use crate::backend::open_backend;
use crate::catalog;
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
///
/// Built with [`DriverDescriptor::new`] in a `const`, so that what the wire
/// contract already fixes (the pair's first microversion) is not restated
/// by every driver:
///
/// ```
/// use consoled_core::{DriverDescriptor, Front, Microversion};
///
/// const XVPVNC: DriverDescriptor =
///     DriverDescriptor::new("vnc", "xvpvnc", "my-crate", "http://127.0.0.1:6081/console")
///         .with_label("VNC")
///         .with_front(Front::RawTcp);
/// assert_eq!(XVPVNC.min_version, Microversion::new(2, 6));
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub struct DriverDescriptor {
    /// The console protocol (`vnc`, `spice`, ...), as on the wire. Also the
    /// key of the server's endpoint that the default
    /// [`ConsoleDriver::connect_info`] reads.
    pub protocol: &'static str,
    /// The console type (`novnc`, `spice-html5`, ...), as on the wire. Also
    /// the name of its configuration section, `[consoles.<type>]`.
    pub console_type: &'static str,
    /// The crate that provides the driver (`env!("CARGO_PKG_NAME")`), named
    /// in listings and in duplicate-registration errors.
    pub crate_name: &'static str,
    /// The first compute API microversion that knows this type: the
    /// [`catalog`]'s for a pair of the wire contract.
    pub min_version: Microversion,
    /// What a proxy offers clients of this type.
    pub front: Front,
    /// Nova's default base URL for this type's access URLs.
    pub default_base_url: &'static str,
    /// How messages name the console (`VNC` in "Instance .. has no VNC
    /// console configured."); the protocol unless set.
    pub label: &'static str,
    /// Whether the backend serves one client at a time (a serial port):
    /// sessions of one server that share the console then share one
    /// backend connection, fanned out by the proxy.
    pub one_client: bool,
}

impl DriverDescriptor {
    /// The descriptor of (`protocol`, `console_type`), provided by
    /// `crate_name`, whose access URLs default to `default_base_url`.
    ///
    /// It offers a [`Front::WebSocket`], names the console by its protocol
    /// in messages, and exists from the microversion the [`catalog`] gives
    /// the pair; a pair beyond the wire contract exists wherever
    /// `remote-consoles` does
    /// ([`REMOTE_CONSOLES_MIN_VERSION`](catalog::REMOTE_CONSOLES_MIN_VERSION))
    /// unless [`with_min_version`](Self::with_min_version) says otherwise.
    pub const fn new(
        protocol: &'static str,
        console_type: &'static str,
        crate_name: &'static str,
        default_base_url: &'static str,
    ) -> Self {
        let min_version = match catalog::min_version(protocol, console_type) {
            Some(version) => version,
            None => catalog::REMOTE_CONSOLES_MIN_VERSION,
        };
        DriverDescriptor {
            protocol,
            console_type,
            crate_name,
            min_version,
            front: Front::WebSocket,
            default_base_url,
            label: protocol,
            one_client: false,
        }
    }

    /// The same descriptor, for a backend that serves one client at a
    /// time (see [`one_client`](Self::one_client)).
    pub const fn with_one_client(mut self) -> Self {
        self.one_client = true;
        self
    }

    /// The same descriptor, naming the console `label` in messages.
    pub const fn with_label(mut self, label: &'static str) -> Self {
        self.label = label;
        self
    }

    /// The same descriptor with another front.
    pub const fn with_front(mut self, front: Front) -> Self {
        self.front = front;
        self
    }

    /// The same descriptor, first known at `version`: for a pair beyond
    /// the wire contract only.
    ///
    /// # Panics
    /// When the [`catalog`] knows the pair: its microversion is the wire
    /// contract's, not the driver's to choose. In a `const`, that is a
    /// compile error.
    pub const fn with_min_version(mut self, version: Microversion) -> Self {
        assert!(
            catalog::min_version(self.protocol, self.console_type).is_none(),
            "the compute API's catalog fixes this pair's microversion"
        );
        self.min_version = version;
        self
    }
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
/// Only [`descriptor`](Self::descriptor) is required. The provided methods
/// do what most protocols do: connect info copied from the server's
/// endpoint for the descriptor's protocol, the token in a `token` query
/// parameter, and a plain TCP backend stream (after Nova's
/// `CONNECT <path>` handshake when the record has an internal access path).
/// A driver overrides what its protocol does differently; an override of
/// an `async` method needs `#[async_trait]` on the impl.
///
/// Drivers are built once at start-up and shared between tasks.
///
/// # Example
///
/// A driver whose clients find the token in a `ticket` parameter and whose
/// backend is the endpoint's TLS port; connecting stays the default.
///
/// ```
/// use consoled_core::{
///     async_trait, with_query_param, ConnectInfo, ConsoleDriver, ConsoleError,
///     DriverDescriptor, Server, Token, Url,
/// };
///
/// struct TicketDriver;
///
/// const DESCRIPTOR: DriverDescriptor =
///     DriverDescriptor::new("acme", "acme-ws", "acme-driver", "https://127.0.0.1:6099/")
///         .with_label("ACME");
///
/// #[async_trait]
/// impl ConsoleDriver for TicketDriver {
///     fn descriptor(&self) -> &DriverDescriptor {
///         &DESCRIPTOR
///     }
///
///     async fn connect_info(&self, server: &Server) -> Result<ConnectInfo, ConsoleError> {
///         let mut info = server.connect_info("acme", "ACME")?;
///         info.port = info.tls_port.ok_or_else(|| {
///             ConsoleError::BadRequest(format!("Instance {} has no ACME TLS port.", server.id))
///         })?;
///         Ok(info)
///     }
///
///     fn access_url(&self, base: &Url, token: &Token) -> Result<Url, ConsoleError> {
///         Ok(with_query_param(base, "ticket", token.expose()))
///     }
/// }
/// ```
#[async_trait]
pub trait ConsoleDriver: Send + Sync + 'static {
    /// What the driver declares about itself.
    fn descriptor(&self) -> &DriverDescriptor;

    /// Minting, first half: the connect info for `server`'s console of this
    /// driver's protocol. By default the endpoint's host, port, TLS port and
    /// internal access path ([`Server::connect_info`]).
    ///
    /// # Errors
    /// [`ConsoleError::BadRequest`] when the server has no such console
    /// configured, or its endpoint data is unusable for this type.
    async fn connect_info(&self, server: &Server) -> Result<ConnectInfo, ConsoleError> {
        let descriptor = self.descriptor();
        server.connect_info(descriptor.protocol, descriptor.label)
    }

    /// Minting, second half: the URL that carries `token`, built on `base`.
    /// By default `<base>?token=<token>` ([`with_token_query`]).
    ///
    /// # Errors
    /// [`ConsoleError::Internal`] when `base` cannot carry a token.
    fn access_url(&self, base: &Url, token: &Token) -> Result<Url, ConsoleError> {
        Ok(with_token_query(base, token))
    }

    /// Connecting: opens the backend stream a proxy relays to, for a record
    /// that the store has already validated. No client byte has flowed yet.
    ///
    /// By default the record's UNIX socket, or plain TCP to its host and
    /// port, with Nova's `CONNECT <path>` handshake first when it has an
    /// internal access path ([`open_backend`]); for a [`Front::External`]
    /// type, a 501.
    ///
    /// # Errors
    /// [`ConsoleError::ServiceUnavailable`] when the backend cannot be
    /// reached or refuses the handshake; [`ConsoleError::NotImplemented`]
    /// for a type with no front of ours.
    async fn connect(&self, record: &TokenRecord) -> Result<BackendStream, ConsoleError> {
        let descriptor = self.descriptor();
        if descriptor.front == Front::External {
            return Err(ConsoleError::NotImplemented(format!(
                "{}/{} consoles are served by an external gateway, which resolves the token \
                 through os-console-auth-tokens; consoled has no front for them.",
                descriptor.protocol, descriptor.console_type
            )));
        }
        open_backend(&record.connect).await
    }
}

/// A driver's link-time registration: submit one with
/// `inventory::submit!` from the driver crate.
///
/// ```
/// use consoled_core::{inventory, ConsoleDriver, DriverDescriptor, DriverRegistration};
///
/// #[derive(Default)]
/// struct MyDriver;
///
/// impl ConsoleDriver for MyDriver {
///     fn descriptor(&self) -> &DriverDescriptor {
///         const D: DriverDescriptor =
///             DriverDescriptor::new("my", "my-ws", "my-driver", "ws://127.0.0.1:6099/");
///         &D
///     }
/// }
///
/// inventory::submit! {
///     DriverRegistration::new(|| std::sync::Arc::new(MyDriver))
/// }
///
/// # fn main() {
/// // A binary that links the crate finds it:
/// let registry = consoled_core::Registry::from_inventory().unwrap();
/// assert!(registry.get("my", "my-ws").is_some());
/// # }
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

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use super::*;
    use crate::server::Endpoint;

    /// A driver that declares itself and changes nothing.
    struct Declared(DriverDescriptor);

    impl ConsoleDriver for Declared {
        fn descriptor(&self) -> &DriverDescriptor {
            &self.0
        }
    }

    const TELNET: DriverDescriptor =
        DriverDescriptor::new("telnet", "telnet-ws", "t", "ws://127.0.0.1:6085/");

    #[test]
    fn new_takes_the_microversion_from_the_catalog() {
        const DIRECT: DriverDescriptor =
            DriverDescriptor::new("spice", "spice-direct", "t", "http://h/");
        assert_eq!(DIRECT.min_version, Microversion::new(2, 99));
        assert_eq!((DIRECT.front, DIRECT.label), (Front::WebSocket, "spice"));
        assert_eq!(TELNET.min_version, catalog::REMOTE_CONSOLES_MIN_VERSION);
        const LATER: DriverDescriptor = TELNET.with_min_version(Microversion::new(2, 50));
        assert_eq!(LATER.min_version, Microversion::new(2, 50));
    }

    #[test]
    #[should_panic(expected = "catalog fixes this pair's microversion")]
    fn a_catalog_pair_keeps_the_catalog_microversion() {
        let _ = DriverDescriptor::new("vnc", "novnc", "t", "http://h/")
            .with_min_version(Microversion::new(2, 1));
    }

    #[tokio::test]
    async fn defaults_mint_from_the_protocol_endpoint_and_label() {
        let driver = Declared(TELNET.with_label("Telnet"));
        let mut server = Server {
            id: "s1".into(),
            name: "router".into(),
            project_id: "p".into(),
            status: "ACTIVE".into(),
            task_state: None,
            host: Some("c1".into()),
            consoles: BTreeMap::new(),
        };
        let err = driver.connect_info(&server).await.unwrap_err();
        assert_eq!(
            err,
            ConsoleError::BadRequest("Instance s1 has no Telnet console configured.".into())
        );
        let endpoint = Endpoint {
            host: "10.0.0.9".into(),
            port: 23,
            tls_port: None,
            internal_access_path: Some("/t".into()),
            unix_socket: None,
        };
        server.consoles.insert("telnet".into(), endpoint);
        let info = driver.connect_info(&server).await.unwrap();
        assert_eq!((info.host.as_str(), info.port), ("10.0.0.9", 23));
        assert_eq!(info.internal_access_path.as_deref(), Some("/t"));
        let url = driver
            .access_url(&Url::parse("ws://h:6085/?a=1").unwrap(), &Token::new("t-1"))
            .unwrap();
        assert_eq!(url.as_str(), "ws://h:6085/?a=1&token=t-1");
    }

    #[tokio::test]
    async fn default_connect_of_an_external_front_is_501() {
        let driver = Declared(TELNET.with_front(Front::External));
        let record = TokenRecord {
            token_hash: Token::new("t").hash(),
            protocol: "telnet".into(),
            console_type: "telnet-ws".into(),
            instance_uuid: "s1".into(),
            connect: ConnectInfo {
                host: "127.0.0.1".into(),
                port: 1,
                tls_port: None,
                internal_access_path: None,
                unix_socket: None,
            },
            access_url_base: TELNET.default_base_url.into(),
            expires_at: u64::MAX,
            minted_by: None,
        };
        let err = driver.connect(&record).await.err().expect("refused");
        assert_eq!(err.status(), 501, "{err}");
    }
}
