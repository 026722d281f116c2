//! `[consoles.<type>] sessions = "exclusive"` on one node: at most one
//! session per server and type, claimed before the backend is opened so
//! that two at once cannot both pass.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, PoisonError};

/// The consoles this node has open exclusively. Shared by its listeners.
#[derive(Debug, Default)]
pub(crate) struct Claims {
    held: Mutex<HashMap<(String, String), ()>>,
}

impl Claims {
    /// The console of `server` and `console_type` for one session, or
    /// `None` while another session of this node holds it.
    pub(crate) fn claim(self: &Arc<Self>, server: &str, console_type: &str) -> Option<Claim> {
        let key = (server.to_owned(), console_type.to_owned());
        let mut held = self.held.lock().unwrap_or_else(PoisonError::into_inner);
        if held.contains_key(&key) {
            return None;
        }
        held.insert(key.clone(), ());
        Some(Claim {
            claims: Arc::clone(self),
            key,
        })
    }
}

/// A held console; released when dropped.
#[derive(Debug)]
pub(crate) struct Claim {
    claims: Arc<Claims>,
    key: (String, String),
}

impl Drop for Claim {
    fn drop(&mut self) {
        self.claims
            .held
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .remove(&self.key);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_claim_per_console_until_it_is_released() {
        let claims = Arc::new(Claims::default());
        let first = claims.claim("vm-1", "serial").expect("free");
        assert!(claims.claim("vm-1", "serial").is_none());
        assert!(claims.claim("vm-1", "novnc").is_some(), "another type");
        assert!(claims.claim("vm-2", "serial").is_some(), "another server");
        drop(first);
        assert!(claims.claim("vm-1", "serial").is_some());
    }
}
