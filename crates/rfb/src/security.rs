//! [`VncSecurity`]: `[vnc]` made ready to use, its PEM files loaded once
//! at start-up.

use std::fmt;
use std::path::Path;
use std::sync::Arc;

use consoled_core::{BackendStream, ConnectInfo, ConsoleError, SettingError};
use tokio_rustls::TlsConnector;

use crate::handshake::negotiate;
use crate::pem::client_config;
use crate::presented_none::PresentedNone;
use crate::settings::{AuthScheme, VncSettings};

/// How VNC backend streams are secured: either untouched (the default,
/// `auth_schemes = ["none"]`: the browser and the VNC server negotiate
/// between themselves) or through Nova's RFB security proxy, which
/// negotiates with the server and presents security None to the browser.
#[derive(Clone)]
pub struct VncSecurity {
    schemes: Arc<[AuthScheme]>,
    tls: Option<TlsConnector>,
}

impl Default for VncSecurity {
    /// No security proxy: backend streams pass through untouched.
    fn default() -> Self {
        VncSecurity {
            schemes: Arc::from([AuthScheme::None]),
            tls: None,
        }
    }
}

impl fmt::Debug for VncSecurity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("VncSecurity")
            .field("auth_schemes", &self.schemes)
            .field("tls", &self.tls.is_some())
            .finish()
    }
}

impl VncSecurity {
    /// `settings` ready to use, its paths relative to `folder` (the
    /// configuration file's). The PEM files are read only when
    /// `auth_schemes` lists `vencrypt`.
    ///
    /// # Errors
    /// The key that cannot be honoured, as [`VncSettings::validate`] names
    /// it, or the `vencrypt_*` key whose file cannot be read or used
    /// (`vencrypt_client_cert: cannot read /etc/x.pem: ...`).
    pub fn from_settings(settings: &VncSettings, folder: &Path) -> Result<Self, SettingError> {
        settings.validate()?;
        let schemes: Arc<[AuthScheme]> = Arc::from(settings.auth_schemes.as_slice());
        if !settings.proxies_security() {
            return Ok(VncSecurity { schemes, tls: None });
        }
        let ca = settings
            .vencrypt_ca_certs
            .as_deref()
            .map(|p| folder.join(p))
            .ok_or_else(|| SettingError::new("vencrypt_ca_certs", "missing"))?;
        let key = settings
            .vencrypt_client_key
            .as_deref()
            .map(|p| folder.join(p));
        let cert = settings
            .vencrypt_client_cert
            .as_deref()
            .map(|p| folder.join(p));
        let client = key.as_deref().zip(cert.as_deref());
        let config = client_config(&ca, client)?;
        Ok(VncSecurity {
            schemes,
            tls: Some(TlsConnector::from(Arc::new(config))),
        })
    }

    /// Whether backend streams go through the security proxy.
    pub fn proxies_security(&self) -> bool {
        self.schemes.contains(&AuthScheme::VeNCrypt)
    }

    /// The schemes the proxy may use with VNC servers, in order of
    /// preference.
    pub fn auth_schemes(&self) -> &[AuthScheme] {
        &self.schemes
    }

    /// Secures `backend`, a fresh stream to the VNC server of `info`: with
    /// the security proxy, negotiates with the server (the first of
    /// `auth_schemes` it offers; for VeNCrypt, TLS verified against the CA
    /// certificates for `info.host`) and returns a stream that presents
    /// security None to the client; without, returns `backend` as it is.
    ///
    /// # Errors
    /// [`ConsoleError::ServiceUnavailable`] saying why the server's
    /// security could not be negotiated: it offers none of the schemes
    /// (naming what it offers), speaks another RFB version, refuses the
    /// TLS session or the handshake, or closes the connection.
    pub async fn secure(
        &self,
        backend: BackendStream,
        info: &ConnectInfo,
    ) -> Result<BackendStream, ConsoleError> {
        if !self.proxies_security() {
            return Ok(backend);
        }
        let place = match &info.unix_socket {
            Some(path) => format!("{path} (on {})", info.host),
            None => format!("{}:{}", info.host, info.port),
        };
        let (secured, scheme) = negotiate(backend, &self.schemes, self.tls.as_ref(), &info.host)
            .await
            .map_err(|f| ConsoleError::ServiceUnavailable(format!("VNC server {place} {}", f.0)))?;
        tracing::debug!(
            server = %place,
            scheme = scheme.name(),
            "VNC security negotiated; the client is offered None"
        );
        Ok(Box::new(PresentedNone::new(secured)))
    }
}
