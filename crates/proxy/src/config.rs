//! What the proxy is told: its listeners and the settings they share.
//!
//! [`ProxySettings`] is the `[proxy]` section of a configuration file and
//! [`ListenerConfig`] one `[[proxy.listeners]]` entry, keys and defaults
//! as users write them (durations in whole seconds); the fields are the
//! typed values the proxy uses, so an embedder builds them directly.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

use consoled_core::config::{at_most, not_zero, seconds, seconds_or_off, SettingError};
use serde::{Deserialize, Serialize};

/// A certificate chain and its private key, both PEM files, for a listener
/// that speaks TLS (`https`/`wss` URLs).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TlsFiles {
    /// The certificate chain, leaf first.
    pub cert_path: PathBuf,
    /// The private key (PKCS#8, PKCS#1 or SEC1).
    pub key_path: PathBuf,
}

/// One listening socket and the console types it serves: a
/// `[[proxy.listeners]]` entry.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Serialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(deny_unknown_fields)]
pub struct ListenerConfig {
    /// The address to listen on (port 0: any free port).
    #[cfg_attr(feature = "schema", schemars(example = &"127.0.0.1:6080"))]
    pub listen: SocketAddr,
    /// The console types served here; a token of another type is refused.
    /// WebSocket: novnc, spice-html5, serial, rdp-html5, webmks; raw TCP:
    /// xvpvnc (give it its own listener).
    #[cfg_attr(feature = "schema", schemars(example = ["novnc"]))]
    pub types: Vec<String>,
    /// The directory of static pages (noVNC, spice-html5). Absent: the
    /// distribution's copy for the first type that has one
    /// (/usr/share/novnc, /usr/share/spice-html5) when installed, else no
    /// pages.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "schema", schemars(example = &"/usr/share/novnc"))]
    pub web_root: Option<PathBuf>,
    /// A PEM certificate chain, leaf first, to serve https/wss (with
    /// tls_key).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "schema", schemars(example = &"cert.pem"))]
    pub tls_cert: Option<PathBuf>,
    /// The PEM private key of tls_cert (PKCS#8, PKCS#1 or SEC1).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "schema", schemars(example = &"key.pem"))]
    pub tls_key: Option<PathBuf>,
}

impl ListenerConfig {
    /// A plain listener on `listen` for `types`, with the default web root.
    pub fn new<I, S>(listen: SocketAddr, types: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        ListenerConfig {
            listen,
            types: types.into_iter().map(Into::into).collect(),
            web_root: None,
            tls_cert: None,
            tls_key: None,
        }
    }

    /// Sets the web root.
    #[must_use]
    pub fn with_web_root(mut self, web_root: impl Into<PathBuf>) -> Self {
        self.web_root = Some(web_root.into());
        self
    }

    /// Serves TLS with a certificate chain and key from PEM files.
    #[must_use]
    pub fn with_tls(mut self, cert_path: impl Into<PathBuf>, key_path: impl Into<PathBuf>) -> Self {
        self.tls_cert = Some(cert_path.into());
        self.tls_key = Some(key_path.into());
        self
    }

    /// The TLS files, when the listener speaks TLS.
    ///
    /// # Errors
    /// `tls_cert` or `tls_key` when only the other one is set.
    pub fn tls(&self) -> Result<Option<TlsFiles>, SettingError> {
        match (&self.tls_cert, &self.tls_key) {
            (None, None) => Ok(None),
            (Some(cert), Some(key)) => Ok(Some(TlsFiles {
                cert_path: cert.clone(),
                key_path: key.clone(),
            })),
            (Some(_), None) => Err(SettingError::new("tls_key", "missing: tls_cert needs it")),
            (None, Some(_)) => Err(SettingError::new("tls_cert", "missing: tls_key needs it")),
        }
    }

    /// Checks what can be checked without the linked drivers or the file
    /// system.
    ///
    /// # Errors
    /// `types` when it is empty; `tls_cert`/`tls_key` for half a pair.
    pub fn validate(&self) -> Result<(), SettingError> {
        if self.types.is_empty() {
            return Err(SettingError::new("types", "name at least one console type"));
        }
        self.tls().map(drop)
    }
}

