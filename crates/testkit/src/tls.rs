//! Self-signed certificates and thumbprint pinning, as VMware hosts use
//! them.

use std::io;
use std::sync::Arc;

use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::crypto::{
    verify_tls12_signature, verify_tls13_signature, CryptoProvider, WebPkiSupportedAlgorithms,
};
use rustls::pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer, ServerName, UnixTime};
use rustls::{ClientConfig, DigitallySignedStruct, ServerConfig, SignatureScheme};
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

/// A TLS client config that trusts exactly the certificate whose SHA-1 is
/// `thumbprint` (either form), as VMware clients do with host thumbprints.
pub(crate) fn pinned_client(thumbprint: &str) -> io::Result<Arc<ClientConfig>> {
    let provider = provider();
    let verifier = PinnedSha1 {
        expected: normalize_thumbprint(thumbprint),
        algorithms: provider.signature_verification_algorithms,
    };
    let config = ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(io::Error::other)?
        .dangerous()
        .with_custom_certificate_verifier(Arc::new(verifier))
        .with_no_client_auth();
    Ok(Arc::new(config))
}

/// Trusts one certificate by its SHA-1, whatever its name or issuer; the
/// handshake signatures are still verified, so the peer must hold its key.
#[derive(Debug)]
struct PinnedSha1 {
    expected: String,
    algorithms: WebPkiSupportedAlgorithms,
}

impl ServerCertVerifier for PinnedSha1 {
    fn verify_server_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        _intermediates: &[CertificateDer<'_>],
        _server_name: &ServerName<'_>,
        _ocsp_response: &[u8],
        _now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        if normalize_thumbprint(&sha1_thumbprint(end_entity)) == self.expected {
            Ok(ServerCertVerified::assertion())
        } else {
            Err(rustls::Error::General(
                "certificate thumbprint mismatch".into(),
            ))
        }
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        verify_tls12_signature(message, cert, dss, &self.algorithms)
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        verify_tls13_signature(message, cert, dss, &self.algorithms)
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.algorithms.supported_schemes()
    }
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
