//! The proxy's half of the RFB 3.8 handshake with the VNC server, as
//! Nova's `RFBSecurityProxy` does it: version, security type, the chosen
//! scheme's own negotiation, SecurityResult. What follows (ClientInit) is
//! the browser's.

use rustls::pki_types::ServerName;
use tokio::io::AsyncWriteExt;
use tokio_rustls::TlsConnector;

use consoled_core::BackendStream;

use crate::settings::AuthScheme;
use crate::vencrypt;
use crate::wire::{read_exact, read_reason, Failure};

/// The only protocol version the security proxy speaks, on both sides
/// (as Nova: every client and server of the last fifteen years has it).
pub const RFB_3_8: &[u8; 12] = b"RFB 003.008\n";

/// Negotiates security with the VNC server on `backend`, using the first
/// of `schemes` that the server offers; `tls` and `host` serve VeNCrypt.
/// Returns the stream to relay after SecurityResult (TLS for VeNCrypt)
/// and the scheme used.
pub(crate) async fn negotiate(
    mut backend: BackendStream,
    schemes: &[AuthScheme],
    tls: Option<&TlsConnector>,
    host: &str,
) -> Result<(BackendStream, AuthScheme), Failure> {
    let mut version = [0u8; 12];
    read_exact(&mut backend, &mut version, "its RFB version").await?;
    if &version != RFB_3_8 {
        return Err(Failure::new(format!(
            "speaks {:?}; the security proxy needs RFB 003.008",
            String::from_utf8_lossy(&version)
        )));
    }
    write(&mut backend, RFB_3_8).await?;
    let mut count = [0u8; 1];
    read_exact(&mut backend, &mut count, "its security types").await?;
    if count[0] == 0 {
        let reason = read_reason(&mut backend).await?;
        return Err(Failure::new(format!("refused the connection: {reason}")));
    }
    let mut offered = vec![0u8; usize::from(count[0])];
    read_exact(&mut backend, &mut offered, "its security types").await?;
    let Some(scheme) = schemes
        .iter()
        .copied()
        .find(|s| offered.contains(&s.security_type()))
    else {
        let allowed: Vec<&str> = schemes.iter().map(|s| s.name()).collect();
        return Err(Failure::new(format!(
            "offers security types {}, none of which [vnc] auth_schemes ({}) allows",
            named_types(&offered),
            allowed.join(", ")
        )));
    };
    write(&mut backend, &[scheme.security_type()]).await?;
    let mut secured: BackendStream = match scheme {
        AuthScheme::None => backend,
        AuthScheme::VeNCrypt => {
            let connector = tls.ok_or_else(|| {
                Failure::new("offers VeNCrypt, but no CA certificates are configured")
            })?;
            let name = ServerName::try_from(host.to_owned()).map_err(|_| {
                Failure::new(format!(
                    "is at {host:?}, which is not a host name or address its certificate can name"
                ))
            })?;
            Box::new(vencrypt::x509_none(backend, connector, name).await?)
        }
    };
    let mut result = [0u8; 4];
    let what = match scheme {
        AuthScheme::None => "its SecurityResult",
        // Servers that verify their clients (QEMU's verify-peer) check the
        // certificate once TLS is up, and hang up here when it fails.
        AuthScheme::VeNCrypt => {
            "its SecurityResult over TLS (a server that verifies its clients hangs up              here when it rejects the proxy's client certificate)"
        }
    };
    read_exact(&mut secured, &mut result, what).await?;
    if result != [0; 4] {
        let reason = read_reason(&mut secured).await?;
        return Err(Failure::new(format!(
            "refused the security handshake: {reason}"
        )));
    }
    Ok((secured, scheme))
}

async fn write(backend: &mut BackendStream, bytes: &[u8]) -> Result<(), Failure> {
    backend
        .write_all(bytes)
        .await
        .map_err(|e| Failure::new(format!("cannot be written to: {e}")))
}

/// `1 (None), 19 (VeNCrypt)`: security types with their registered names.
pub(crate) fn named_types(types: &[u8]) -> String {
    types
        .iter()
        .map(|t| {
            let name = match t {
                1 => "None",
                2 => "VNC",
                5 => "RA2",
                16 => "Tight",
                18 => "TLS",
                19 => "VeNCrypt",
                20 => "SASL",
                22 => "XVP",
                30 => "Apple DH",
                _ => return t.to_string(),
            };
            format!("{t} ({name})")
        })
        .collect::<Vec<_>>()
        .join(", ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn types_are_named() {
        assert_eq!(
            named_types(&[1, 2, 19, 99]),
            "1 (None), 2 (VNC), 19 (VeNCrypt), 99"
        );
    }
}
