//! The identity provider: a caller's `X-Auth-Token` checked with
//! Keystone, the answer cached by the token's hash.

use std::time::{Duration, SystemTime};

use async_trait::async_trait;
use axum::http::{HeaderMap, HeaderValue};
use consoled_api::IdentityProvider;
use consoled_core::{ConsoleError, Identity, Token};
use tokio::sync::Mutex;
use tokio::time::Instant;

use crate::cache::ValidationCache;
use crate::client::{CallError, Client, ServiceToken, Validation};
use crate::settings::KeystoneSettings;

/// Validations kept at most: a few MiB, far beyond the callers of one API
/// node within a cache time.
const CACHE_ENTRIES: usize = 10_000;

/// Renew the service token once this little of its life is left, or a
/// quarter of it for short-lived tokens, so that no validation carries a
/// token that expires on the way.
const RENEW_BEFORE: Duration = Duration::from_secs(60);

/// Nova's message for a missing or invalid token.
const UNAUTHORIZED: &str = "The request you have made requires authentication.";

/// Why [`KeystoneIdentity::new`] cannot build a provider.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum KeystoneError {
    /// The settings cannot be honoured.
    #[error("{0}")]
    Settings(#[from] consoled_core::SettingError),
    /// The CA file cannot be read or holds no certificate.
    #[error("keystone_authtoken.cafile {path}: {reason}")]
    CaFile {
        /// The configured file.
        path: String,
        /// What is wrong with it.
        reason: String,
    },
    /// The HTTP client cannot be built.
    #[error("HTTP client for Keystone: {0}")]
    Client(String),
}

/// Authenticates callers with Keystone, as keystonemiddleware does for Nova.
///
/// A caller's `X-Auth-Token` is validated with `GET {auth_url}/auth/tokens`
/// (our service token in `X-Auth-Token`, theirs in `X-Subject-Token`); the
/// service token comes from the service user's password, scoped to its
/// project, and is renewed before it expires and whenever Keystone refuses
/// it. The caller is the token's user in the token's project, with its
/// roles. Keystone down or failing is a 503, never a 401: the caller's
/// token may well be good; it is asked again on the next request, so the
/// API recovers by itself. Validations are reused for `token_cache_time`,
/// never past the token's expiry, keyed by the token's SHA-256.
pub struct KeystoneIdentity {
    settings: KeystoneSettings,
    client: Client,
    service: Mutex<Option<ServiceToken>>,
    cache: ValidationCache,
    challenge: HeaderValue,
}

impl KeystoneIdentity {
    /// A provider for `settings`. Nothing is asked of Keystone yet, so that
    /// the API starts while Keystone is still down.
    ///
    /// # Errors
    /// [`KeystoneError`] when the settings do not validate or the CA file
    /// is unusable.
    pub fn new(settings: KeystoneSettings) -> Result<Self, KeystoneError> {
        settings.validate()?;
        let mut http = reqwest::Client::builder()
            .connect_timeout(settings.timeout())
            .timeout(settings.timeout())
            .user_agent(concat!("consoled/", env!("CARGO_PKG_VERSION")));
        if let Some(path) = &settings.cafile {
            let ca_error = |reason: String| KeystoneError::CaFile {
                path: path.display().to_string(),
                reason,
            };
            let pem = std::fs::read(path).map_err(|e| ca_error(e.to_string()))?;
            let certs =
                reqwest::Certificate::from_pem_bundle(&pem).map_err(|e| ca_error(e.to_string()))?;
            if certs.is_empty() {
                return Err(ca_error("no PEM certificate in the file".into()));
            }
            for cert in certs {
                http = http.add_root_certificate(cert);
            }
        }
        let http = http
            .build()
            .map_err(|e| KeystoneError::Client(e.to_string()))?;
        let auth_url = settings.auth_url.clone().unwrap_or_default();
        let challenge = HeaderValue::from_str(&format!(
            "Keystone uri=\"{}\"",
            settings.www_authenticate_uri()
        ))
        .map_err(|e| {
            KeystoneError::Settings(consoled_core::SettingError::new(
                "www_authenticate_uri",
                e.to_string(),
            ))
        })?;
        Ok(KeystoneIdentity {
            client: Client::new(http, &auth_url),
            service: Mutex::new(None),
            cache: ValidationCache::new(CACHE_ENTRIES),
            challenge,
            settings,
        })
    }

    /// A service token good for a while yet; a fresh one when `renew`.
    async fn service_token(&self, renew: bool) -> Result<String, CallError> {
        let mut held = self.service.lock().await;
        if let Some(token) = held.as_ref().filter(|t| !renew && !is_due(t)) {
            return Ok(token.token.clone());
        }
        let fresh = self.client.service_token(&self.settings).await?;
        tracing::debug!(fingerprint = %Token::new(fresh.token.as_str()).hash().fingerprint(), "obtained a Keystone service token");
        let token = fresh.token.clone();
        *held = Some(fresh);
        Ok(token)
    }

