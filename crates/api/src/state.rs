//! What every handler shares.

use std::sync::Arc;

use consoled_core::Dispatcher;

use crate::identity::{IdentityProvider, NoAuth};

/// The API's shared state: the dispatcher that does the console work and
/// the identity provider that says who is calling.
///
/// Cheap to clone.
#[derive(Clone)]
pub struct ApiState {
    /// Creates consoles, resolves tokens and servers.
    pub dispatcher: Dispatcher,
    /// Authenticates each request.
    pub identity: Arc<dyn IdentityProvider>,
}

impl ApiState {
    /// State over `dispatcher`, authenticating with [`NoAuth`] until
    /// [`ApiState::with_identity`] says otherwise.
    pub fn new(dispatcher: Dispatcher) -> Self {
        ApiState {
            dispatcher,
            identity: Arc::new(NoAuth),
        }
    }

    /// Replaces the identity provider (an embedder's own authentication).
    pub fn with_identity(mut self, identity: Arc<dyn IdentityProvider>) -> Self {
        self.identity = identity;
        self
    }
}
