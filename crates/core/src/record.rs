//! What a token stands for: the connect info and the record a store keeps.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use serde::{Deserialize, Serialize};

use crate::token::TokenHash;

/// Where the proxy (or an external gateway) must connect for one console.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ConnectInfo {
    /// Backend host.
    pub host: String,
    /// Backend port.
    pub port: u16,
    /// Backend TLS port, where the protocol has one (SPICE).
    pub tls_port: Option<u16>,
    /// `CONNECT` path or driver-specific access data (webmks ticket).
    pub internal_access_path: Option<String>,
    /// A UNIX socket on the proxy's host to connect to instead of
    /// `host:port`; `host` then names the host it is on. Records written
    /// before consoled knew sockets have none.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub unix_socket: Option<String>,
}

/// The record a store keeps for a token: what Nova's console auth token
/// table keeps, keyed by the token's hash.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TokenRecord {
    /// SHA-256 of the token; the token itself is never stored.
    pub token_hash: TokenHash,
    /// Console protocol (`vnc`, ...).
    pub protocol: String,
    /// Console type (`novnc`, ...).
    pub console_type: String,
    /// The server this console belongs to.
    pub instance_uuid: String,
    /// Where to connect.
    pub connect: ConnectInfo,
    /// The base URL the access URL was built from (its scheme drives the
    /// proxy's Origin check).
    pub access_url_base: String,
    /// Seconds since the Unix epoch after which the token is void.
    pub expires_at: u64,
    /// Who minted the token. Records written before consoled kept it
    /// have none, and still validate.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub minted_by: Option<MintedBy>,
}

/// The caller that minted a token: for the audit trail of its sessions,
/// and for the per-project cap on live tokens.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MintedBy {
    /// The caller's user id.
    pub user_id: String,
    /// The project the caller acted in (not necessarily the server's: an
    /// admin may mint for any server).
    pub project_id: String,
}

impl TokenRecord {
    /// The project whose quota the record counts against, if known.
    pub fn quota_project(&self) -> Option<&str> {
        self.minted_by.as_ref().map(|m| m.project_id.as_str())
    }
}

impl TokenRecord {
    /// Whether the record is void at `now`.
    pub fn is_expired(&self, now: SystemTime) -> bool {
        unix_seconds(now) >= self.expires_at
    }

    /// Time left before expiry at `now` (zero when expired).
    pub fn remaining(&self, now: SystemTime) -> Duration {
        Duration::from_secs(self.expires_at.saturating_sub(unix_seconds(now)))
    }
}

/// Whole seconds since the Unix epoch (0 before it).
pub fn unix_seconds(t: SystemTime) -> u64 {
    t.duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0)
}

mod hash_serde {
    use serde::{de::Error, Deserialize, Deserializer, Serialize, Serializer};

    use crate::token::TokenHash;

    impl Serialize for TokenHash {
        fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
            self.to_hex().serialize(s)
        }
    }

    impl<'de> Deserialize<'de> for TokenHash {
        fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
            let text = <std::borrow::Cow<'de, str>>::deserialize(d)?;
            TokenHash::from_hex(&text)
                .ok_or_else(|| D::Error::custom("token hash is not 64 hex digits"))
        }
    }
}

/// A record of `token` for server `s1`'s VNC console on `h:5900`, minted
/// by nobody, never expiring: the core's tests change what they test.
#[cfg(test)]
pub(crate) fn sample_record(token: &str) -> TokenRecord {
    TokenRecord {
        token_hash: crate::token::Token::new(token).hash(),
        protocol: "vnc".into(),
        console_type: "novnc".into(),
        instance_uuid: "s1".into(),
        connect: ConnectInfo {
            host: "h".into(),
            port: 5900,
            tls_port: None,
            internal_access_path: None,
            unix_socket: None,
        },
        access_url_base: "http://h/".into(),
        expires_at: u64::MAX,
        minted_by: None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn expiry_is_inclusive() {
        let mut r = TokenRecord {
            token_hash: TokenHash::from_bytes([0; 32]),
            protocol: "p".into(),
            console_type: "t".into(),
            instance_uuid: "i".into(),
            connect: ConnectInfo {
                host: "h".into(),
                port: 1,
                tls_port: None,
                internal_access_path: None,
                unix_socket: None,
            },
            access_url_base: "http://h/".into(),
            expires_at: 100,
            minted_by: None,
        };
        let at = |s| UNIX_EPOCH + Duration::from_secs(s);
        assert!(!r.is_expired(at(99)));
        assert!(r.is_expired(at(100)));
        assert_eq!(r.remaining(at(90)), Duration::from_secs(10));
        r.expires_at = 0;
        assert_eq!(r.remaining(at(90)), Duration::ZERO);
    }
}
