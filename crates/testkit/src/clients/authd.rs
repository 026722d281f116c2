//! The client side of VMware authd's webmks exchange.

use std::io;

use base64::Engine;
use rustls::pki_types::ServerName;
use tokio::io::{AsyncRead, AsyncWrite, AsyncWriteExt};
use tokio_rustls::client::TlsStream;
use tokio_rustls::TlsConnector;

use crate::lines::read_line;
use crate::tls::{pinned_client, provider};

/// A webmks backend session: TLS under the inner certificate, inside TLS
/// under the host certificate.
pub type AuthdSession<S> = TlsStream<TlsStream<S>>;

/// Runs the client side of the webmks backend exchange on `stream`: waits
/// for `220`, starts TLS trusting only `thumbprint` (either form),
/// `USER`/`PASS` with `ticket`, `THUMBPRINT` with 12 random bytes,
/// `CONNECT <cfg_file> mks`, then TLS again trusting only the thumbprint
/// the host answered, and repeats the base64 text. What follows is the
/// console.
///
/// # Errors
/// [`io::ErrorKind::PermissionDenied`] when the host refuses the ticket or
/// the VM, [`io::ErrorKind::InvalidData`] for any other unexpected answer,
/// and TLS errors (a thumbprint mismatch among them) as I/O errors.
pub async fn authd_client_connect<S>(
    mut stream: S,
    ticket: &str,
    cfg_file: &str,
    thumbprint: &str,
) -> io::Result<AuthdSession<S>>
where
    S: AsyncRead + AsyncWrite + Unpin + Send,
{
    expect(&mut stream, "220", "greeting").await?;
    let outer = TlsConnector::from(pinned_client(thumbprint)?);
    let mut outer = outer.connect(server_name(), stream).await?;
    send(&mut outer, &format!("USER {ticket}")).await?;
    expect(&mut outer, "331", "USER").await?;
    send(&mut outer, &format!("PASS {ticket}")).await?;
    refused_unless(&mut outer, "230", "ticket").await?;
    let mut nonce = [0u8; 12];
    provider()
        .secure_random
        .fill(&mut nonce)
        .map_err(|_| io::Error::other("no random bytes for the THUMBPRINT nonce"))?;
    let nonce = base64::engine::general_purpose::STANDARD.encode(nonce);
    send(&mut outer, &format!("THUMBPRINT {nonce}")).await?;
    let answer = expect(&mut outer, "200", "THUMBPRINT").await?;
    let inner_thumbprint = answer.trim_start_matches("200").trim().to_owned();
    send(&mut outer, &format!("CONNECT {cfg_file} mks")).await?;
    refused_unless(&mut outer, "200", "virtual machine").await?;
    let inner = TlsConnector::from(pinned_client(&inner_thumbprint)?);
    let mut inner = inner.connect(server_name(), outer).await?;
    inner.write_all(nonce.as_bytes()).await?;
    inner.flush().await?;
    Ok(inner)
}

/// Pinning ignores names; rustls still wants one to send.
fn server_name() -> ServerName<'static> {
    ServerName::from(std::net::IpAddr::from([127, 0, 0, 1]))
}

async fn send<S: AsyncWrite + Unpin>(stream: &mut S, line: &str) -> io::Result<()> {
    stream.write_all(format!("{line}\r\n").as_bytes()).await?;
    stream.flush().await
}

/// Reads a line that must start with `code`; the error names only `what`,
/// never the line, which may echo the ticket.
async fn expect<S: AsyncRead + Unpin>(
    stream: &mut S,
    code: &str,
    what: &str,
) -> io::Result<String> {
    let line = read_line(stream).await?;
    if line.starts_with(code) {
        Ok(line)
    } else {
        let got: String = line.chars().take(3).collect();
        Err(io::Error::new(
            io::ErrorKind::InvalidData,
            format!("authd answered {got} to {what}, expected {code}"),
        ))
    }
}

async fn refused_unless<S: AsyncRead + Unpin>(
    stream: &mut S,
    code: &str,
    what: &str,
) -> io::Result<()> {
    let line = read_line(stream).await?;
    if line.starts_with(code) {
        Ok(())
    } else {
        let got: String = line.chars().take(3).collect();
        Err(io::Error::new(
            io::ErrorKind::PermissionDenied,
            format!("authd refused the {what} ({got})"),
        ))
    }
}
