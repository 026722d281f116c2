//! What every handler shares.

use std::sync::Arc;

use axum::extract::FromRef;
use consoled_core::Dispatcher;

use crate::identity::IdentityProvider;
use crate::metrics::ApiMetrics;

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
    /// Where requests and created consoles are counted, if anywhere.
    pub metrics: Option<Arc<ApiMetrics>>,
}

impl ApiState {
    /// State over `dispatcher`, authenticating every request with
    /// `identity`. There is no default: an embedder chooses who may call
    /// (`NoAuth` is for development and tests only).
    pub fn new(dispatcher: Dispatcher, identity: Arc<dyn IdentityProvider>) -> Self {
        ApiState {
            dispatcher,
            identity,
            metrics: None,
        }
    }

    /// Counts every request and every console created in `metrics`
    /// (without it, nothing is counted).
    pub fn with_metrics(mut self, metrics: Arc<ApiMetrics>) -> Self {
        self.metrics = Some(metrics);
        self
    }

    /// Counts a console just created, when counting.
    pub(crate) fn console_created(&self, console_type: &str) {
        if let Some(metrics) = &self.metrics {
            metrics.console_created(console_type);
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