/// Settings every listener of a [`ProxyServer`](crate::ProxyServer)
/// shares: the `[proxy]` section (without its listeners).
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Serialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(deny_unknown_fields, default)]
pub struct ProxySettings {
    /// Origin hosts accepted besides the request's own Host (Nova's
    /// `[console] allowed_origins`), e.g. the dashboard's host name.
    pub allowed_origins: Vec<String>,
    /// true: close a session when its token expires (Nova's
    /// enforce_session_timeout); false: the token only guards the opening.
    pub enforce_session_timeout: bool,
    /// Seconds between WebSocket pings, so that load balancers do not cut
    /// an idle console; a ping still unanswered at the next one closes the
    /// session (a dead peer). Also the TCP keepalive interval of every
    /// client connection. 0: neither; at most 86400.
    #[serde(rename = "keepalive_seconds", with = "seconds_or_off")]
    #[cfg_attr(feature = "schema", schemars(with = "u64"))]
    pub keepalive_interval: Option<Duration>,
    /// Seconds without a data byte either way (pings do not count) after
    /// which a session is closed. 0: never; at most 604800 (a week).
    #[serde(rename = "idle_timeout_seconds", with = "seconds_or_off")]
    #[cfg_attr(feature = "schema", schemars(with = "u64"))]
    pub idle_timeout: Option<Duration>,
    /// The largest WebSocket frame (and message) a client may send; a
    /// larger one closes the session with code 1009. From 125 to 67108864.
    #[serde(rename = "max_frame_bytes")]
    pub max_frame_size: usize,
    /// The most console sessions one listener relays at once; beyond it a
    /// new session gets 503. At least 1.
    pub max_sessions: usize,
    /// Seconds a connection may take to finish TLS and send its request
    /// head (and, kept alive, the next one); bounds half-open probes. From
    /// 1 to 300.
    #[serde(rename = "handshake_timeout_seconds", with = "seconds")]
    #[cfg_attr(feature = "schema", schemars(with = "u64"))]
    pub handshake_timeout: Duration,
    /// Seconds open sessions may go on after SIGTERM or SIGINT before they
    /// are closed. 0: at once; at most 3600.
    #[serde(rename = "shutdown_grace_seconds", with = "seconds")]
    #[cfg_attr(feature = "schema", schemars(with = "u64"))]
    pub shutdown_grace: Duration,
    /// Reverse proxies (addresses or networks, e.g. 10.0.0.0/8) whose
    /// X-Forwarded-For names the client in the audit trail; from any other
    /// peer the header is ignored.
    pub trusted_proxies: Vec<String>,
    /// This node's name in the session list (GET /admin/sessions).
    /// Default: the host name and the process id.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "schema", schemars(example = &"proxy-1"))]
    pub node_name: Option<String>,
}

impl ProxySettings {
    /// Default keepalive: well under the 60 s idle cut of common load
    /// balancers.
    pub const DEFAULT_KEEPALIVE_INTERVAL: Duration = Duration::from_secs(30);
    /// Default largest client frame: far beyond what a console client
    /// sends (keystrokes, pointer moves, clipboard), small enough to bound
    /// memory per session.
    pub const DEFAULT_MAX_FRAME_SIZE: usize = 1024 * 1024;
    /// Default session limit per listener.
    pub const DEFAULT_MAX_SESSIONS: usize = 1024;
    /// Default bound on TLS and the request head.
    pub const DEFAULT_HANDSHAKE_TIMEOUT: Duration = Duration::from_secs(10);
    /// Default shutdown grace.
    pub const DEFAULT_SHUTDOWN_GRACE: Duration = Duration::from_secs(30);

