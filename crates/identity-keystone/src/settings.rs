//! `[keystone_authtoken]`: keystonemiddleware's key names and meanings, so
//! that an operator can copy the section from nova.conf.

use std::fmt;
use std::path::PathBuf;
use std::time::Duration;

use consoled_core::SettingError;
use serde::{Deserialize, Serialize};

/// The environment variable a password may come from instead of the file.
pub const PASSWORD_ENV: &str = "CONSOLED_KEYSTONE_PASSWORD";

/// How the compute API reaches Keystone and authenticates itself there.
#[derive(Clone, PartialEq, Eq, Deserialize, Serialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(deny_unknown_fields, default)]
pub struct KeystoneSettings {
    /// (required with auth = keystone) Keystone's v3 endpoint, e.g.
    /// http://127.0.0.1:5000/v3.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "schema", schemars(example = &"http://127.0.0.1:5000/v3"))]
    pub auth_url: Option<String>,
    /// The service user consoled validates tokens as.
    pub username: String,
    /// Its password (or CONSOLED_KEYSTONE_PASSWORD in the environment, which
    /// wins); never logged.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "schema", schemars(example = &"service-password"))]
    pub password: Option<String>,
    /// The project the service user's token is scoped to.
    pub project_name: String,
    /// The service user's domain.
    pub user_domain_name: String,
    /// The service project's domain.
    pub project_domain_name: String,
    /// Where a 401 tells clients to authenticate
    /// (WWW-Authenticate: Keystone uri="..."); auth_url unless set.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "schema", schemars(example = &"http://keystone.example.com:5000/v3"))]
    pub www_authenticate_uri: Option<String>,
    /// Seconds a validation is reused, never past the token's own expiry;
    /// 0 turns the cache off.
    pub token_cache_time: u64,
    /// A PEM file of the CA that signed Keystone's certificate, beside the
    /// system's roots.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "schema", schemars(example = &"keystone-ca.pem"))]
    pub cafile: Option<PathBuf>,
    /// Seconds a call to Keystone may take before the request gets 503.
    pub http_connect_timeout: u64,
}

impl KeystoneSettings {
    /// keystonemiddleware's default cache time.
    pub const DEFAULT_TOKEN_CACHE_TIME: u64 = 300;
    /// keystonemiddleware's default timeout.
    pub const DEFAULT_HTTP_CONNECT_TIMEOUT: u64 = 5;
    /// The longest cache time a configuration may ask for (a day).
    pub const MAX_TOKEN_CACHE_TIME: u64 = 86_400;
    /// The longest timeout a configuration may ask for.
    pub const MAX_HTTP_CONNECT_TIMEOUT: u64 = 300;

    /// The settings with [`PASSWORD_ENV`] as the password when it is set
    /// and not empty.
    #[must_use]
    pub fn with_password_from_env(mut self) -> Self {
        if let Some(password) = std::env::var(PASSWORD_ENV).ok().filter(|p| !p.is_empty()) {
            self.password = Some(password);
        }
        self
    }

    /// How long a validation may be reused.
    pub fn cache_time(&self) -> Duration {
        Duration::from_secs(self.token_cache_time)
    }

    /// How long one call to Keystone may take.
    pub fn timeout(&self) -> Duration {
        Duration::from_secs(self.http_connect_timeout)
    }

    /// Where a 401 sends clients.
    pub fn www_authenticate_uri(&self) -> &str {
        self.www_authenticate_uri
            .as_deref()
            .or(self.auth_url.as_deref())
            .unwrap_or_default()
    }

