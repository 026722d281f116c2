//! What the proxy is told: its listeners and the settings they share.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

/// A certificate chain and its private key, both PEM files, for a listener
/// that speaks TLS (`https`/`wss` URLs).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TlsFiles {
    /// The certificate chain, leaf first.
    pub cert_path: PathBuf,
    /// The private key (PKCS#8, PKCS#1 or SEC1).
    pub key_path: PathBuf,
}

/// One listening socket and the console types it serves.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ListenerConfig {
    /// Where to listen; port 0 lets the OS choose (see
    /// [`ProxyServer::local_addrs`](crate::ProxyServer::local_addrs)).
    pub listen: SocketAddr,
    /// The console types (`novnc`, `serial`, ...) accepted here. A token of
    /// any other type is refused on this listener.
    pub types: Vec<String>,
    /// The directory of static files (the noVNC or spice-html5 pages).
    /// `None`: the distribution's copy of the first type that has one
    /// (`/usr/share/novnc`, `/usr/share/spice-html5`) when it is installed,
    /// else no static files.
    pub web_root: Option<PathBuf>,
    /// Serve TLS with these files; `None` for plain TCP.
    pub tls: Option<TlsFiles>,
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
            tls: None,
        }
    }

    /// Sets the web root.
    pub fn with_web_root(mut self, web_root: impl Into<PathBuf>) -> Self {
        self.web_root = Some(web_root.into());
        self
    }

    /// Serves TLS with a certificate chain and key from PEM files.
    pub fn with_tls(mut self, cert_path: impl Into<PathBuf>, key_path: impl Into<PathBuf>) -> Self {
        self.tls = Some(TlsFiles {
            cert_path: cert_path.into(),
            key_path: key_path.into(),
        });
        self
    }
}

/// Settings every listener of a [`ProxyServer`](crate::ProxyServer) shares.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProxySettings {
    /// Origin hosts accepted besides the request's own `Host` (Nova's
    /// `[console] allowed_origins`), e.g. the dashboard's host name.
    pub allowed_origins: Vec<String>,
    /// Close a session when its token expires (Nova's
    /// `enforce_session_timeout`). Off by default, as in Nova: the token
    /// then only guards the opening of the session.
    pub enforce_session_timeout: bool,
    /// Send a WebSocket ping this often so that load balancers and reverse
    /// proxies do not cut an idle console, and close the session when a
    /// ping is still unanswered at the next one (a dead peer). Every client
    /// connection also gets TCP keepalive probes at this interval, which
    /// catch dead peers on the raw TCP front too. `None`: neither.
    pub keepalive_interval: Option<Duration>,
    /// Close a session after this long without a data byte in either
    /// direction (pings do not count). `None`: never.
    pub idle_timeout: Option<Duration>,
    /// The largest WebSocket frame (and message) a client may send; a
    /// larger one closes the session with code 1009.
    pub max_frame_size: usize,
    /// The most console sessions one listener relays at once; beyond it a
    /// new session gets `503 Service Unavailable`.
    pub max_sessions: usize,
    /// How long a connection may take to finish TLS and send its request
    /// head (and, on a kept-alive static connection, the next one). Bounds
    /// half-open probes.
    pub handshake_timeout: Duration,
    /// On shutdown, how long sessions may continue before they are closed.
    pub shutdown_grace: Duration,
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
    /// The longest keepalive interval or idle timeout (about 100 years).
    pub const MAX_SESSION_INTERVAL: Duration = Duration::from_secs(100 * 365 * 24 * 3600);
}

impl ProxySettings {
    /// Checks that every setting can be honoured.
    ///
    /// # Errors
    /// A sentence naming the first setting that cannot.
    pub fn validate(&self) -> Result<(), String> {
        let zero = |name: &str, value: Option<Duration>| match value {
            Some(d) if d.is_zero() => Err(format!(
                "{name} must be more than zero (leave it unset to disable it)"
            )),
            // Sessions add these to the clock, and that panics past its range.
            Some(d) if d > Self::MAX_SESSION_INTERVAL => Err(format!(
                "{name} must be at most {} s (leave it unset to disable it)",
                Self::MAX_SESSION_INTERVAL.as_secs()
            )),
            _ => Ok(()),
        };
        zero("keepalive_interval", self.keepalive_interval)?;
        zero("idle_timeout", self.idle_timeout)?;
        zero("handshake_timeout", Some(self.handshake_timeout))?;
        if self.max_sessions == 0 || self.max_sessions > tokio::sync::Semaphore::MAX_PERMITS {
            return Err(format!(
                "max_sessions must be between 1 and {}",
                tokio::sync::Semaphore::MAX_PERMITS
            ));
        }
        // Below this a client could not send even a control frame's payload.
        if self.max_frame_size < 125 {
            return Err("max_frame_size must be at least 125 bytes".into());
        }
        Ok(())
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
    fn settings_that_cannot_be_honoured() {
        let cases: [fn(&mut ProxySettings); 7] = [
            |s| s.keepalive_interval = Some(Duration::ZERO),
            |s| s.idle_timeout = Some(Duration::ZERO),
            |s| s.keepalive_interval = Some(Duration::from_secs(i64::MAX as u64)),
            |s| s.idle_timeout = Some(Duration::from_secs(i64::MAX as u64)),
            |s| s.handshake_timeout = Duration::ZERO,
            |s| s.max_sessions = 0,
            |s| s.max_frame_size = 10,
        ];
        for spoil in cases {
            let mut settings = ProxySettings::default();
            spoil(&mut settings);
            assert!(settings.validate().is_err(), "{settings:?}");
        }
    }
}
