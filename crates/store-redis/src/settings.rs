//! The Redis store's part of a `[tokens]` section.

use std::path::{Path, PathBuf};

use consoled_core::SettingError;
use serde::{Deserialize, Serialize};

use redis::{ClientTlsConfig, TlsCertificates};
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};

use crate::target::RedisTarget;
use crate::RedisTokenStore;

/// Where the Redis store keeps its records: the `redis_*` keys of
/// `[tokens]`.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Serialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(deny_unknown_fields, default)]
pub struct RedisSettings {
    /// The Redis server (7 or later) with store = redis:
    /// `redis://[[user]:password@]host:port/db`, or `rediss://` for TLS.
    pub redis_url: String,
    /// A Redis Cluster instead of one server: some of its masters
    /// (`redis://[[user]:password@]host:port`, all `redis://` or all
    /// `rediss://`, with the same user and password); the client finds
    /// the others. Leave `redis_url` unset with it.
    pub redis_cluster_urls: Vec<String>,
    /// The prefix of every key, so that deployments can share a Redis.
    pub redis_key_prefix: String,
    /// With `rediss://`: the PEM file of the CA that signed Redis's
    /// certificate, instead of the system's roots (relative to the
    /// configuration file).
    #[serde(skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "schema", schemars(example = &"redis-ca.pem"))]
    pub redis_ca_cert: Option<PathBuf>,
    /// With `rediss://`: a PEM client certificate (chain) to present, for
    /// a Redis with `tls-auth-clients yes`; needs `redis_client_key`.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "schema", schemars(example = &"redis-client.pem"))]
    pub redis_client_cert: Option<PathBuf>,
    /// The PEM private key of `redis_client_cert`.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "schema", schemars(example = &"redis-client-key.pem"))]
    pub redis_client_key: Option<PathBuf>,
}

impl RedisSettings {
    /// The Redis on this host's default port.
    pub const DEFAULT_URL: &'static str = "redis://127.0.0.1:6379/";

    /// Checks that the URLs name Redis servers and that the TLS keys go
    /// together; does not read the files ([`RedisSettings::target`] does).
    ///
    /// # Errors
    /// The key at fault: `redis_url` or `redis_cluster_urls[i]` when it
    /// does not parse, when both forms are given or when a cluster mixes
    /// TLS and plain nodes; `redis_ca_cert`, `redis_client_cert` or
    /// `redis_client_key` without a `rediss://` URL, or a certificate
    /// without its key (or the other way round). The message never repeats
    /// a URL, which may hold a password.
    pub fn validate(&self) -> Result<(), SettingError> {
        let tls = if self.redis_cluster_urls.is_empty() {
            let info = parse_url("redis_url", &self.redis_url)?;
            is_tls(&info)
        } else {
            if self.redis_url != Self::DEFAULT_URL {
                return Err(SettingError::new(
                    "redis_cluster_urls",
                    "name either redis_url (one server) or redis_cluster_urls (a cluster), not both",
                ));
            }
            let mut tls = None;
            for (i, url) in self.redis_cluster_urls.iter().enumerate() {
                let key = format!("redis_cluster_urls[{i}]");
                let this = is_tls(&parse_url(&key, url)?);
                if tls.is_some_and(|first| first != this) {
                    return Err(SettingError::new(
                        key,
                        "mixes rediss:// and redis:// nodes: a cluster is all TLS or none",
                    ));
                }
                tls = Some(this);
            }
            tls.unwrap_or(false)
        };
        for (key, set) in [
            ("redis_ca_cert", &self.redis_ca_cert),
            ("redis_client_cert", &self.redis_client_cert),
            ("redis_client_key", &self.redis_client_key),
        ] {
            if set.is_some() && !tls {
                return Err(SettingError::new(
                    key,
                    "needs a rediss:// URL: certificates are for TLS",
                ));
            }
        }
        match (&self.redis_client_cert, &self.redis_client_key) {
            (Some(_), None) => Err(SettingError::new(
                "redis_client_key",
                "missing: redis_client_cert needs its private key",
            )),
            (None, Some(_)) => Err(SettingError::new(
                "redis_client_cert",
                "missing: redis_client_key is the key of a client certificate",
            )),
            _ => Ok(()),
        }
    }