    /// Checks that the section can authenticate anyone.
    ///
    /// # Errors
    /// The first key that cannot be honoured: a missing or unusable
    /// `auth_url`, a missing service user, project or password, a timeout
    /// or cache time out of range.
    pub fn validate(&self) -> Result<(), SettingError> {
        let url = self
            .auth_url
            .as_deref()
            .ok_or_else(|| SettingError::new("auth_url", "missing: name Keystone's v3 endpoint"))?;
        match url::Url::parse(url) {
            Ok(u) if matches!(u.scheme(), "http" | "https") && u.host_str().is_some() => {}
            _ => {
                return Err(SettingError::new(
                    "auth_url",
                    "not an http:// or https:// URL with a host",
                ))
            }
        }
        for (key, value) in [
            ("username", &self.username),
            ("project_name", &self.project_name),
        ] {
            if value.is_empty() {
                return Err(SettingError::new(key, "missing: the service user needs it"));
            }
        }
        if self.password.as_deref().is_none_or(str::is_empty) {
            return Err(SettingError::new(
                "password",
                format!("missing: set it here or in {PASSWORD_ENV}"),
            ));
        }
        if self.http_connect_timeout == 0
            || self.http_connect_timeout > Self::MAX_HTTP_CONNECT_TIMEOUT
        {
            return Err(SettingError::new(
                "http_connect_timeout",
                format!("must be between 1 and {}", Self::MAX_HTTP_CONNECT_TIMEOUT),
            ));
        }
        if self.token_cache_time > Self::MAX_TOKEN_CACHE_TIME {
            return Err(SettingError::new(
                "token_cache_time",
                format!("must be at most {}", Self::MAX_TOKEN_CACHE_TIME),
            ));
        }
        Ok(())
    }
}

impl Default for KeystoneSettings {
    fn default() -> Self {
        KeystoneSettings {
            auth_url: None,
            username: String::new(),
            password: None,
            project_name: String::new(),
            user_domain_name: "Default".to_owned(),
            project_domain_name: "Default".to_owned(),
            www_authenticate_uri: None,
            token_cache_time: Self::DEFAULT_TOKEN_CACHE_TIME,
            cafile: None,
            http_connect_timeout: Self::DEFAULT_HTTP_CONNECT_TIMEOUT,
        }
    }
}

// By hand, so that the password never reaches a log.
impl fmt::Debug for KeystoneSettings {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("KeystoneSettings")
            .field("auth_url", &self.auth_url)
            .field("username", &self.username)
            .field("password", &self.password.as_ref().map(|_| "<hidden>"))
            .field("project_name", &self.project_name)
            .field("user_domain_name", &self.user_domain_name)
            .field("project_domain_name", &self.project_domain_name)
            .field("www_authenticate_uri", &self.www_authenticate_uri)
            .field("token_cache_time", &self.token_cache_time)
            .field("cafile", &self.cafile)
            .field("http_connect_timeout", &self.http_connect_timeout)
            .finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn good() -> KeystoneSettings {
        toml::from_str(
            "auth_url = \"http://127.0.0.1:5000/v3\"\nusername = \"nova\"\n\
             password = \"hunter2\"\nproject_name = \"service\"",
        )
        .unwrap()
    }

    #[test]
    fn reads_nova_conf_keys_with_keystonemiddleware_defaults() {
        let s = good();
        assert_eq!(s.validate(), Ok(()));
        assert_eq!(
            (s.user_domain_name.as_str(), s.project_domain_name.as_str()),
            ("Default", "Default")
        );
        assert_eq!(s.cache_time(), Duration::from_secs(300));
        assert_eq!(s.timeout(), Duration::from_secs(5));
        assert_eq!(s.www_authenticate_uri(), "http://127.0.0.1:5000/v3");
        assert!(toml::from_str::<KeystoneSettings>("memcached_servers = \"x\"").is_err());
    }

    #[test]
    fn refusals_name_the_key() {
        type Spoil = fn(&mut KeystoneSettings);
        let cases: [(Spoil, &str); 6] = [
            (|s| s.auth_url = None, "auth_url"),
            (|s| s.auth_url = Some("keystone:5000".into()), "auth_url"),
            (|s| s.username.clear(), "username"),
            (|s| s.password = None, "password"),
            (|s| s.http_connect_timeout = 0, "http_connect_timeout"),
            (|s| s.token_cache_time = 86_401, "token_cache_time"),
        ];
        for (spoil, key) in cases {
            let mut s = good();
            spoil(&mut s);
            assert_eq!(s.validate().unwrap_err().key, key);
        }
    }

    #[test]
    fn the_password_is_never_shown() {
        assert!(!format!("{:?}", good()).contains("hunter2"));
    }
}
