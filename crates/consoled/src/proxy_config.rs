//! `[proxy]` and `[[proxy.listeners]]`: the console proxies this process
//! runs, mapped onto consoled-proxy's own settings.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;

use consoled_proxy::{ListenerConfig, ProxySettings, TlsFiles};
use serde::Deserialize;

/// `[proxy]`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct ProxyConfig {
    /// Origin hosts accepted besides the request's own Host.
    pub allowed_origins: Vec<String>,
    /// Close a session when its token expires.
    pub enforce_session_timeout: bool,
    /// WebSocket ping interval; 0 sends none.
    pub keepalive_seconds: u64,
    /// Close a session after this long without data; 0 never does.
    pub idle_timeout_seconds: u64,
    /// The largest frame a client may send.
    pub max_frame_bytes: usize,
    /// The most sessions one listener relays at once.
    pub max_sessions: usize,
    /// How long TLS and the request head may take.
    pub handshake_timeout_seconds: u64,
    /// How long sessions may go on after a shutdown signal.
    pub shutdown_grace_seconds: u64,
    /// The listeners.
    pub listeners: Vec<ListenerSection>,
}

impl Default for ProxyConfig {
    fn default() -> Self {
        let d = ProxySettings::default();
        ProxyConfig {
            allowed_origins: d.allowed_origins,
            enforce_session_timeout: d.enforce_session_timeout,
            keepalive_seconds: d.keepalive_interval.map_or(0, |i| i.as_secs()),
            idle_timeout_seconds: d.idle_timeout.map_or(0, |i| i.as_secs()),
            max_frame_bytes: d.max_frame_size,
            max_sessions: d.max_sessions,
            handshake_timeout_seconds: d.handshake_timeout.as_secs(),
            shutdown_grace_seconds: d.shutdown_grace.as_secs(),
            listeners: Vec::new(),
        }
    }
}

/// One `[[proxy.listeners]]` entry.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ListenerSection {
    /// Address to listen on.
    pub listen: SocketAddr,
    /// Console types served here.
    pub types: Vec<String>,
    /// Static files (noVNC, spice-html5 pages); relative to the config file.
    #[serde(default)]
    pub web_root: Option<PathBuf>,
    /// PEM certificate chain for https/wss; relative to the config file.
    #[serde(default)]
    pub tls_cert: Option<PathBuf>,
    /// PEM private key for https/wss; relative to the config file.
    #[serde(default)]
    pub tls_key: Option<PathBuf>,
}

impl ProxyConfig {
    /// The proxy library's settings.
    ///
    /// # Errors
    /// `(key, why)` for a value the proxy cannot honour.
    pub fn settings(&self) -> Result<ProxySettings, (String, String)> {
        let seconds = |s: u64| (s > 0).then(|| Duration::from_secs(s));
        let settings = ProxySettings {
            allowed_origins: self.allowed_origins.clone(),
            enforce_session_timeout: self.enforce_session_timeout,
            keepalive_interval: seconds(self.keepalive_seconds),
            idle_timeout: seconds(self.idle_timeout_seconds),
            max_frame_size: self.max_frame_bytes,
            max_sessions: self.max_sessions,
            handshake_timeout: Duration::from_secs(self.handshake_timeout_seconds),
            shutdown_grace: Duration::from_secs(self.shutdown_grace_seconds),
        };
        settings
            .validate()
            .map_err(|why| ("proxy".to_owned(), why))?;
        Ok(settings)
    }

    /// The listeners, with paths resolved against `base` (the config
    /// file's folder).
    ///
    /// # Errors
    /// `(key, why)` for a listener with no types, or half a TLS pair.
    pub fn listeners(&self, base: &Path) -> Result<Vec<ListenerConfig>, (String, String)> {
        self.listeners
            .iter()
            .enumerate()
            .map(|(i, l)| {
                let key = |field: &str| format!("proxy.listeners[{i}].{field}");
                if l.types.is_empty() {
                    return Err((key("types"), "name at least one console type".into()));
                }
                let tls = match (&l.tls_cert, &l.tls_key) {
                    (None, None) => None,
                    (Some(cert), Some(key_path)) => Some(TlsFiles {
                        cert_path: base.join(cert),
                        key_path: base.join(key_path),
                    }),
                    (Some(_), None) => {
                        return Err((key("tls_key"), "missing: tls_cert needs it".into()))
                    }
                    (None, Some(_)) => {
                        return Err((key("tls_cert"), "missing: tls_key needs it".into()))
                    }
                };
                Ok(ListenerConfig {
                    listen: l.listen,
                    types: l.types.clone(),
                    web_root: l.web_root.as_ref().map(|w| base.join(w)),
                    tls,
                })
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_are_the_proxy_libraries() {
        let c: ProxyConfig = toml::from_str("").unwrap();
        assert_eq!(c.settings().unwrap(), ProxySettings::default());
        assert!(c.listeners.is_empty());
    }

    #[test]
    fn zero_switches_timers_off() {
        let c: ProxyConfig =
            toml::from_str("keepalive_seconds = 0\nidle_timeout_seconds = 0").unwrap();
        let s = c.settings().unwrap();
        assert_eq!(s.keepalive_interval, None);
        assert_eq!(s.idle_timeout, None);
    }

    #[test]
    fn listener_paths_are_relative_to_the_config() {
        let c: ProxyConfig = toml::from_str(
            "[[listeners]]\nlisten = \"127.0.0.1:6080\"\ntypes = [\"novnc\"]\n\
             web_root = \"web\"\ntls_cert = \"c.pem\"\ntls_key = \"k.pem\"",
        )
        .unwrap();
        let l = &c.listeners(Path::new("/etc/consoled")).unwrap()[0];
        assert_eq!(l.web_root.as_deref(), Some(Path::new("/etc/consoled/web")));
        assert_eq!(
            l.tls.as_ref().map(|t| t.key_path.clone()),
            Some(PathBuf::from("/etc/consoled/k.pem"))
        );
    }

    #[test]
    fn half_a_tls_pair_is_refused() {
        let c: ProxyConfig = toml::from_str(
            "[[listeners]]\nlisten = \"127.0.0.1:6080\"\ntypes = [\"novnc\"]\ntls_cert = \"c.pem\"",
        )
        .unwrap();
        let (key, _) = c.listeners(Path::new("/")).unwrap_err();
        assert_eq!(key, "proxy.listeners[0].tls_key");
    }

    #[test]
    fn a_listener_needs_types() {
        let c: ProxyConfig =
            toml::from_str("[[listeners]]\nlisten = \"127.0.0.1:6080\"\ntypes = []").unwrap();
        assert_eq!(
            c.listeners(Path::new("/")).unwrap_err().0,
            "proxy.listeners[0].types"
        );
    }
}