    /// Keystone's word on `subject`, renewing the service token once if
    /// Keystone refuses it.
    async fn ask(&self, subject: &str) -> Result<Validation, CallError> {
        let service = self.service_token(false).await?;
        match self.client.validate(&service, subject).await {
            Err(CallError::ServiceTokenRefused) => {
                let service = self.service_token(true).await?;
                match self.client.validate(&service, subject).await {
                    Err(CallError::ServiceTokenRefused) => Err(CallError::Unavailable(
                        "Keystone refuses a fresh service token".into(),
                    )),
                    other => other,
                }
            }
            other => other,
        }
    }

    /// The identity of a validation, or 403 for a token of no project.
    fn identity_of(validation: Validation) -> Result<Identity, ConsoleError> {
        let project = validation.project_id.ok_or_else(|| {
            ConsoleError::Forbidden("The token is not scoped to a project.".into())
        })?;
        Ok(Identity::new(validation.user_id, project, validation.roles))
    }
}

/// Whether `token` should be renewed before its next use.
fn is_due(token: &ServiceToken) -> bool {
    let life = token
        .expires
        .duration_since(token.issued)
        .unwrap_or_default();
    let margin = RENEW_BEFORE.min(life / 4);
    token
        .expires
        .duration_since(SystemTime::now())
        .map_or(true, |left| left <= margin)
}

#[async_trait]
impl IdentityProvider for KeystoneIdentity {
    async fn identify(&self, headers: &HeaderMap) -> Result<Identity, ConsoleError> {
        let unauthorized = || ConsoleError::Unauthorized(UNAUTHORIZED.into());
        let mut values = headers.get_all("x-auth-token").iter();
        let subject = match (values.next(), values.next()) {
            (Some(only), None) => only.to_str().ok().map(str::trim).filter(|t| !t.is_empty()),
            _ => None,
        }
        .ok_or_else(unauthorized)?;
        let hash = Token::new(subject).hash();
        let now = Instant::now();
        if let Some(identity) = self.cache.get(&hash, now) {
            return Ok(identity);
        }
        // One bound on the whole exchange, renewal included: a hanging
        // Keystone costs a request its timeout, not a multiple of it.
        let asked = tokio::time::timeout(self.settings.timeout(), self.ask(subject)).await;
        let validation = match asked {
            Ok(Ok(validation)) => validation,
            Ok(Err(CallError::InvalidToken)) => {
                tracing::info!(token = %hash.fingerprint(), "Keystone does not know the caller's token");
                return Err(unauthorized());
            }
            Ok(Err(e)) => {
                tracing::warn!(error = %e, "cannot validate a token with Keystone");
                return Err(ConsoleError::ServiceUnavailable(
                    "The identity service is unavailable; retry later.".into(),
                ));
            }
            Err(_) => {
                tracing::warn!(
                    timeout_s = self.settings.http_connect_timeout,
                    "Keystone did not answer in time"
                );
                return Err(ConsoleError::ServiceUnavailable(
                    "The identity service did not answer in time; retry later.".into(),
                ));
            }
        };
        let left = validation
            .expires
            .duration_since(SystemTime::now())
            .unwrap_or_default();
        if left.is_zero() {
            return Err(unauthorized());
        }
        let until = now + self.settings.cache_time().min(left);
        let identity = Self::identity_of(validation)?;
        self.cache.put(hash, identity.clone(), until, now);
        Ok(identity)
    }

    fn challenge(&self) -> Option<HeaderValue> {
        Some(self.challenge.clone())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn token(life_s: u64, left_s: i64) -> ServiceToken {
        let now = SystemTime::now();
        let expires = if left_s >= 0 {
            now + Duration::from_secs(left_s as u64)
        } else {
            now - Duration::from_secs((-left_s) as u64)
        };
        ServiceToken {
            token: "t".into(),
            issued: expires - Duration::from_secs(life_s),
            expires,
        }
    }

    #[test]
    fn service_tokens_are_renewed_before_they_expire() {
        assert!(!is_due(&token(3600, 600)));
        assert!(is_due(&token(3600, 30)));
        assert!(is_due(&token(3600, -1)));
        // A 20 s token: renewed in its last 5 s.
        assert!(!is_due(&token(20, 10)));
        assert!(is_due(&token(20, 4)));
    }

    #[test]
    fn an_unscoped_token_is_403() {
        let v = Validation {
            user_id: "u".into(),
            project_id: None,
            roles: vec!["admin".into()],
            expires: SystemTime::now(),
        };
        assert_eq!(KeystoneIdentity::identity_of(v).unwrap_err().status(), 403);
    }
}
