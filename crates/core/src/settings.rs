//! The dispatcher's settings: token lifetime, call timeout, console types.

use std::collections::HashMap;
use std::time::Duration;

use url::Url;

/// How one console type is offered: the `[consoles.<type>]` section.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TypeSettings {
    /// Whether the type may be requested at all.
    pub enabled: bool,
    /// The base URL access URLs are built on; `None` uses the driver's
    /// default (Nova's).
    pub base_url: Option<Url>,
}

impl Default for TypeSettings {
    fn default() -> Self {
        TypeSettings {
            enabled: true,
            base_url: None,
        }
    }
}

/// Settings of a [`Dispatcher`](crate::Dispatcher).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DispatchSettings {
    /// How long a token stays valid (Nova's default: 600 s).
    pub token_ttl: Duration,
    /// The most any one backend, driver or store call may take.
    pub call_timeout: Duration,
    /// Per console type; a type with no entry is enabled on its driver's
    /// default base URL.
    pub types: HashMap<String, TypeSettings>,
}

impl DispatchSettings {
    /// Nova's default token lifetime.
    pub const DEFAULT_TOKEN_TTL: Duration = Duration::from_secs(600);
    /// Default bound on one backend, driver or store call.
    pub const DEFAULT_CALL_TIMEOUT: Duration = Duration::from_secs(10);

    /// The settings of `console_type` (defaults when it has none).
    pub fn type_settings(&self, console_type: &str) -> TypeSettings {
        self.types.get(console_type).cloned().unwrap_or_default()
    }
}

impl Default for DispatchSettings {
    fn default() -> Self {
        DispatchSettings {
            token_ttl: Self::DEFAULT_TOKEN_TTL,
            call_timeout: Self::DEFAULT_CALL_TIMEOUT,
            types: HashMap::new(),
        }
    }
}
