//! Who is calling: the pluggable provider and the development `noauth`.

use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use axum::http::HeaderMap;
use consoled_core::{ConsoleError, Identity};

use crate::errors::ApiError;
use crate::state::ApiState;

/// Authenticates a request from its headers. Embedders supply their own
/// (a Keystone token check, a gateway's headers); [`NoAuth`] is for
/// development and tests.
pub trait IdentityProvider: Send + Sync + 'static {
    /// The caller of a request with these headers.
    ///
    /// # Errors
    /// [`ConsoleError::Unauthorized`] when the credentials are missing or
    /// invalid; [`ConsoleError::ServiceUnavailable`] when the provider's own
    /// dependency is down.
    fn identify(&self, headers: &HeaderMap) -> Result<Identity, ConsoleError>;
}

/// Nova's `noauth2` development mode: `X-Auth-Token: <user>:<project>`
/// authenticates as that user in that project, with role `member`; a third
/// field lists roles (`<user>:<project>:<role>[,<role>...]`). The user
/// `admin` is always an admin. A missing token is a 401.
///
/// Like `noauth2`, a token without `:` names both the user and the project.
#[derive(Debug, Clone, Copy, Default)]
pub struct NoAuth;

impl IdentityProvider for NoAuth {
    fn identify(&self, headers: &HeaderMap) -> Result<Identity, ConsoleError> {
        let unauthorized = || ConsoleError::Unauthorized("Authentication required".into());
        let mut tokens = headers.get_all("x-auth-token").iter();
        // Two tokens would leave it to us to pick whom to believe.
        let token = match (tokens.next(), tokens.next()) {
            (Some(only), None) => Some(only),
            _ => None,
        };
        let token = token
            .and_then(|v| v.to_str().ok())
            .map(str::trim)
            .filter(|t| !t.is_empty())
            .ok_or_else(unauthorized)?;
        let mut fields = token.splitn(3, ':');
        let user = fields
            .next()
            .filter(|u| !u.is_empty())
            .ok_or_else(unauthorized)?;
        let project = fields.next().filter(|p| !p.is_empty()).unwrap_or(user);
        let mut roles: Vec<String> = match fields.next() {
            Some(list) => list
                .split(',')
                .map(|r| r.trim().to_ascii_lowercase())
                .filter(|r| !r.is_empty())
                .collect(),
            None => vec!["member".to_owned()],
        };
        if roles.is_empty() {
            return Err(unauthorized());
        }
        if user == "admin" && !roles.iter().any(|r| r == "admin") {
            roles.push("admin".to_owned());
        }
        Ok(Identity::new(user, project, roles))
    }
}

/// The authenticated caller of the current request, as an extractor.
#[derive(Debug, Clone)]
pub struct Caller(pub Identity);

impl FromRequestParts<ApiState> for Caller {
    type Rejection = ApiError;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &ApiState,
    ) -> Result<Self, Self::Rejection> {
        state
            .identity
            .identify(&parts.headers)
            .map(Caller)
            .map_err(ApiError)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn with_token(token: &str) -> HeaderMap {
        let mut h = HeaderMap::new();
        h.insert("x-auth-token", token.parse().unwrap());
        h
    }

    #[test]
    fn user_project_and_roles() {
        let id = NoAuth.identify(&with_token("alice:demo")).unwrap();
        assert_eq!(
            (id.user_id.as_str(), id.project_id.as_str()),
            ("alice", "demo")
        );
        assert_eq!(id.roles, ["member"]);
        let id = NoAuth.identify(&with_token("bob:demo:reader")).unwrap();
        assert_eq!(id.roles, ["reader"]);
        assert!(!id.can_create_console("demo"));
        let id = NoAuth
            .identify(&with_token("carol:demo:Reader, member"))
            .unwrap();
        assert_eq!(id.roles, ["reader", "member"]);
    }

    #[test]
    fn admin_user_is_admin() {
        let id = NoAuth.identify(&with_token("admin:admin")).unwrap();
        assert!(id.is_admin());
        let id = NoAuth.identify(&with_token("admin:ops:reader")).unwrap();
        assert!(id.is_admin() && id.has_role("reader"));
    }

    #[test]
    fn single_field_names_user_and_project() {
        let id = NoAuth.identify(&with_token("demo")).unwrap();
        assert_eq!(
            (id.user_id.as_str(), id.project_id.as_str()),
            ("demo", "demo")
        );
    }

    #[test]
    fn missing_or_empty_is_unauthorized() {
        for h in [
            HeaderMap::new(),
            with_token(""),
            with_token(":demo"),
            with_token("u:p:,"),
        ] {
            assert_eq!(NoAuth.identify(&h).unwrap_err().status(), 401);
        }
    }
}
