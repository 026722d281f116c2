//! The `vencrypt_*` PEM files, read into a rustls client configuration.

use std::fs::File;
use std::io::BufReader;
use std::path::Path;
use std::sync::Arc;

use consoled_core::SettingError;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};
use rustls::{ClientConfig, RootCertStore};

/// A TLS client that trusts the CA certificates in `ca_certs` and, with
/// `client`, presents that key and certificate chain.
///
/// # Errors
/// Naming the key whose file is unreadable, holds no usable PEM item, or
/// does not go with the other half of the pair.
pub(crate) fn client_config(
    ca_certs: &Path,
    client: Option<(&Path, &Path)>,
) -> Result<ClientConfig, SettingError> {
    let mut roots = RootCertStore::empty();
    for cert in certs("vencrypt_ca_certs", ca_certs)? {
        roots.add(cert).map_err(|e| {
            SettingError::new(
                "vencrypt_ca_certs",
                format!("{}: not a usable CA certificate: {e}", ca_certs.display()),
            )
        })?;
    }
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let builder = ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| SettingError::new("vencrypt_ca_certs", e.to_string()))?
        .with_root_certificates(roots);
    let Some((key_path, cert_path)) = client else {
        return Ok(builder.with_no_client_auth());
    };
    let chain = certs("vencrypt_client_cert", cert_path)?;
    let key = key("vencrypt_client_key", key_path)?;
    builder.with_client_auth_cert(chain, key).map_err(|e| {
        SettingError::new(
            "vencrypt_client_key",
            format!(
                "{} does not go with vencrypt_client_cert {}: {e}",
                key_path.display(),
                cert_path.display()
            ),
        )
    })
}

fn open(key: &str, path: &Path) -> Result<BufReader<File>, SettingError> {
    File::open(path)
        .map(BufReader::new)
        .map_err(|e| SettingError::new(key, format!("cannot read {}: {e}", path.display())))
}

fn certs(key: &str, path: &Path) -> Result<Vec<CertificateDer<'static>>, SettingError> {
    let certs = rustls_pemfile::certs(&mut open(key, path)?)
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| SettingError::new(key, format!("cannot read {}: {e}", path.display())))?;
    if certs.is_empty() {
        return Err(SettingError::new(
            key,
            format!("no PEM certificate in {}", path.display()),
        ));
    }
    Ok(certs)
}

fn key(key: &str, path: &Path) -> Result<PrivateKeyDer<'static>, SettingError> {
    rustls_pemfile::private_key(&mut open(key, path)?)
        .map_err(|e| SettingError::new(key, format!("cannot read {}: {e}", path.display())))?
        .ok_or_else(|| SettingError::new(key, format!("no PEM private key in {}", path.display())))
}
