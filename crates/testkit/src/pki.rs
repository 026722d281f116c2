//! A certificate authority made up for one test, and the server and
//! client certificates it signs: what a VNC server with x509 TLS (QEMU's
//! `tls-creds-x509`) and the proxy that connects to it need.

use std::io;
use std::path::Path;
use std::sync::Arc;

use rcgen::{
    BasicConstraints, CertificateParams, CertifiedIssuer, DnType, ExtendedKeyUsagePurpose, IsCa,
    KeyPair, KeyUsagePurpose,
};
use rustls::pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer};
use rustls::server::WebPkiClientVerifier;
use rustls::{RootCertStore, ServerConfig};

use crate::tls::provider;

/// A CA for one test.
pub struct TestCa {
    issuer: CertifiedIssuer<'static, KeyPair>,
}

/// A certificate the CA signed, with its private key.
#[derive(Debug, Clone)]
pub struct Issued {
    /// The certificate, PEM.
    pub cert_pem: String,
    /// Its PKCS#8 private key, PEM.
    pub key_pem: String,
    cert_der: CertificateDer<'static>,
    key_der: Vec<u8>,
}

impl TestCa {
    /// A fresh CA whose certificate's common name is `name`.
    ///
    /// # Errors
    /// When the key or certificate cannot be made.
    pub fn new(name: &str) -> io::Result<TestCa> {
        let mut params = CertificateParams::default();
        params.distinguished_name = rcgen::DistinguishedName::new();
        params.distinguished_name.push(DnType::CommonName, name);
        params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        params.key_usages = vec![
            KeyUsagePurpose::KeyCertSign,
            KeyUsagePurpose::CrlSign,
            KeyUsagePurpose::DigitalSignature,
        ];
        within_utc_time(&mut params);
        let key = KeyPair::generate().map_err(io::Error::other)?;
        let issuer = CertifiedIssuer::self_signed(params, key).map_err(io::Error::other)?;
        Ok(TestCa { issuer })
    }

    /// The CA's certificate, PEM.
    pub fn cert_pem(&self) -> String {
        self.issuer.pem()
    }

    /// A server certificate for `names` (host names or IP addresses, each
    /// a subjectAltName).
    ///
    /// # Errors
    /// When a name is unusable or signing fails.
    pub fn server(&self, names: &[&str]) -> io::Result<Issued> {
        self.leaf(names, ExtendedKeyUsagePurpose::ServerAuth)
    }

    /// A client certificate whose common name is `name`.
    ///
    /// # Errors
    /// When signing fails.
    pub fn client(&self, name: &str) -> io::Result<Issued> {
        self.leaf(&[name], ExtendedKeyUsagePurpose::ClientAuth)
    }

    fn leaf(&self, names: &[&str], usage: ExtendedKeyUsagePurpose) -> io::Result<Issued> {
        let sans: Vec<String> = names.iter().map(|n| (*n).to_owned()).collect();
        let mut params = CertificateParams::new(sans).map_err(io::Error::other)?;
        params.distinguished_name = rcgen::DistinguishedName::new();
        params
            .distinguished_name
            .push(DnType::CommonName, names.first().copied().unwrap_or("leaf"));
        params.key_usages = vec![
            KeyUsagePurpose::DigitalSignature,
            KeyUsagePurpose::KeyEncipherment,
        ];
        params.extended_key_usages = vec![usage];
        within_utc_time(&mut params);
        let key = KeyPair::generate().map_err(io::Error::other)?;
        let cert = params
            .signed_by(&key, &self.issuer)
            .map_err(io::Error::other)?;
        Ok(Issued {
            cert_pem: cert.pem(),
            key_pem: key.serialize_pem(),
            cert_der: cert.der().clone(),
            key_der: key.serialize_der(),
        })
    }

    /// Writes what QEMU's `-object tls-creds-x509,dir=<dir>,endpoint=server`
    /// reads: `ca-cert.pem` (this CA, which also checks clients with
    /// `verify-peer=on`), `server-cert.pem` and `server-key.pem`.
    ///
    /// # Errors
    /// When a file cannot be written.
    pub fn write_qemu_server_dir(&self, server: &Issued, dir: &Path) -> io::Result<()> {
        std::fs::create_dir_all(dir)?;
        std::fs::write(dir.join("ca-cert.pem"), self.cert_pem())?;
        std::fs::write(dir.join("server-cert.pem"), &server.cert_pem)?;
        std::fs::write(dir.join("server-key.pem"), &server.key_pem)
    }

    /// A rustls server presenting `server`; with `verify_clients`, clients
    /// must present a certificate this CA signed.
    ///
    /// # Errors
    /// When rustls refuses the certificate or key.
    pub fn server_config(
        &self,
        server: &Issued,
        verify_clients: bool,
    ) -> io::Result<Arc<ServerConfig>> {
        let builder = ServerConfig::builder_with_provider(provider())
            .with_safe_default_protocol_versions()
            .map_err(io::Error::other)?;
        let builder = if verify_clients {
            let mut roots = RootCertStore::empty();
            roots
                .add(self.issuer.der().clone())
                .map_err(io::Error::other)?;
            let verifier = WebPkiClientVerifier::builder_with_provider(Arc::new(roots), provider())
                .build()
                .map_err(io::Error::other)?;
            builder.with_client_cert_verifier(verifier)
        } else {
            builder.with_no_client_auth()
        };
        let key = PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(server.key_der.clone()));
        let config = builder
            .with_single_cert(vec![server.cert_der.clone()], key)
            .map_err(io::Error::other)?;
        Ok(Arc::new(config))
    }
}

/// Validity that every TLS stack reads the same way (UTCTime, before
/// 2050), from long ago so that clock skew does not matter.
fn within_utc_time(params: &mut CertificateParams) {
    params.not_before = rcgen::date_time_ymd(2000, 1, 1);
    params.not_after = rcgen::date_time_ymd(2049, 12, 31);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn certificates_are_pem() {
        let ca = TestCa::new("test CA").unwrap();
        assert!(ca.cert_pem().starts_with("-----BEGIN CERTIFICATE-----"));
        let server = ca.server(&["127.0.0.1", "localhost"]).unwrap();
        assert!(server.key_pem.starts_with("-----BEGIN PRIVATE KEY-----"));
        ca.server_config(&server, true).unwrap();
        ca.client("proxy").unwrap();
    }
}
