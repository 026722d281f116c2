//! What every handler shares.

use std::sync::Arc;

use axum::extract::FromRef;
use consoled_core::Dispatcher;

use crate::identity::IdentityProvider;

/// The API's shared state: the dispatcher that does the console work and
/// the identity provider that says who is calling.
///
/// Cheap to clone. The extractors of this crate take only the part they
/// need (through [`FromRef`]), so an embedder can mount the handlers' parts
/// in a state of its own.
#[derive(Clone)]
pub struct ApiState {
    /// Creates consoles, resolves tokens and servers.
    pub dispatcher: Dispatcher,
    /// Authenticates each request.
    pub identity: Arc<dyn IdentityProvider>,
}

impl ApiState {
    /// State over `dispatcher`, authenticating every request with
    /// `identity`. There is no default: an embedder chooses who may call
    /// (`NoAuth` is for development and tests only).
    pub fn new(dispatcher: Dispatcher, identity: Arc<dyn IdentityProvider>) -> Self {
        ApiState {
            dispatcher,
            identity,
        }
    }
}

impl FromRef<ApiState> for Dispatcher {
    fn from_ref(state: &ApiState) -> Self {
        state.dispatcher.clone()
    }
}

impl FromRef<ApiState> for Arc<dyn IdentityProvider> {
    fn from_ref(state: &ApiState) -> Self {
        state.identity.clone()
    }
}
