//! Certificate pinning by SHA-1 thumbprint, as VMware does it.

use std::fmt;
use std::sync::Arc;

use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::crypto::{
    verify_tls12_signature, verify_tls13_signature, CryptoProvider, WebPkiSupportedAlgorithms,
};
use rustls::pki_types::{CertificateDer, ServerName, UnixTime};
use rustls::{CertificateError, DigitallySignedStruct, SignatureScheme};
use sha1::{Digest, Sha1};

/// The SHA-1 of a certificate's DER encoding.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(crate) struct Thumbprint([u8; 20]);

impl Thumbprint {
    /// Parses VMware's `AA:BB:...` form or plain hex, in either case.
    pub(crate) fn parse(text: &str) -> Option<Thumbprint> {
        let digits: String = text.trim().chars().filter(|c| *c != ':').collect();
        let mut bytes = [0u8; 20];
        hex::decode_to_slice(digits, &mut bytes).ok()?;
        Some(Thumbprint(bytes))
    }

    /// The thumbprint of `der`.
    pub(crate) fn of(der: &[u8]) -> Thumbprint {
        Thumbprint(Sha1::digest(der).into())
    }
}

impl fmt::Debug for Thumbprint {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Thumbprint({})", hex::encode(self.0))
    }
}

/// Accepts exactly the certificate with the pinned thumbprint, whatever its
/// issuer, name or dates: the pin is the trust decision. Handshake
/// signatures are still checked, so the peer must own the certificate.
#[derive(Debug)]
pub(crate) struct PinnedCertificate {
    expected: Thumbprint,
    algorithms: WebPkiSupportedAlgorithms,
}

impl PinnedCertificate {
    /// A verifier pinned to `expected`, checking signatures with `provider`.
    pub(crate) fn new(expected: Thumbprint, provider: &CryptoProvider) -> Arc<Self> {
        Arc::new(PinnedCertificate {
            expected,
            algorithms: provider.signature_verification_algorithms,
        })
    }
}

impl ServerCertVerifier for PinnedCertificate {
    fn verify_server_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        _intermediates: &[CertificateDer<'_>],
        _server_name: &ServerName<'_>,
        _ocsp_response: &[u8],
        _now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        if Thumbprint::of(end_entity.as_ref()) == self.expected {
            Ok(ServerCertVerified::assertion())
        } else {
            Err(rustls::Error::InvalidCertificate(
                CertificateError::ApplicationVerificationFailure,
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

    const HEX: &str = "0123456789abcdef0123456789abcdef01234567";

    #[test]
    fn parses_both_vmware_and_plain_forms() {
        let plain = Thumbprint::parse(HEX).unwrap();
        let upper = HEX.to_uppercase();
        let colons: Vec<&str> = (0..20).map(|i| &upper[i * 2..i * 2 + 2]).collect();
        assert_eq!(Thumbprint::parse(&colons.join(":")), Some(plain));
        assert_eq!(Thumbprint::parse(&format!(" {upper} ")), Some(plain));
    }

    #[test]
    fn rejects_wrong_lengths_and_digits() {
        assert_eq!(Thumbprint::parse(""), None);
        assert_eq!(Thumbprint::parse(&HEX[..38]), None);
        assert_eq!(Thumbprint::parse(&format!("{HEX}00")), None);
        assert_eq!(Thumbprint::parse(&HEX.replace('a', "g")), None);
    }

    #[test]
    fn accepts_only_the_pinned_certificate() {
        let provider = rustls::crypto::ring::default_provider();
        let der = b"not really a certificate, but its digest is what counts".to_vec();
        let pinned = PinnedCertificate::new(Thumbprint::of(&der), &provider);
        let name = ServerName::try_from("esxi.example").unwrap();
        let now = UnixTime::now();
        assert!(pinned
            .verify_server_cert(&CertificateDer::from(der.clone()), &[], &name, &[], now)
            .is_ok());
        let mut other = der;
        other[0] ^= 1;
        assert!(pinned
            .verify_server_cert(&CertificateDer::from(other), &[], &name, &[], now)
            .is_err());
        assert!(!pinned.supported_verify_schemes().is_empty());
    }
}
