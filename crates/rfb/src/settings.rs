//! `[vnc]`: Nova's `[vnc] auth_schemes` and `vencrypt_*` keys, with
//! Nova's names and meanings, so that an operator can copy them from
//! nova.conf.

use std::path::PathBuf;

use consoled_core::SettingError;
use serde::{Deserialize, Serialize};

/// How the proxy secures its connection to VNC servers.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Serialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(deny_unknown_fields, default)]
pub struct VncSettings {
    /// Security the proxy may use with VNC servers, strongest first, as in
    /// Nova: vencrypt (TLS with x509 certificates, VeNCrypt
    /// X509None), none (no security). Listing vencrypt makes the proxy
    /// negotiate with the server itself and offer the browser security None;
    /// the first scheme the server offers is used.
    pub auth_schemes: Vec<AuthScheme>,
    /// PEM private key the proxy presents to VNC servers, relative to this
    /// file; with vencrypt_client_cert.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "schema", schemars(example = &"vnc-client-key.pem"))]
    pub vencrypt_client_key: Option<PathBuf>,
    /// PEM certificate the proxy presents to VNC servers, relative to this
    /// file; with vencrypt_client_key.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "schema", schemars(example = &"vnc-client-cert.pem"))]
    pub vencrypt_client_cert: Option<PathBuf>,
    /// (required with vencrypt) PEM file of the CA certificates that signed
    /// the VNC servers' certificates, relative to this file.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "schema", schemars(example = &"vnc-ca.pem"))]
    pub vencrypt_ca_certs: Option<PathBuf>,
}

/// One entry of `auth_schemes`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Deserialize, Serialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub enum AuthScheme {
    /// RFB security type None (1): no authentication, no encryption.
    #[serde(rename = "none")]
    None,
    /// RFB security type VeNCrypt (19) with its X509None subtype: TLS, the
    /// server's certificate checked against `vencrypt_ca_certs`.
    #[serde(rename = "vencrypt")]
    VeNCrypt,
}

impl AuthScheme {
    /// The RFB security type number.
    pub const fn security_type(self) -> u8 {
        match self {
            AuthScheme::None => 1,
            AuthScheme::VeNCrypt => 19,
        }
    }

    /// The name as written in `auth_schemes`.
    pub const fn name(self) -> &'static str {
        match self {
            AuthScheme::None => "none",
            AuthScheme::VeNCrypt => "vencrypt",
        }
    }
}

impl Default for VncSettings {
    fn default() -> Self {
        VncSettings {
            auth_schemes: vec![AuthScheme::None],
            vencrypt_client_key: None,
            vencrypt_client_cert: None,
            vencrypt_ca_certs: None,
        }
    }
}

impl VncSettings {
    /// Whether the proxy negotiates security with VNC servers itself
    /// (`auth_schemes` lists `vencrypt`); otherwise it relays the server's
    /// own handshake to the client untouched.
    pub fn proxies_security(&self) -> bool {
        self.auth_schemes.contains(&AuthScheme::VeNCrypt)
    }

    /// Checks the section without reading any file.
    ///
    /// As in Nova, the CA certificates are needed for `vencrypt` (the
    /// server's certificate is always verified), and the client key and
    /// certificate are an optional pair: a server that verifies its peers
    /// needs them. Paths given without `vencrypt` are not used.
    ///
    /// # Errors
    /// `auth_schemes` when empty or listing a scheme twice;
    /// `vencrypt_ca_certs` when `vencrypt` is listed without it; the
    /// missing half of the client key and certificate; an empty path.
    pub fn validate(&self) -> Result<(), SettingError> {
        if self.auth_schemes.is_empty() {
            return Err(SettingError::new(
                "auth_schemes",
                "must list at least one of \"vencrypt\", \"none\"",
            ));
        }
        for (i, scheme) in self.auth_schemes.iter().enumerate() {
            if self.auth_schemes[..i].contains(scheme) {
                return Err(SettingError::new(
                    "auth_schemes",
                    format!("lists {:?} twice", scheme.name()),
                ));
            }
        }
        for (key, path) in self.paths() {
            if path.is_some_and(|p| p.as_os_str().is_empty()) {
                return Err(SettingError::new(key, "must not be empty"));
            }
        }
        match (&self.vencrypt_client_key, &self.vencrypt_client_cert) {
            (Some(_), None) => {
                return Err(SettingError::new(
                    "vencrypt_client_cert",
                    "missing: vencrypt_client_key needs the certificate that goes with it",
                ))
            }
            (None, Some(_)) => {
                return Err(SettingError::new(
                    "vencrypt_client_key",
                    "missing: vencrypt_client_cert needs the private key that goes with it",
                ))
            }
            _ => {}
        }
        if self.proxies_security() && self.vencrypt_ca_certs.is_none() {
            return Err(SettingError::new(
                "vencrypt_ca_certs",
                "missing: auth_schemes lists \"vencrypt\", which verifies the VNC server's \
                 certificate against these CA certificates",
            ));
        }
        Ok(())
    }

