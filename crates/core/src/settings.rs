//! The dispatcher's settings: token lifetime, call timeout, console types.
//!
//! [`TokenSettings`] is the lifetime key of a `[tokens]` section and
//! [`TypeSettings`] a whole `[consoles.<type>]` section: a binary
//! deserializes them from its file and hands them to the dispatcher as
//! they are.

use std::collections::HashMap;
use std::time::Duration;

use serde::{Deserialize, Serialize};
use url::Url;

use crate::config::{at_most, not_zero, seconds, SettingError};

/// How console tokens are minted: the dispatcher's part of `[tokens]`.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Serialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(deny_unknown_fields, default)]
pub struct TokenSettings {
    /// How long a console token stays valid, in seconds (Nova's default
    /// 600; at most 86400, a day: a console URL is meant to be opened
    /// right away).
    #[serde(rename = "ttl_seconds", with = "seconds")]
    #[cfg_attr(feature = "schema", schemars(with = "u64"))]
    pub ttl: Duration,
}

impl TokenSettings {
    /// Nova's default token lifetime.
    pub const DEFAULT_TTL: Duration = Duration::from_secs(600);
    /// The longest lifetime a configuration may ask for, in seconds.
    pub const MAX_TTL_SECONDS: u64 = 86_400;

    /// Checks that a configured lifetime can be honoured.
    ///
    /// # Errors
    /// `ttl_seconds` when it is 0 or longer than [`Self::MAX_TTL_SECONDS`].
    pub fn validate(&self) -> Result<(), SettingError> {
        not_zero("ttl_seconds", self.ttl)?;
        at_most("ttl_seconds", self.ttl, Self::MAX_TTL_SECONDS)
    }
}

impl Default for TokenSettings {
    fn default() -> Self {
        TokenSettings {
            ttl: Self::DEFAULT_TTL,
        }
    }
}

/// How one console type is offered: the `[consoles.<type>]` section.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Serialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(deny_unknown_fields, default)]
pub struct TypeSettings {
    /// Whether the type may be requested; false: requests for it get 400
    /// Unavailable console type.
    pub enabled: bool,
    /// The base of the access URLs, an absolute URL with a host; absent:
    /// the driver's default (Nova's).
    #[cfg_attr(
        feature = "schema",
        schemars(with = "Option<String>", example = &"http://127.0.0.1:6080/vnc_auto.html")
    )]
    pub base_url: Option<Url>,
    /// What a second session to the same server and type does: shared
    /// (both stay; a serial console's one backend connection is fanned
    /// out to every viewer, their input merged), exclusive (the second is
    /// refused while the first is open), takeover (the second closes the
    /// first, with close code 4001).
    pub sessions: SessionMode,
}

/// `[consoles.<type>] sessions`: who may be connected at once.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize, Serialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub enum SessionMode {
    /// Every session stays.
    #[default]
    #[serde(rename = "shared")]
    Shared,
    /// One session at a time; the next is refused with 503.
    #[serde(rename = "exclusive")]
    Exclusive,
    /// The newest session wins; the one before is closed.
    #[serde(rename = "takeover")]
    Takeover,
}

impl TypeSettings {
    /// Checks that access URLs can be built on the base URL.
    ///
    /// # Errors
    /// `base_url` when it is not an absolute URL with a host.
    pub fn validate(&self) -> Result<(), SettingError> {
        match &self.base_url {
            Some(url) if url.cannot_be_a_base() || url.host_str().is_none_or(str::is_empty) => {
                Err(SettingError::new(
                    "base_url",
                    format!("{:?}: not an absolute URL with a host", url.as_str()),
                ))
            }
            _ => Ok(()),
        }
    }
}

impl Default for TypeSettings {
    fn default() -> Self {
        TypeSettings {
            enabled: true,
            base_url: None,
            sessions: SessionMode::Shared,
        }
    }
}

/// Settings of a [`Dispatcher`](crate::Dispatcher).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DispatchSettings {
    /// How tokens are minted (their lifetime).
    pub tokens: TokenSettings,
    /// The most any one backend, driver or store call may take.
    pub call_timeout: Duration,
    /// Per console type; a type with no entry is enabled on its driver's
    /// default base URL.
    pub types: HashMap<String, TypeSettings>,
}

impl DispatchSettings {
    /// Default bound on one backend, driver or store call.
    pub const DEFAULT_CALL_TIMEOUT: Duration = Duration::from_secs(10);

    /// How long a token stays valid.
    pub fn token_ttl(&self) -> Duration {
        self.tokens.ttl
    }
}

impl Default for DispatchSettings {
    fn default() -> Self {
        DispatchSettings {
            tokens: TokenSettings::default(),
            call_timeout: Self::DEFAULT_CALL_TIMEOUT,
            types: HashMap::new(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sections_read_as_users_write_them() {
        let tokens: TokenSettings = toml::from_str("ttl_seconds = 30").unwrap();
        assert_eq!(tokens.ttl, Duration::from_secs(30));
        assert_eq!(
            toml::from_str::<TokenSettings>("").unwrap(),
            TokenSettings::default()
        );
        let novnc: TypeSettings =
            toml::from_str("enabled = false\nbase_url = \"http://h:6080/vnc_lite.html\"").unwrap();
        assert!(!novnc.enabled);
        assert_eq!(novnc.base_url.unwrap().port(), Some(6080));
        assert!(toml::from_str::<TypeSettings>("enable = true").is_err());
    }

    #[test]
    fn refusals_name_the_key() {
        let at = |text: &str| toml::from_str::<TokenSettings>(text).unwrap().validate();
        assert_eq!(
            at("ttl_seconds = 0").unwrap_err().to_string(),
            "ttl_seconds: must be at least 1"
        );
        assert_eq!(
            at("ttl_seconds = 86401").unwrap_err().to_string(),
            "ttl_seconds: must be at most 86400"
        );
        assert!(at("ttl_seconds = 86400").is_ok());
        for bad in ["mailto:a@b", "file:///x"] {
            let t: TypeSettings = toml::from_str(&format!("base_url = {bad:?}")).unwrap();
            assert_eq!(t.validate().unwrap_err().key, "base_url", "{bad}");
        }
        assert!(toml::from_str::<TypeSettings>("base_url = \"vnc_auto.html\"").is_err());
        assert!(TypeSettings::default().validate().is_ok());
    }
}
