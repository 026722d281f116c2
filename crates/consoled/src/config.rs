//! `consoled.toml`: what the binary serves and how.
//!
//! Every section refuses unknown keys, so a typo is an error at start-up
//! rather than a silently ignored setting. Sections are independent
//! structs, so a new one (`[proxy]`) is one more field.

use std::collections::{BTreeMap, HashMap};
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;

use consoled_core::{DispatchSettings, Registry, TypeSettings, Url};
use consoled_proxy::{ListenerConfig, ProxySettings};
use serde::Deserialize;

use crate::proxy_config::ProxyConfig;
use crate::toml_error;

/// The whole file.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Config {
    /// `[api]`.
    pub api: ApiConfig,
    /// `[tokens]`.
    pub tokens: TokensConfig,
    /// `[consoles.<type>]`, keyed by console type.
    pub consoles: BTreeMap<String, ConsoleConfig>,
    /// `[backend]`.
    pub backend: BackendConfig,
    /// `[proxy]` and `[[proxy.listeners]]`.
    pub proxy: ProxyConfig,
}

/// `[api]`: the compute API listener.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct ApiConfig {
    /// Address to listen on.
    pub listen: SocketAddr,
    /// How callers are authenticated.
    pub auth: AuthMode,
}

impl Default for ApiConfig {
    fn default() -> Self {
        ApiConfig {
            listen: SocketAddr::from(([127, 0, 0, 1], 8774)),
            auth: AuthMode::NoAuth,
        }
    }
}

/// `[api] auth`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize)]
pub enum AuthMode {
    /// `X-Auth-Token: <user>:<project>[:<roles>]`, like Nova's noauth2.
    #[default]
    #[serde(rename = "noauth")]
    NoAuth,
}

/// `[tokens]`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct TokensConfig {
    /// How long a console token stays valid.
    pub ttl_seconds: u64,
    /// Where token records live.
    pub store: StoreKind,
    /// The Redis server, with `store = "redis"`.
    pub redis_url: String,
    /// Prefix of every Redis key, so that deployments can share a Redis.
    pub redis_key_prefix: String,
}

impl Default for TokensConfig {
    fn default() -> Self {
        TokensConfig {
            ttl_seconds: DispatchSettings::DEFAULT_TOKEN_TTL.as_secs(),
            store: StoreKind::Memory,
            redis_url: "redis://127.0.0.1:6379/".to_owned(),
            redis_key_prefix: "consoled:".to_owned(),
        }
    }
}

/// `[tokens] store`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize)]
pub enum StoreKind {
    /// This process's memory (one node).
    #[default]
    #[serde(rename = "memory")]
    Memory,
    /// A Redis server that every API and proxy node shares.
    #[serde(rename = "redis")]
    Redis,
}

/// `[consoles.<type>]`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct ConsoleConfig {
    /// Whether the type may be requested.
    pub enabled: bool,
    /// Base of the access URLs; the driver's (Nova's) default when absent.
    pub base_url: Option<String>,
}

impl Default for ConsoleConfig {
    fn default() -> Self {
        ConsoleConfig {
            enabled: true,
            base_url: None,
        }
    }
}

/// `[backend]`: where servers come from.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct BackendConfig {
    /// The server inventory file, relative to the config file.
    pub inventory: Option<PathBuf>,
}

/// A configuration read and checked against the linked drivers.
#[derive(Debug, Clone)]
pub struct Loaded {
    /// What the file says.
    pub config: Config,
    /// The dispatcher settings it yields.
    pub settings: DispatchSettings,
    /// The inventory file, resolved against the config file's folder.
    pub inventory: PathBuf,
    /// The proxies' shared settings.
    pub proxy_settings: ProxySettings,
    /// The proxies' listeners, paths resolved against the config file's
    /// folder.
    pub proxy_listeners: Vec<ListenerConfig>,
}

/// Reads `path` and checks it against `registry`.
///
/// # Errors
/// One line naming the file and the key: unreadable file, unknown key,
/// bad value, a console type with no linked driver, an unparsable URL.
pub fn load(path: &Path, registry: &Registry) -> Result<Loaded, String> {
    let source = std::fs::read_to_string(path)
        .map_err(|e| format!("{}: cannot read: {e}", path.display()))?;
    let config: Config =
        toml::from_str(&source).map_err(|e| toml_error::one_line(path, &source, &e))?;
    let at = |key: String, why: String| format!("{}: {key}: {why}", path.display());

    if config.tokens.ttl_seconds == 0 {
        return Err(at("tokens.ttl_seconds".into(), "must be at least 1".into()));
    }
    let mut types = HashMap::new();
    for (console_type, section) in &config.consoles {
        if registry.by_type(console_type).is_none() {
            let linked: Vec<&str> = registry
                .descriptors()
                .iter()
                .map(|d| d.console_type)
                .collect();
            return Err(at(
                format!("consoles.{console_type}"),
                format!(
                    "no linked driver for console type {console_type:?} (linked: {})",
                    linked.join(", ")
                ),
            ));
        }
        let base_url = match &section.base_url {
            None => None,
            Some(text) => Some(check_base_url(text).map_err(|why| {
                at(
                    format!("consoles.{console_type}.base_url"),
                    format!("{text:?}: {why}"),
                )
            })?),
        };
        types.insert(
            console_type.clone(),
            TypeSettings {
                enabled: section.enabled,
                base_url,
            },
        );
    }
    let inventory = config.backend.inventory.as_ref().ok_or_else(|| {
        at(
            "backend.inventory".into(),
            "missing: name the server inventory file".into(),
        )
    })?;
    let folder = path.parent().unwrap_or(Path::new("."));
    let inventory = folder.join(inventory);
    let proxy_settings = config.proxy.settings().map_err(|(key, why)| at(key, why))?;
    let proxy_listeners = config
        .proxy
        .listeners(folder)
        .map_err(|(key, why)| at(key, why))?;
    let settings = DispatchSettings {
        token_ttl: Duration::from_secs(config.tokens.ttl_seconds),
        types,
        ..DispatchSettings::default()
    };
    Ok(Loaded {
        config,
        settings,
        inventory,
        proxy_settings,
        proxy_listeners,
    })
}

/// An absolute URL with a host, which a token can be added to.
fn check_base_url(text: &str) -> Result<Url, String> {
    let url = Url::parse(text).map_err(|e| e.to_string())?;
    if url.cannot_be_a_base() || url.host_str().is_none_or(str::is_empty) {
        return Err("not an absolute URL with a host".into());
    }
    Ok(url)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_follow_nova() {
        let c: Config = toml::from_str("").unwrap();
        assert_eq!(c.api.listen.to_string(), "127.0.0.1:8774");
        assert_eq!(c.api.auth, AuthMode::NoAuth);
        assert_eq!(c.tokens.ttl_seconds, 600);
        assert_eq!(c.tokens.store, StoreKind::Memory);
    }

    #[test]
    fn base_urls_must_be_absolute() {
        assert!(check_base_url("http://h:6080/vnc_lite.html?lang=en").is_ok());
        assert!(check_base_url("ws://127.0.0.1:6083/").is_ok());
        for bad in ["vnc_lite.html", "http://", "mailto:a@b", "http//x"] {
            assert!(check_base_url(bad).is_err(), "{bad}");
        }
    }
}
