//! A VMware authd endpoint: the webmks backend exchange, then echo.

use std::io;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

use base64::Engine;
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio_rustls::TlsAcceptor;

use super::connect_path::invalid;
use super::listener::Listener;
use crate::lines::read_line;
use crate::tls::self_signed_server;

/// The greeting of a host's authd.
const GREETING: &[u8] = b"220 VMware Authentication Daemon Version 1.10: SSL Required\r\n";
/// How many random bytes the client's `THUMBPRINT` carries.
const THUMBPRINT_NONCE_BYTES: usize = 12;

/// What an [`AuthdEndpoint`] accepts.
#[derive(Clone)]
pub struct AuthdOptions {
    /// The MKS ticket, sent as both `USER` and `PASS`.
    pub ticket: String,
    /// The VM's configuration file, named in `CONNECT <cfgFile> mks`.
    pub cfg_file: String,
}

impl std::fmt::Debug for AuthdOptions {
    // The ticket is a credential: keep it out of test logs too.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AuthdOptions")
            .field("ticket", &"<redacted>")
            .field("cfg_file", &self.cfg_file)
            .finish()
    }
}

/// A VMware authd with TLS and self-signed certificates: exactly the
/// webmks backend exchange of the wire contract, then an echo of every
/// further byte.
///
/// Greets with `220`; expects TLS under the outer (host) certificate, then
/// `USER <ticket>` (`331`), `PASS <ticket>` (`230`, or `530` and close),
/// `THUMBPRINT <base64 of 12 bytes>` (`200 <inner thumbprint>`),
/// `CONNECT <cfgFile> mks` (`200`, or `550` and close); then TLS again
/// inside the first session under the inner certificate, where the client
/// repeats its base64 text before the echo starts.
pub struct AuthdEndpoint {
    listener: Listener,
    shared: Arc<Shared>,
}

struct Shared {
    options: AuthdOptions,
    outer: TlsAcceptor,
    outer_thumbprint: String,
    inner: TlsAcceptor,
    inner_thumbprint: String,
    authenticated: AtomicUsize,
}

impl AuthdEndpoint {
    /// Starts the endpoint with fresh certificates.
    ///
    /// # Errors
    /// When 127.0.0.1 cannot be bound or the certificates cannot be made.
    pub async fn start(options: AuthdOptions) -> io::Result<AuthdEndpoint> {
        let (outer, outer_thumbprint) = self_signed_server()?;
        let (inner, inner_thumbprint) = self_signed_server()?;
        let shared = Arc::new(Shared {
            options,
            outer: TlsAcceptor::from(outer),
            outer_thumbprint,
            inner: TlsAcceptor::from(inner),
            inner_thumbprint,
            authenticated: AtomicUsize::new(0),
        });
        let serving = shared.clone();
        let listener =
            Listener::spawn("authd", move |stream| session(stream, serving.clone())).await?;
        Ok(AuthdEndpoint { listener, shared })
    }

    /// Where it listens.
    pub fn addr(&self) -> SocketAddr {
        self.listener.addr()
    }

    /// TCP connections accepted so far.
    pub fn connections(&self) -> usize {
        self.listener.connections()
    }

    /// SHA-1 of the outer (host) certificate, colon-separated upper-case
    /// hex as VMware prints it. Drivers must also accept plain hex.
    pub fn thumbprint(&self) -> String {
        self.shared.outer_thumbprint.clone()
    }

    /// The internal access path a compute service would hand out for this
    /// console: `{"ticket": .., "cfgFile": .., "thumbprint": ..}`.
    pub fn internal_access_path(&self) -> String {
        serde_json::json!({
            "ticket": self.shared.options.ticket,
            "cfgFile": self.shared.options.cfg_file,
            "thumbprint": self.shared.outer_thumbprint,
        })
        .to_string()
    }

    /// Sessions that completed the whole exchange.
    pub fn authenticated(&self) -> usize {
        self.shared.authenticated.load(Ordering::SeqCst)
    }
}

async fn session(mut stream: TcpStream, shared: Arc<Shared>) -> io::Result<()> {
    stream.write_all(GREETING).await?;
    let mut outer = shared.outer.accept(stream).await?;
    let nonce = authenticate(&mut outer, &shared).await?;
    let mut inner = shared.inner.accept(outer).await?;
    let mut repeated = vec![0u8; nonce.len()];
    inner.read_exact(&mut repeated).await?;
    if repeated != nonce.as_bytes() {
        return Err(invalid(
            "the inner session did not repeat the THUMBPRINT nonce".into(),
        ));
    }
    shared.authenticated.fetch_add(1, Ordering::SeqCst);
    let (mut reader, mut writer) = tokio::io::split(inner);
    tokio::io::copy(&mut reader, &mut writer).await?;
    writer.shutdown().await
}

/// The exchange inside the outer TLS session; returns the base64 nonce
/// the client must repeat inside the inner one.
async fn authenticate<S>(stream: &mut S, shared: &Shared) -> io::Result<String>
where
    S: AsyncRead + AsyncWrite + Unpin,
{
    let ticket = shared.options.ticket.as_str();
    let user = command(stream, "USER").await?;
    stream.write_all(b"331 Password required\r\n").await?;
    let pass = command(stream, "PASS").await?;
    if user != ticket || pass != ticket {
        stream.write_all(b"530 Login incorrect\r\n").await?;
        return Err(invalid("wrong ticket".into()));
    }
    stream.write_all(b"230 User logged in\r\n").await?;
    let nonce = command(stream, "THUMBPRINT").await?;
    let decoded = base64::engine::general_purpose::STANDARD.decode(&nonce);
    if decoded.map(|d| d.len()) != Ok(THUMBPRINT_NONCE_BYTES) {
        stream
            .write_all(b"501 Invalid thumbprint nonce\r\n")
            .await?;
        return Err(invalid("THUMBPRINT without 12 base64-encoded bytes".into()));
    }
    stream
        .write_all(format!("200 {}\r\n", shared.inner_thumbprint).as_bytes())
        .await?;
    let connect = command(stream, "CONNECT").await?;
    if connect != format!("{} mks", shared.options.cfg_file) {
        stream
            .write_all(b"550 Unknown virtual machine or service\r\n")
            .await?;
        return Err(invalid("CONNECT to an unknown VM or service".into()));
    }
    stream.write_all(b"200 Connect to mks\r\n").await?;
    Ok(nonce)
}

/// Reads the next line, which must be `<verb> <argument>`; returns the
/// argument. Any other line gets `503` and ends the session.
async fn command<S>(stream: &mut S, verb: &str) -> io::Result<String>
where
    S: AsyncRead + AsyncWrite + Unpin,
{
    let line = read_line(stream).await?;
    match line.split_once(' ') {
        Some((got, argument)) if got.eq_ignore_ascii_case(verb) => Ok(argument.to_owned()),
        _ => {
            stream
                .write_all(b"503 Bad sequence of commands\r\n")
                .await?;
            Err(invalid(format!("expected {verb}")))
        }
    }
}
