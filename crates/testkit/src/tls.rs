//! Self-signed certificates and their thumbprints, as VMware hosts use
//! them.

use std::io;
use std::sync::Arc;

use rustls::crypto::CryptoProvider;
use rustls::pki_types::{PrivateKeyDer, PrivatePkcs8KeyDer};
use rustls::ServerConfig;
use sha1::{Digest, Sha1};

/// The one crypto provider of the kit: ring, as in the rest of consoled.
pub(crate) fn provider() -> Arc<CryptoProvider> {
    Arc::new(rustls::crypto::ring::default_provider())
}

/// A TLS server config with a fresh self-signed certificate, and that
/// certificate's thumbprint.
pub(crate) fn self_signed_server() -> io::Result<(Arc<ServerConfig>, String)> {
    let certified =
        rcgen::generate_simple_self_signed(vec!["localhost".to_owned(), "127.0.0.1".to_owned()])
            .map_err(io::Error::other)?;
    let cert = certified.cert.der().clone();
    let thumbprint = sha1_thumbprint(&cert);
    let key = PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(
        certified.signing_key.serialize_der(),
    ));
    let config = ServerConfig::builder_with_provider(provider())
        .with_safe_default_protocol_versions()
        .map_err(io::Error::other)?
        .with_no_client_auth()
        .with_single_cert(vec![cert], key)
        .map_err(io::Error::other)?;
    Ok((Arc::new(config), thumbprint))
}

/// SHA-1 of a certificate's DER as VMware prints it: colon-separated
/// upper-case hex (`AA:BB:...`).
pub fn sha1_thumbprint(der: &[u8]) -> String {
    let digest = Sha1::digest(der);
    let hex: Vec<String> = digest.iter().map(|b| format!("{b:02X}")).collect();
    hex.join(":")
}

/// A thumbprint in either form (`AA:BB:..` or `aabb..`) as plain
/// lower-case hex, for comparing.
pub fn normalize_thumbprint(thumbprint: &str) -> String {
    thumbprint
        .chars()
        .filter(|c| *c != ':')
        .flat_map(char::to_lowercase)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn thumbprints_in_both_forms() {
        let t = sha1_thumbprint(b"abc");
        assert_eq!(
            t,
            "A9:99:3E:36:47:06:81:6A:BA:3E:25:71:78:50:C2:6C:9C:D0:D8:9D"
        );
        assert_eq!(
            normalize_thumbprint(&t),
            "a9993e364706816aba3e25717850c26c9cd0d89d"
        );
    }
}