    /// The longest keepalive interval, in seconds: a day. Beyond it no
    /// load balancer is kept awake and no dead peer is noticed.
    pub const MAX_KEEPALIVE_SECONDS: u64 = 86_400;
    /// The longest idle timeout, in seconds: a week.
    pub const MAX_IDLE_TIMEOUT_SECONDS: u64 = 7 * 86_400;
    /// The longest handshake timeout, in seconds: longer only helps
    /// half-open probes.
    pub const MAX_HANDSHAKE_TIMEOUT_SECONDS: u64 = 300;
    /// The longest shutdown grace, in seconds: an hour.
    pub const MAX_SHUTDOWN_GRACE_SECONDS: u64 = 3_600;
    /// The smallest frame limit: below it a client could not send even a
    /// control frame's payload.
    pub const MIN_MAX_FRAME_SIZE: usize = 125;
    /// The largest frame limit (64 MiB), which bounds one session's memory.
    pub const MAX_MAX_FRAME_SIZE: usize = 64 * 1024 * 1024;

    /// Checks that every setting can be honoured.
    ///
    /// # Errors
    /// The first setting that cannot, named by its key
    /// (`keepalive_seconds: must be at most 86400`).
    pub fn validate(&self) -> Result<(), SettingError> {
        if let Some(every) = self.keepalive_interval {
            not_zero("keepalive_seconds", every)?;
            at_most("keepalive_seconds", every, Self::MAX_KEEPALIVE_SECONDS)?;
        }
        if let Some(idle) = self.idle_timeout {
            not_zero("idle_timeout_seconds", idle)?;
            at_most("idle_timeout_seconds", idle, Self::MAX_IDLE_TIMEOUT_SECONDS)?;
        }
        not_zero("handshake_timeout_seconds", self.handshake_timeout)?;
        at_most(
            "handshake_timeout_seconds",
            self.handshake_timeout,
            Self::MAX_HANDSHAKE_TIMEOUT_SECONDS,
        )?;
        at_most(
            "shutdown_grace_seconds",
            self.shutdown_grace,
            Self::MAX_SHUTDOWN_GRACE_SECONDS,
        )?;
        if self.max_sessions == 0 || self.max_sessions > tokio::sync::Semaphore::MAX_PERMITS {
            return Err(SettingError::new(
                "max_sessions",
                format!(
                    "must be between 1 and {}",
                    tokio::sync::Semaphore::MAX_PERMITS
                ),
            ));
        }
        if !(Self::MIN_MAX_FRAME_SIZE..=Self::MAX_MAX_FRAME_SIZE).contains(&self.max_frame_size) {
            return Err(SettingError::new(
                "max_frame_bytes",
                format!(
                    "must be between {} and {}",
                    Self::MIN_MAX_FRAME_SIZE,
                    Self::MAX_MAX_FRAME_SIZE
                ),
            ));
        }
        crate::client_addr::parse_trusted(&self.trusted_proxies)
            .map_err(|(i, why)| SettingError::new(format!("trusted_proxies[{i}]"), why))?;
        if let Some(name) = &self.node_name {
            if name.trim().is_empty() || name.chars().any(|c| c.is_control() || c.is_whitespace()) {
                return Err(SettingError::new(
                    "node_name",
                    "must be a non-empty name without spaces",
                ));
            }
        }
        Ok(())
    }

    /// This node's name: [`node_name`](Self::node_name), else the host
    /// name and the process id.
    pub fn node(&self) -> String {
        self.node_name
            .clone()
            .unwrap_or_else(crate::live::default_node_name)
    }
}

