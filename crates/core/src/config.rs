//! What every settings struct of the workspace shares: the error that names
//! the key a user wrote, and durations written in whole seconds.
//!
//! Each library crate owns one `serde::Deserialize` struct per concern
//! (this crate's [`TokenSettings`](crate::TokenSettings) and
//! [`TypeSettings`](crate::TypeSettings), the proxy's settings, the Redis
//! store's); a binary composes them into its file and reports a refusal as
//! `<section>.<key>: <reason>` with [`SettingError::under`].

use std::fmt;
use std::time::Duration;

/// A setting that cannot be honoured: its key, as a user writes it in
/// TOML, and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SettingError {
    /// The dotted key path (`keepalive_seconds`, `listeners[0].tls_key`),
    /// relative to the struct that refused it until [`SettingError::under`]
    /// puts it in its section.
    pub key: String,
    /// What is wrong, as a sentence fragment (`must be at most 86400`).
    pub reason: String,
}

impl SettingError {
    /// `key` cannot be honoured because of `reason`.
    pub fn new(key: impl Into<String>, reason: impl Into<String>) -> Self {
        SettingError {
            key: key.into(),
            reason: reason.into(),
        }
    }

    /// The same error, its key put under `section` (`proxy` turns
    /// `keepalive_seconds` into `proxy.keepalive_seconds`).
    #[must_use]
    pub fn under(mut self, section: &str) -> Self {
        self.key = if self.key.starts_with('[') {
            format!("{section}{}", self.key)
        } else {
            format!("{section}.{}", self.key)
        };
        self
    }
}

impl fmt::Display for SettingError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.key, self.reason)
    }
}

impl std::error::Error for SettingError {}

/// Refuses a zero duration, for a key in seconds that must not be `0`.
///
/// # Errors
/// `<key>: must be at least 1`.
pub fn not_zero(key: &str, value: Duration) -> Result<(), SettingError> {
    if value.is_zero() {
        return Err(SettingError::new(key, "must be at least 1"));
    }
    Ok(())
}

/// Refuses a duration longer than `max_seconds`, for a key in seconds.
///
/// # Errors
/// `<key>: must be at most <max_seconds>`.
pub fn at_most(key: &str, value: Duration, max_seconds: u64) -> Result<(), SettingError> {
    if value > Duration::from_secs(max_seconds) {
        return Err(SettingError::new(
            key,
            format!("must be at most {max_seconds}"),
        ));
    }
    Ok(())
}

/// `#[serde(with = "consoled_core::config::seconds")]`: a [`Duration`]
/// written as a whole number of seconds.
///
/// [`Duration`]: std::time::Duration
pub mod seconds {
    use std::time::Duration;

    use serde::{Deserialize, Deserializer, Serializer};

    /// Reads whole seconds.
    ///
    /// # Errors
    /// The deserializer's, for anything but a non-negative integer.
    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Duration, D::Error> {
        u64::deserialize(d).map(Duration::from_secs)
    }

    /// Writes whole seconds (a fraction is dropped).
    ///
    /// # Errors
    /// The serializer's.
    pub fn serialize<S: Serializer>(value: &Duration, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_u64(value.as_secs())
    }
}

/// `#[serde(with = "consoled_core::config::seconds_or_off")]`: an
/// `Option<Duration>` written as whole seconds, where `0` means off
/// (`None`).
pub mod seconds_or_off {
    use std::time::Duration;

    use serde::{Deserialize, Deserializer, Serializer};

    /// Reads whole seconds; `0` is `None`.
    ///
    /// # Errors
    /// The deserializer's, for anything but a non-negative integer.
    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Option<Duration>, D::Error> {
        u64::deserialize(d).map(|s| (s > 0).then(|| Duration::from_secs(s)))
    }

    /// Writes whole seconds; `None` is `0`.
    ///
    /// # Errors
    /// The serializer's.
    pub fn serialize<S: Serializer>(value: &Option<Duration>, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_u64(value.map_or(0, |d| d.as_secs()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn under_prefixes_keys_and_indices() {
        let e = SettingError::new("keepalive_seconds", "must be at most 86400");
        assert_eq!(
            e.under("proxy").to_string(),
            "proxy.keepalive_seconds: must be at most 86400"
        );
        let e = SettingError::new("[0].types", "x").under("listeners");
        assert_eq!(e.key, "listeners[0].types");
    }
}
