//! VeNCrypt (security type 19) as a client, the way Nova's
//! `RFBAuthSchemeVeNCrypt` does it: version 0.2 only, subtype X509None
//! only, then TLS with the server's certificate verified.
//!
//! X509None because the point is an encrypted channel to a server whose
//! identity is checked: the Plain subtypes send a password in the clear
//! and the TLS* subtypes use anonymous Diffie-Hellman, which anyone in the
//! middle can answer.

use rustls::pki_types::ServerName;
use tokio::io::{AsyncRead, AsyncWrite, AsyncWriteExt};
use tokio_rustls::client::TlsStream;
use tokio_rustls::TlsConnector;

use crate::wire::{read_exact, Failure};

/// The VeNCrypt subtype the proxy asks for.
pub const X509_NONE: u32 = 260;

/// Runs the VeNCrypt negotiation on `stream` (the server has just been
/// sent security type 19), then the TLS handshake as `server_name`.
pub(crate) async fn x509_none<S>(
    mut stream: S,
    connector: &TlsConnector,
    server_name: ServerName<'static>,
) -> Result<TlsStream<S>, Failure>
where
    S: AsyncRead + AsyncWrite + Unpin,
{
    let mut version = [0u8; 2];
    read_exact(&mut stream, &mut version, "its VeNCrypt version").await?;
    if version != [0, 2] {
        return Err(Failure::new(format!(
            "offers VeNCrypt {}.{}; only 0.2 is supported",
            version[0], version[1]
        )));
    }
    write(&mut stream, &[0, 2]).await?;
    let mut ack = [0u8; 1];
    read_exact(&mut stream, &mut ack, "its answer to VeNCrypt 0.2").await?;
    if ack[0] != 0 {
        return Err(Failure::new("did not accept VeNCrypt 0.2"));
    }
    let mut count = [0u8; 1];
    read_exact(&mut stream, &mut count, "its VeNCrypt subtypes").await?;
    let mut raw = vec![0u8; usize::from(count[0]) * 4];
    read_exact(&mut stream, &mut raw, "its VeNCrypt subtypes").await?;
    let subtypes: Vec<u32> = raw
        .chunks_exact(4)
        .map(|c| u32::from_be_bytes([c[0], c[1], c[2], c[3]]))
        .collect();
    if !subtypes.contains(&X509_NONE) {
        return Err(Failure::new(format!(
            "offers VeNCrypt subtypes {}, not X509None ({X509_NONE})",
            named_subtypes(&subtypes)
        )));
    }
    write(&mut stream, &X509_NONE.to_be_bytes()).await?;
    // Not in the RFB specification, but what QEMU and gtk-vnc send: one
    // byte, 1 accepting the subtype and 0 refusing it.
    let mut accepted = [0u8; 1];
    read_exact(&mut stream, &mut accepted, "its answer to X509None").await?;
    if accepted[0] == 0 {
        return Err(Failure::new("refused the X509None subtype"));
    }
    connector
        .connect(server_name, stream)
        .await
        .map_err(|e| Failure::new(format!("refused the TLS session: {e}")))
}

async fn write<S: AsyncWrite + Unpin>(stream: &mut S, bytes: &[u8]) -> Result<(), Failure> {
    stream
        .write_all(bytes)
        .await
        .map_err(|e| Failure::new(format!("cannot be written to: {e}")))
}

/// `257 (TLSNone), 260 (X509None)`: the subtypes with the names the
/// VeNCrypt specification gives them.
fn named_subtypes(subtypes: &[u32]) -> String {
    if subtypes.is_empty() {
        return "none".to_owned();
    }
    subtypes
        .iter()
        .map(|s| {
            let name = match s {
                256 => "Plain",
                257 => "TLSNone",
                258 => "TLSVnc",
                259 => "TLSPlain",
                260 => "X509None",
                261 => "X509Vnc",
                262 => "X509Plain",
                263 => "X509SASL",
                264 => "TLSSASL",
                _ => return s.to_string(),
            };
            format!("{s} ({name})")
        })
        .collect::<Vec<_>>()
        .join(", ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn subtypes_are_named() {
        assert_eq!(
            named_subtypes(&[257, 262, 999]),
            "257 (TLSNone), 262 (X509Plain), 999"
        );
        assert_eq!(named_subtypes(&[]), "none");
    }
}
