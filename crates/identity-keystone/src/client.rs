//! Keystone's v3 token API, as keystonemiddleware calls it: the service's
//! own token by password, and the validation of a caller's token.

use std::time::SystemTime;

use reqwest::StatusCode;
use serde::Deserialize;
use serde_json::json;

use crate::settings::KeystoneSettings;

/// What went wrong talking to Keystone.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub(crate) enum CallError {
    /// The caller's token is unknown, expired or revoked (404).
    #[error("the token is not valid")]
    InvalidToken,
    /// The service's own token was refused (401): renew it and retry.
    #[error("Keystone refused the service token")]
    ServiceTokenRefused,
    /// Keystone cannot be reached, answered 5xx, or answered what it should
    /// not (the service user may not validate tokens, say).
    #[error("{0}")]
    Unavailable(String),
}

/// The service's own token, and when it stops being good.
#[derive(Clone)]
pub(crate) struct ServiceToken {
    pub(crate) token: String,
    pub(crate) issued: SystemTime,
    pub(crate) expires: SystemTime,
}

/// A validated caller token's user, project (when project-scoped), roles
/// and expiry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Validation {
    pub(crate) user_id: String,
    pub(crate) project_id: Option<String>,
    pub(crate) roles: Vec<String>,
    pub(crate) expires: SystemTime,
}

#[derive(Deserialize)]
struct TokenBody {
    token: TokenInfo,
}

#[derive(Deserialize)]
struct TokenInfo {
    expires_at: String,
    #[serde(default)]
    user: Option<Named>,
    #[serde(default)]
    project: Option<Named>,
    #[serde(default)]
    roles: Vec<Role>,
}

#[derive(Deserialize)]
struct Named {
    id: String,
}

#[derive(Deserialize)]
struct Role {
    name: String,
}

/// Keystone's `expires_at` (`2026-12-01T09:00:00.000000Z`).
fn parse_expiry(text: &str) -> Result<SystemTime, CallError> {
    humantime::parse_rfc3339_weak(text.trim_end_matches('Z'))
        .map_err(|_| CallError::Unavailable(format!("Keystone sent an unreadable expiry {text:?}")))
}

fn unreachable(e: &reqwest::Error) -> CallError {
    // reqwest's message names the URL, never a header: no token in it.
    let what = if e.is_timeout() {
        "did not answer in time"
    } else if e.is_connect() {
        "cannot be reached"
    } else {
        "failed"
    };
    CallError::Unavailable(format!("Keystone {what}: {e}"))
}

/// The two calls, on one pooled HTTP client.
pub(crate) struct Client {
    http: reqwest::Client,
    tokens_url: String,
}

impl Client {
    pub(crate) fn new(http: reqwest::Client, auth_url: &str) -> Self {
        Client {
            http,
            tokens_url: format!("{}/auth/tokens", auth_url.trim_end_matches('/')),
        }
    }

    /// `POST /auth/tokens` with the service user's password, scoped to its
    /// project.
    pub(crate) async fn service_token(
        &self,
        s: &KeystoneSettings,
    ) -> Result<ServiceToken, CallError> {
        let body = json!({"auth": {
            "identity": {"methods": ["password"], "password": {"user": {
                "name": s.username,
                "domain": {"name": s.user_domain_name},
                "password": s.password.as_deref().unwrap_or_default(),
            }}},
            "scope": {"project": {"name": s.project_name, "domain": {"name": s.project_domain_name}}},
        }});
        let issued = SystemTime::now();
        let response = self
            .http
            .post(&self.tokens_url)
            .json(&body)
            .send()
            .await
            .map_err(|e| unreachable(&e))?;
        let status = response.status();
        if status != StatusCode::CREATED && status != StatusCode::OK {
            return Err(CallError::Unavailable(format!(
                "Keystone refused the service user {:?} in project {:?}: {status}",
                s.username, s.project_name
            )));
        }
        let token = response
            .headers()
            .get("x-subject-token")
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned)
            .ok_or_else(|| CallError::Unavailable("Keystone issued no X-Subject-Token".into()))?;
        let info: TokenBody = response
            .json()
            .await
            .map_err(|e| CallError::Unavailable(format!("Keystone's token answer: {e}")))?;
        Ok(ServiceToken {
            token,
            issued,
            expires: parse_expiry(&info.token.expires_at)?,
        })
    }

    /// `GET /auth/tokens`: the caller's token in `X-Subject-Token`, ours in
    /// `X-Auth-Token`.
    pub(crate) async fn validate(
        &self,
        service: &str,
        subject: &str,
    ) -> Result<Validation, CallError> {
        let response = self
            .http
            .get(&self.tokens_url)
            .header("x-auth-token", service)
            .header("x-subject-token", subject)
            .send()
            .await
            .map_err(|e| unreachable(&e))?;
        match response.status() {
            StatusCode::OK => {}
            StatusCode::NOT_FOUND => return Err(CallError::InvalidToken),
            StatusCode::UNAUTHORIZED => return Err(CallError::ServiceTokenRefused),
            other => {
                return Err(CallError::Unavailable(format!(
                    "Keystone answered {other} to a token validation"
                )))
            }
        }
        let info: TokenBody = response
            .json()
            .await
            .map_err(|e| CallError::Unavailable(format!("Keystone's validation answer: {e}")))?;
        let token = info.token;
        let user = token.user.ok_or_else(|| {
            CallError::Unavailable("Keystone validated a token of no user".into())
        })?;
        Ok(Validation {
            user_id: user.id,
            project_id: token.project.map(|p| p.id),
            roles: token
                .roles
                .into_iter()
                .map(|r| r.name.to_ascii_lowercase())
                .collect(),
            expires: parse_expiry(&token.expires_at)?,
        })
    }
}

#[cfg(test)]
mod tests {
    use std::time::{Duration, UNIX_EPOCH};

    use super::*;

    #[test]
    fn keystone_expiries() {
        let at = parse_expiry("2026-12-01T09:00:00.000000Z").unwrap();
        assert_eq!(
            at.duration_since(UNIX_EPOCH).unwrap().as_secs(),
            1_796_115_600
        );
        let plain = parse_expiry("2026-12-01T09:00:00Z").unwrap();
        assert_eq!(plain.duration_since(at).unwrap_or_default(), Duration::ZERO);
        assert!(parse_expiry("tomorrow").is_err());
    }
}
