//! What the suite needs of a fake backend: the trait a driver crate
//! implements for its own fake endpoint.

use std::io;

use async_trait::async_trait;
use consoled_core::{BackendStream, Endpoint};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

/// A fake console backend the conformance suite runs a driver against.
///
/// The test kit implements it for its own endpoints
/// ([`RfbServer`](crate::RfbServer), [`SerialEcho`](crate::SerialEcho),
/// [`SpiceEndpoint`](crate::SpiceEndpoint),
/// [`AuthdEndpoint`](crate::AuthdEndpoint)) and for
/// [`ExternalGateway`](super::ExternalGateway); a driver for a protocol the
/// kit has no endpoint for implements it for a fake of its own.
///
/// The suite starts a fresh endpoint per check, puts [`endpoint`](Self::endpoint)
/// into a server's consoles under the driver's protocol, mints connect info
/// through the driver, opens a backend stream with `driver.connect` and
/// hands it to [`exchange`](Self::exchange).
#[async_trait]
pub trait ConformanceEndpoint: Sized + Send + Sync + 'static {
    /// The driver's consoles are served by an external gateway: there is
    /// no backend of ours, the driver's front must be
    /// [`Front::External`](consoled_core::Front::External) and `connect`
    /// must answer 501. Nothing is started.
    const EXTERNAL: bool = false;

    /// It can sit behind Nova's `CONNECT <path>` handshake, so the suite
    /// also runs the round trip through a `CONNECT` path.
    const CONNECT_PATH: bool = false;

    /// Starts a fresh endpoint on 127.0.0.1, requiring
    /// `CONNECT <connect_path> HTTP/1.1` first when `connect_path` is given
    /// (only asked of endpoints with [`CONNECT_PATH`](Self::CONNECT_PATH)).
    ///
    /// # Errors
    /// When it cannot be started.
    async fn start(connect_path: Option<&str>) -> io::Result<Self>;

    /// The endpoint data a server carries for it: host, port, TLS port and
    /// internal access path (the `CONNECT` path it was started with, or
    /// the protocol's access data).
    fn endpoint(&self) -> Endpoint;

    /// Other forms of the endpoint data that a driver must accept as well,
    /// each named (authd: the thumbprint in plain hex). None by default.
    fn alternatives(&self) -> Vec<(&'static str, Endpoint)> {
        Vec::new()
    }

    /// The protocol's exchange through a backend stream the driver opened
    /// to this endpoint.
    ///
    /// # Errors
    /// Why the exchange failed, for the failure message.
    async fn exchange(&self, stream: &mut BackendStream) -> Result<(), String>;

    /// After `exchanges` successful exchanges: what the endpoint itself
    /// saw (authd: that many sessions completed its exchange). Nothing by
    /// default.
    ///
    /// # Errors
    /// Why the endpoint disagrees, for the failure message.
    fn verify(&self, exchanges: usize) -> Result<(), String> {
        let _ = exchanges;
        Ok(())
    }

    /// Endpoint data this endpoint refuses, and how the driver must fail
    /// with it. None by default.
    fn refusals(&self) -> Vec<Refusal> {
        Vec::new()
    }

    /// Endpoint data of this kind for a server whose console is at `port`,
    /// where nothing listens: the closed-port check (and, for an external
    /// gateway, the 501 check) mints with it. A plain
    /// [`local_endpoint`] by default.
    fn unreachable(port: u16) -> Endpoint {
        local_endpoint(port, None)
    }
}

/// Endpoint data a backend refuses.
#[derive(Debug, Clone)]
pub struct Refusal {
    /// Names the check in failure messages (`webmks with a wrong ticket`).
    pub name: &'static str,
    /// The server's endpoint data.
    pub endpoint: Endpoint,
    /// How the driver must fail.
    pub refused: Refused,
}

/// How a driver must fail with a [`Refusal`]'s endpoint data.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Refused {
    /// Minting accepts it; `connect` answers 503, and `secret` (a
    /// credential in the endpoint data) appears nowhere in the error.
    Connecting {
        /// What the error message must not carry.
        secret: Option<String>,
    },
    /// Minting or connecting refuses it: never a backend stream.
    MintingOrConnecting,
}

/// A plain endpoint at `127.0.0.1:port` with no TLS port.
pub fn local_endpoint(port: u16, internal_access_path: Option<&str>) -> Endpoint {
    Endpoint {
        host: "127.0.0.1".into(),
        port,
        tls_port: None,
        internal_access_path: internal_access_path.map(str::to_owned),
        unix_socket: None,
    }
}

/// The exchange of an endpoint that echoes: bytes written to `stream` (a
/// NUL, high bytes, CRLF among them) come back unchanged.
///
/// # Errors
/// When the stream fails or other bytes come back.
pub async fn echo_exchange(stream: &mut BackendStream) -> Result<(), String> {
    let sent: &[u8] = b"consoled conformance \x00\x01\xfe\xff\r\n";
    let round_trip = async {
        stream.write_all(sent).await?;
        stream.flush().await?;
        let mut back = vec![0u8; sent.len()];
        stream.read_exact(&mut back).await?;
        Ok::<_, io::Error>(back)
    };
    match round_trip.await {
        Ok(back) if back == sent => Ok(()),
        Ok(back) => Err(format!("sent {sent:?}, got back {back:?}")),
        Err(e) => Err(format!("relay through the driver failed: {e}")),
    }
}