impl Default for ProxySettings {
    fn default() -> Self {
        ProxySettings {
            allowed_origins: Vec::new(),
            enforce_session_timeout: false,
            keepalive_interval: Some(Self::DEFAULT_KEEPALIVE_INTERVAL),
            idle_timeout: None,
            max_frame_size: Self::DEFAULT_MAX_FRAME_SIZE,
            max_sessions: Self::DEFAULT_MAX_SESSIONS,
            handshake_timeout: Self::DEFAULT_HANDSHAKE_TIMEOUT,
            shutdown_grace: Self::DEFAULT_SHUTDOWN_GRACE,
            trusted_proxies: Vec::new(),
            node_name: None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_are_valid() {
        assert_eq!(ProxySettings::default().validate(), Ok(()));
    }

    #[test]
    fn the_section_reads_as_users_write_it() {
        let s: ProxySettings = toml::from_str("").unwrap();
        assert_eq!(s, ProxySettings::default());
        let s: ProxySettings = toml::from_str(
            "keepalive_seconds = 0\nidle_timeout_seconds = 0\nmax_frame_bytes = 4096\n\
             handshake_timeout_seconds = 3\nshutdown_grace_seconds = 0",
        )
        .unwrap();
        assert_eq!(s.keepalive_interval, None);
        assert_eq!(s.idle_timeout, None);
        assert_eq!(s.max_frame_size, 4096);
        assert_eq!(s.handshake_timeout, Duration::from_secs(3));
        assert_eq!(s.shutdown_grace, Duration::ZERO);
        assert!(toml::from_str::<ProxySettings>("keepalive_interval = 3").is_err());
    }

    #[test]
    fn settings_that_cannot_be_honoured_name_their_key() {
        type Spoil = fn(&mut ProxySettings);
        let cases: [(Spoil, &str); 11] = [
            (
                |s| s.keepalive_interval = Some(Duration::ZERO),
                "keepalive_seconds: must be at least 1",
            ),
            (
                |s| s.keepalive_interval = Some(Duration::from_secs(86_401)),
                "keepalive_seconds: must be at most 86400",
            ),
            (
                |s| s.idle_timeout = Some(Duration::ZERO),
                "idle_timeout_seconds: must be at least 1",
            ),
            (
                |s| s.idle_timeout = Some(Duration::from_secs(i64::MAX as u64)),
                "idle_timeout_seconds: must be at most 604800",
            ),
            (
                |s| s.handshake_timeout = Duration::ZERO,
                "handshake_timeout_seconds: must be at least 1",
            ),
            (
                |s| s.handshake_timeout = Duration::from_secs(301),
                "handshake_timeout_seconds: must be at most 300",
            ),
            (
                |s| s.shutdown_grace = Duration::from_secs(3_601),
                "shutdown_grace_seconds: must be at most 3600",
            ),
            (
                |s| s.max_sessions = 0,
                "max_sessions: must be between 1 and ",
            ),
            (
                |s| s.max_sessions = usize::MAX,
                "max_sessions: must be between 1 and ",
            ),
            (
                |s| s.max_frame_size = 10,
                "max_frame_bytes: must be between 125 and 67108864",
            ),
            (
                |s| s.max_frame_size = 64 * 1024 * 1024 + 1,
                "max_frame_bytes: must be between 125 and 67108864",
            ),
        ];
        for (spoil, message) in cases {
            let mut settings = ProxySettings::default();
            spoil(&mut settings);
            let e = settings.validate().unwrap_err().to_string();
            assert!(e.starts_with(message), "{e} is not {message}");
        }
    }

    #[test]
    fn sub_second_durations_stay_possible_for_embedders() {
        let settings = ProxySettings {
            keepalive_interval: Some(Duration::from_millis(100)),
            handshake_timeout: Duration::from_millis(300),
            ..ProxySettings::default()
        };
        assert_eq!(settings.validate(), Ok(()));
    }

    #[test]
    fn a_listener_entry() {
        let l: ListenerConfig = toml::from_str(
            "listen = \"127.0.0.1:6080\"\ntypes = [\"novnc\"]\nweb_root = \"web\"\n\
             tls_cert = \"c.pem\"\ntls_key = \"k.pem\"",
        )
        .unwrap();
        assert_eq!(
            l,
            ListenerConfig::new(SocketAddr::from(([127, 0, 0, 1], 6080)), ["novnc"])
                .with_web_root("web")
                .with_tls("c.pem", "k.pem")
        );
        assert_eq!(l.validate(), Ok(()));
        assert!(toml::from_str::<ListenerConfig>("types = [\"novnc\"]").is_err());
    }

    #[test]
    fn listener_refusals_name_their_key() {
        let listen = SocketAddr::from(([127, 0, 0, 1], 0));
        let none = ListenerConfig::new(listen, Vec::<String>::new());
        assert_eq!(none.validate().unwrap_err().key, "types");
        let mut half = ListenerConfig::new(listen, ["novnc"]);
        half.tls_cert = Some("c.pem".into());
        assert_eq!(half.validate().unwrap_err().key, "tls_key");
        half.tls_cert = None;
        half.tls_key = Some("k.pem".into());
        assert_eq!(half.validate().unwrap_err().key, "tls_cert");
    }
}
