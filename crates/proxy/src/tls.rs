//! TLS for `https`/`wss` listeners: rustls with the ring provider, from a
//! certificate chain and key in PEM files.

use std::fs::File;
use std::io::BufReader;
use std::path::Path;
use std::sync::Arc;

use rustls::pki_types::{CertificateDer, PrivateKeyDer};
use tokio_rustls::TlsAcceptor;

use crate::config::TlsFiles;
use crate::error::ProxyError;

/// An acceptor for `files`.
///
/// # Errors
/// [`ProxyError::Tls`] naming the file when a file is missing or holds no
/// usable certificate or key, or when they do not go together.
pub(crate) fn acceptor(files: &TlsFiles) -> Result<TlsAcceptor, ProxyError> {
    let certs = load_certs(&files.cert_path)?;
    let key = load_key(&files.key_path)?;
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let mut config = rustls::ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| tls_error(&files.cert_path, e.to_string()))?
        .with_no_client_auth()
        .with_single_cert(certs, key)
        .map_err(|e| {
            tls_error(
                &files.cert_path,
                format!("certificate and key do not go together: {e}"),
            )
        })?;
    config.alpn_protocols = vec![b"http/1.1".to_vec()];
    Ok(TlsAcceptor::from(Arc::new(config)))
}

fn open(path: &Path) -> Result<BufReader<File>, ProxyError> {
    File::open(path)
        .map(BufReader::new)
        .map_err(|e| tls_error(path, e.to_string()))
}

fn load_certs(path: &Path) -> Result<Vec<CertificateDer<'static>>, ProxyError> {
    let certs = rustls_pemfile::certs(&mut open(path)?)
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| tls_error(path, e.to_string()))?;
    if certs.is_empty() {
        return Err(tls_error(path, "no PEM certificate in the file".into()));
    }
    Ok(certs)
}

fn load_key(path: &Path) -> Result<PrivateKeyDer<'static>, ProxyError> {
    rustls_pemfile::private_key(&mut open(path)?)
        .map_err(|e| tls_error(path, e.to_string()))?
        .ok_or_else(|| tls_error(path, "no PEM private key in the file".into()))
}

fn tls_error(path: &Path, reason: String) -> ProxyError {
    ProxyError::Tls {
        path: path.to_path_buf(),
        reason,
    }
}