    /// Whether these settings name a Redis Cluster.
    pub fn is_cluster(&self) -> bool {
        !self.redis_cluster_urls.is_empty()
    }

    /// Where Redis is, with the PEM files read: what
    /// [`RedisTokenStore::connect_target`] and the other users of the same
    /// Redis connect to. Relative paths are taken from the current
    /// directory: resolve them against the configuration file first.
    ///
    /// # Errors
    /// What [`RedisSettings::validate`] refuses, and the file key whose
    /// file cannot be read or holds no usable PEM.
    pub fn target(&self) -> Result<RedisTarget, SettingError> {
        self.validate()?;
        let target = if self.is_cluster() {
            RedisTarget::cluster(&self.redis_cluster_urls)
                .map_err(|e| SettingError::new("redis_cluster_urls", e.to_string()))?
        } else {
            RedisTarget::standalone(&self.redis_url)
                .map_err(|e| SettingError::new("redis_url", e.to_string()))?
        };
        if !target.is_tls() {
            return Ok(target);
        }
        let root_cert = match &self.redis_ca_cert {
            Some(path) => Some(read_certs("redis_ca_cert", path)?),
            None => None,
        };
        let client_tls = match (&self.redis_client_cert, &self.redis_client_key) {
            (Some(cert), Some(key)) => Some(ClientTlsConfig {
                client_cert: read_certs("redis_client_cert", cert)?,
                client_key: read_key("redis_client_key", key)?,
            }),
            _ => None,
        };
        if root_cert.is_none() && client_tls.is_none() {
            return Ok(target);
        }
        target
            .with_tls(TlsCertificates {
                client_tls,
                root_cert,
            })
            .map_err(|e| SettingError::new("redis_ca_cert", e.to_string()))
    }
}

fn parse_url(key: &str, url: &str) -> Result<redis::ConnectionInfo, SettingError> {
    use redis::IntoConnectionInfo;
    url.into_connection_info()
        .map_err(|e| SettingError::new(key, format!("not a Redis URL ({:?})", e.kind())))
}

fn is_tls(info: &redis::ConnectionInfo) -> bool {
    matches!(info.addr(), redis::ConnectionAddr::TcpTls { .. })
}

fn read(key: &str, path: &Path) -> Result<Vec<u8>, SettingError> {
    std::fs::read(path)
        .map_err(|e| SettingError::new(key, format!("cannot read {}: {e}", path.display())))
}

/// The PEM text of `path`, once it is known to hold certificates: the
/// redis crate's own error would not say which file is at fault.
fn read_certs(key: &str, path: &Path) -> Result<Vec<u8>, SettingError> {
    let pem = read(key, path)?;
    let certs = CertificateDer::pem_slice_iter(&pem)
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| {
            SettingError::new(
                key,
                format!("{}: not PEM certificates ({e})", path.display()),
            )
        })?;
    if certs.is_empty() {
        return Err(SettingError::new(
            key,
            format!("{}: holds no PEM certificate", path.display()),
        ));
    }
    Ok(pem)
}

/// The PEM text of `path`, once it is known to hold a private key; the
/// message never quotes the file.
fn read_key(key: &str, path: &Path) -> Result<Vec<u8>, SettingError> {
    let pem = read(key, path)?;
    PrivateKeyDer::from_pem_slice(&pem).map_err(|_| {
        SettingError::new(key, format!("{}: holds no PEM private key", path.display()))
    })?;
    Ok(pem)
}