    fn paths(&self) -> [(&'static str, Option<&PathBuf>); 3] {
        [
            ("vencrypt_client_key", self.vencrypt_client_key.as_ref()),
            ("vencrypt_client_cert", self.vencrypt_client_cert.as_ref()),
            ("vencrypt_ca_certs", self.vencrypt_ca_certs.as_ref()),
        ]
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &str) -> VncSettings {
        toml::from_str(text).unwrap()
    }

    fn refusal(text: &str) -> SettingError {
        parse(text).validate().unwrap_err()
    }

    #[test]
    fn defaults_follow_nova() {
        let s = parse("");
        assert_eq!(s, VncSettings::default());
        assert_eq!(s.auth_schemes, [AuthScheme::None]);
        assert!(!s.proxies_security());
        s.validate().unwrap();
    }

    #[test]
    fn schemes_keep_their_order() {
        let s = parse("auth_schemes = [\"vencrypt\", \"none\"]\nvencrypt_ca_certs = \"ca.pem\"");
        assert_eq!(s.auth_schemes, [AuthScheme::VeNCrypt, AuthScheme::None]);
        assert!(s.proxies_security());
        s.validate().unwrap();
        let s = parse("auth_schemes = [\"none\", \"vencrypt\"]\nvencrypt_ca_certs = \"ca.pem\"");
        assert_eq!(s.auth_schemes, [AuthScheme::None, AuthScheme::VeNCrypt]);
        assert!(s.proxies_security());
    }

    #[test]
    fn unknown_schemes_and_keys_are_refused_by_the_parser() {
        assert!(toml::from_str::<VncSettings>("auth_schemes = [\"tls\"]").is_err());
        assert!(toml::from_str::<VncSettings>("auth_schemes = \"vencrypt\"").is_err());
        assert!(toml::from_str::<VncSettings>("vencrypt_ca_cert = \"ca.pem\"").is_err());
    }

    #[test]
    fn refusals_name_the_key() {
        let e = refusal("auth_schemes = []");
        assert_eq!(e.key, "auth_schemes");
        let e = refusal("auth_schemes = [\"none\", \"none\"]");
        assert_eq!(e.key, "auth_schemes");
        assert!(e.reason.contains("twice"), "{e}");
        let e = refusal("auth_schemes = [\"vencrypt\"]");
        assert_eq!(e.key, "vencrypt_ca_certs");
        assert!(e.reason.starts_with("missing"), "{e}");
        let e = refusal("vencrypt_client_key = \"k.pem\"");
        assert_eq!(e.key, "vencrypt_client_cert");
        let e = refusal("vencrypt_client_cert = \"c.pem\"");
        assert_eq!(e.key, "vencrypt_client_key");
        let e = refusal("auth_schemes = [\"vencrypt\"]\nvencrypt_ca_certs = \"\"");
        assert_eq!(e.key, "vencrypt_ca_certs");
        assert!(e.reason.contains("empty"), "{e}");
    }

    #[test]
    fn a_client_certificate_is_optional_as_in_nova() {
        parse("auth_schemes = [\"vencrypt\"]\nvencrypt_ca_certs = \"ca.pem\"")
            .validate()
            .unwrap();
        parse(
            "auth_schemes = [\"vencrypt\"]\nvencrypt_ca_certs = \"ca.pem\"\n\
             vencrypt_client_key = \"k.pem\"\nvencrypt_client_cert = \"c.pem\"",
        )
        .validate()
        .unwrap();
    }
}
