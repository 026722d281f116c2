//! The Redis store's part of a `[tokens]` section.

use consoled_core::SettingError;
use serde::{Deserialize, Serialize};

use crate::RedisTokenStore;

/// Where the Redis store keeps its records: the `redis_url` and
/// `redis_key_prefix` keys of `[tokens]`.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Serialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(deny_unknown_fields, default)]
pub struct RedisSettings {
    /// The Redis server (7 or later) with store = redis:
    /// `redis://[:password@]host:port/db`, or `rediss://` for TLS.
    pub redis_url: String,
    /// The prefix of every key, so that deployments can share a Redis.
    pub redis_key_prefix: String,
}

impl RedisSettings {
    /// The Redis on this host's default port.
    pub const DEFAULT_URL: &'static str = "redis://127.0.0.1:6379/";

    /// Checks that the URL names a Redis server.
    ///
    /// # Errors
    /// `redis_url` when it does not parse; the message never repeats the
    /// URL, which may hold a password.
    pub fn validate(&self) -> Result<(), SettingError> {
        redis::Client::open(self.redis_url.as_str())
            .map(drop)
            .map_err(|e| {
                SettingError::new("redis_url", format!("not a Redis URL ({:?})", e.kind()))
            })
    }
}

impl Default for RedisSettings {
    fn default() -> Self {
        RedisSettings {
            redis_url: Self::DEFAULT_URL.to_owned(),
            redis_key_prefix: RedisTokenStore::DEFAULT_KEY_PREFIX.to_owned(),
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
        assert!(s.validate().is_ok());
        assert!(toml::from_str::<RedisSettings>("url = \"x\"").is_err());
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
    }
}
