//! Who is calling: the pluggable provider and the development `noauth`.

use std::sync::Arc;

use async_trait::async_trait;
use axum::extract::{FromRef, FromRequestParts};
use axum::http::request::Parts;
use axum::http::{header, HeaderMap, HeaderValue};
use axum::response::{IntoResponse, Response};
use consoled_core::{ConsoleError, Identity};

use crate::errors::ApiError;

/// Authenticates a request from its headers. Embedders supply their own
/// (a Keystone token check, a gateway's headers); [`NoAuth`] is for
/// development and tests.
///
/// Async because a real provider asks another service (Keystone validates
/// tokens over HTTP); `#[async_trait]` keeps it usable as
/// `Arc<dyn IdentityProvider>`. `examples/compute` in the repository looks
/// API keys up in its own database.
///
/// # Example
///
/// Behind a gateway that has already authenticated the caller and says
/// who it is in headers of its own:
///
/// ```
/// use consoled_api::IdentityProvider;
/// use consoled_core::{async_trait, ConsoleError, Identity};
/// use axum::http::{HeaderMap, HeaderValue};
///
/// struct GatewayHeaders;
///
/// #[async_trait]
/// impl IdentityProvider for GatewayHeaders {
///     async fn identify(&self, headers: &HeaderMap) -> Result<Identity, ConsoleError> {
///         let header = |name: &str| headers.get(name).and_then(|v| v.to_str().ok());
///         match (header("x-gateway-user"), header("x-gateway-project")) {
///             (Some(user), Some(project)) => {
///                 let roles = header("x-gateway-roles").unwrap_or("member").split(',');
///                 Ok(Identity::new(user, project, roles))
///             }
///             _ => Err(ConsoleError::Unauthorized("Sign in through the gateway.".into())),
///         }
///     }
///
///     fn challenge(&self) -> Option<HeaderValue> {
///         Some(HeaderValue::from_static("Gateway"))
///     }
/// }
/// ```
#[async_trait]
pub trait IdentityProvider: Send + Sync + 'static {
    /// The caller of a request with these headers.
    ///
    /// # Errors
    /// [`ConsoleError::Unauthorized`] when the credentials are missing or
    /// invalid; [`ConsoleError::ServiceUnavailable`] when the provider's own
    /// dependency is down.
    async fn identify(&self, headers: &HeaderMap) -> Result<Identity, ConsoleError>;

    /// The `WWW-Authenticate` value a 401 carries, telling the client where
    /// to get credentials (Keystone's is `Keystone uri="<url>"`); none by
    /// default.
    fn challenge(&self) -> Option<HeaderValue> {
        None
    }
}

/// Nova's `noauth2` development mode: `X-Auth-Token: <user>:<project>`
/// authenticates as that user in that project, with role `member`; a third
/// field lists roles (`<user>:<project>:<role>[,<role>...]`). The user
/// `admin` is always an admin. A missing token is a 401.
///
/// Like `noauth2`, a token without `:` names both the user and the project.
#[derive(Debug, Clone, Copy, Default)]
pub struct NoAuth;

#[async_trait]
impl IdentityProvider for NoAuth {
    async fn identify(&self, headers: &HeaderMap) -> Result<Identity, ConsoleError> {
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
///
/// Works in any state that yields an `Arc<dyn IdentityProvider>` through
/// [`FromRef`], such as [`ApiState`](crate::ApiState).
#[derive(Debug, Clone)]
pub struct Caller(pub Identity);

impl<S> FromRequestParts<S> for Caller
where
    Arc<dyn IdentityProvider>: FromRef<S>,
    S: Send + Sync,
{
    type Rejection = CallerRejection;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        let identity = Arc::<dyn IdentityProvider>::from_ref(state);
        identity
            .identify(&parts.headers)
            .await
            .map(Caller)
            .map_err(|error| {
                let challenge = (error.status() == 401)
                    .then(|| identity.challenge())
                    .flatten();
                CallerRejection {
                    error: ApiError(error),
                    challenge,
                }
            })
    }
}

/// Why a request has no [`Caller`]: the provider's error as a Nova fault,
/// with the provider's `WWW-Authenticate` challenge on a 401.
#[derive(Debug)]
pub struct CallerRejection {
    /// The fault.
    pub error: ApiError,
    /// The challenge a 401 carries, if the provider has one.
    pub challenge: Option<HeaderValue>,
}

impl IntoResponse for CallerRejection {
    fn into_response(self) -> Response {
        let mut response = self.error.into_response();
        if let Some(challenge) = self.challenge {
            response
                .headers_mut()
                .insert(header::WWW_AUTHENTICATE, challenge);
        }
        response
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

    #[tokio::test]
    async fn user_project_and_roles() {
        let id = NoAuth.identify(&with_token("alice:demo")).await.unwrap();
        assert_eq!(
            (id.user_id.as_str(), id.project_id.as_str()),
            ("alice", "demo")
        );
        assert_eq!(id.roles, ["member"]);
        let id = NoAuth
            .identify(&with_token("bob:demo:reader"))
            .await
            .unwrap();
        assert_eq!(id.roles, ["reader"]);
        assert!(!id.can_create_console("demo"));
        let id = NoAuth
            .identify(&with_token("carol:demo:Reader, member"))
            .await
            .unwrap();
        assert_eq!(id.roles, ["reader", "member"]);
    }

    #[tokio::test]
    async fn admin_user_is_admin() {
        let id = NoAuth.identify(&with_token("admin:admin")).await.unwrap();
        assert!(id.is_admin());
        let id = NoAuth
            .identify(&with_token("admin:ops:reader"))
            .await
            .unwrap();
        assert!(id.is_admin() && id.has_role("reader"));
    }

    #[tokio::test]
    async fn single_field_names_user_and_project() {
        let id = NoAuth.identify(&with_token("demo")).await.unwrap();
        assert_eq!(
            (id.user_id.as_str(), id.project_id.as_str()),
            ("demo", "demo")
        );
    }

    /// An embedder's own state: the extractor needs only its provider.
    #[derive(Clone)]
    struct EmbedderState {
        identity: Arc<dyn IdentityProvider>,
    }

    impl FromRef<EmbedderState> for Arc<dyn IdentityProvider> {
        fn from_ref(state: &EmbedderState) -> Self {
            state.identity.clone()
        }
    }

    #[tokio::test]
    async fn caller_works_in_any_state_that_yields_a_provider() {
        use axum::body::Body;
        use axum::http::Request;
        use tower::ServiceExt;

        async fn who(Caller(id): Caller) -> String {
            id.user_id
        }
        let app = axum::Router::new()
            .route("/", axum::routing::get(who))
            .with_state(EmbedderState {
                identity: Arc::new(NoAuth),
            });
        let request = Request::get("/")
            .header("x-auth-token", "alice:demo")
            .body(Body::empty())
            .unwrap();
        let response = app.clone().oneshot(request).await.unwrap();
        assert_eq!(response.status(), 200);
        let body = axum::body::to_bytes(response.into_body(), 64)
            .await
            .unwrap();
        assert_eq!(&body[..], b"alice");
        let anonymous = Request::get("/").body(Body::empty()).unwrap();
        assert_eq!(app.oneshot(anonymous).await.unwrap().status(), 401);
    }

    #[tokio::test]
    async fn missing_or_empty_is_unauthorized() {
        for h in [
            HeaderMap::new(),
            with_token(""),
            with_token(":demo"),
            with_token("u:p:,"),
        ] {
            assert_eq!(NoAuth.identify(&h).await.unwrap_err().status(), 401);
        }
    }
}