impl Default for RedisSettings {
    fn default() -> Self {
        RedisSettings {
            redis_url: Self::DEFAULT_URL.to_owned(),
            redis_cluster_urls: Vec::new(),
            redis_key_prefix: RedisTokenStore::DEFAULT_KEY_PREFIX.to_owned(),
            redis_ca_cert: None,
            redis_client_cert: None,
            redis_client_key: None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_as_users_write_it() {
        let s: RedisSettings = toml::from_str("").unwrap();
        assert_eq!(s, RedisSettings::default());
        assert_eq!(s.redis_url, "redis://127.0.0.1:6379/");
        assert_eq!(s.redis_key_prefix, "consoled:");
        assert!(!s.is_cluster());
        assert!(s.validate().is_ok());
        assert!(toml::from_str::<RedisSettings>("url = \"x\"").is_err());

        let s: RedisSettings = toml::from_str(
            "redis_cluster_urls = [\"rediss://u:p@10.0.0.1:7000\", \"rediss://u:p@10.0.0.2:7000\"]\n\
             redis_ca_cert = \"ca.pem\"\nredis_client_cert = \"c.pem\"\nredis_client_key = \"k.pem\"\n",
        )
        .unwrap();
        assert!(s.is_cluster());
        assert_eq!(s.redis_ca_cert.as_deref(), Some(Path::new("ca.pem")));
        assert!(s.validate().is_ok(), "{:?}", s.validate());
    }

    #[test]
    fn a_bad_url_is_refused_without_repeating_it() {
        let s = RedisSettings {
            redis_url: "nonsense://:hunter2@h".into(),
            ..RedisSettings::default()
        };
        let e = s.validate().unwrap_err();
        assert_eq!(e.key, "redis_url");
        assert!(!e.reason.contains("hunter2"), "{e}");

        let s = RedisSettings {
            redis_cluster_urls: vec!["redis://h:1".into(), "nonsense://:hunter2@h".into()],
            ..RedisSettings::default()
        };
        let e = s.validate().unwrap_err();
        assert_eq!(e.key, "redis_cluster_urls[1]");
        assert!(!e.reason.contains("hunter2"), "{e}");
    }

    #[test]
    fn keys_that_do_not_go_together_are_refused_by_name() {
        let refused = |s: RedisSettings| s.validate().unwrap_err().key;
        let cluster = vec!["redis://h:1".to_owned()];
        assert_eq!(
            refused(RedisSettings {
                redis_url: "redis://other:6379/".into(),
                redis_cluster_urls: cluster.clone(),
                ..RedisSettings::default()
            }),
            "redis_cluster_urls"
        );
        assert_eq!(
            refused(RedisSettings {
                redis_cluster_urls: vec!["rediss://h:1".into(), "redis://h:2".into()],
                ..RedisSettings::default()
            }),
            "redis_cluster_urls[1]"
        );
        assert_eq!(
            refused(RedisSettings {
                redis_ca_cert: Some("ca.pem".into()),
                ..RedisSettings::default()
            }),
            "redis_ca_cert"
        );
        assert_eq!(
            refused(RedisSettings {
                redis_cluster_urls: cluster,
                redis_client_key: Some("k.pem".into()),
                ..RedisSettings::default()
            }),
            "redis_client_key"
        );
        let tls = "rediss://127.0.0.1:6380/".to_owned();
        assert_eq!(
            refused(RedisSettings {
                redis_url: tls.clone(),
                redis_client_cert: Some("c.pem".into()),
                ..RedisSettings::default()
            }),
            "redis_client_key"
        );
        assert_eq!(
            refused(RedisSettings {
                redis_url: tls,
                redis_client_key: Some("k.pem".into()),
                ..RedisSettings::default()
            }),
            "redis_client_cert"
        );
    }

    #[test]
    fn unreadable_files_are_named_by_their_key() {
        let s = RedisSettings {
            redis_url: "rediss://127.0.0.1:6380/".into(),
            redis_ca_cert: Some("/nonexistent/ca.pem".into()),
            ..RedisSettings::default()
        };
        let e = s.target().unwrap_err();
        assert_eq!(e.key, "redis_ca_cert");
        assert!(e.reason.contains("/nonexistent/ca.pem"), "{e}");
    }
}
