//! Validations kept for a while, keyed by the SHA-256 of the token: no
//! user token is kept in clear.

use std::collections::HashMap;
use std::sync::{Mutex, MutexGuard};

use consoled_core::{Identity, TokenHash};
use tokio::time::Instant;

/// A bounded map from a token's hash to the identity Keystone gave it,
/// each entry until its own deadline.
pub(crate) struct ValidationCache {
    entries: Mutex<HashMap<TokenHash, (Identity, Instant)>>,
    capacity: usize,
}

impl ValidationCache {
    /// An empty cache of at most `capacity` entries.
    pub(crate) fn new(capacity: usize) -> Self {
        ValidationCache {
            entries: Mutex::new(HashMap::new()),
            capacity,
        }
    }

    /// The identity of `hash`, if it was validated and its time is not up.
    pub(crate) fn get(&self, hash: &TokenHash, now: Instant) -> Option<Identity> {
        let mut entries = self.lock();
        match entries.get(hash) {
            Some((identity, until)) if *until > now => Some(identity.clone()),
            Some(_) => {
                entries.remove(hash);
                None
            }
            None => None,
        }
    }

    /// Keeps `identity` for `hash` until `until`. A full cache drops its
    /// expired entries first, then an arbitrary one: a bound on memory
    /// matters more than which validation is repeated.
    pub(crate) fn put(&self, hash: TokenHash, identity: Identity, until: Instant, now: Instant) {
        if self.capacity == 0 || until <= now {
            return;
        }
        let mut entries = self.lock();
        if entries.len() >= self.capacity && !entries.contains_key(&hash) {
            entries.retain(|_, (_, u)| *u > now);
            if entries.len() >= self.capacity {
                if let Some(victim) = entries.keys().next().copied() {
                    entries.remove(&victim);
                }
            }
        }
        entries.insert(hash, (identity, until));
    }

    /// How many entries it holds.
    #[cfg(test)]
    pub(crate) fn len(&self) -> usize {
        self.lock().len()
    }

    // Every operation leaves the map whole: a poisoned lock is still good.
    fn lock(&self) -> MutexGuard<'_, HashMap<TokenHash, (Identity, Instant)>> {
        self.entries
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use consoled_core::Token;

    use super::*;

    fn id(n: usize) -> (TokenHash, Identity) {
        (
            Token::new(format!("t{n}")).hash(),
            Identity::new("u", format!("p{n}"), ["member"]),
        )
    }

    #[test]
    fn entries_last_until_their_deadline_and_the_size_is_bounded() {
        let cache = ValidationCache::new(3);
        let now = Instant::now();
        let later = now + Duration::from_secs(10);
        for n in 0..3 {
            let (hash, identity) = id(n);
            cache.put(hash, identity, later, now);
        }
        assert_eq!(cache.get(&id(1).0, now), Some(id(1).1));
        assert_eq!(cache.get(&id(1).0, later), None);
        let (hash, identity) = id(9);
        cache.put(hash, identity, later, now);
        assert_eq!(cache.len(), 3);
        assert!(cache.get(&id(9).0, now).is_some());
        // Past its deadline or with caching off, nothing is kept.
        cache.put(id(5).0, id(5).1, now, now);
        assert!(cache.get(&id(5).0, now).is_none());
        let off = ValidationCache::new(0);
        off.put(id(1).0, id(1).1, later, now);
        assert!(off.get(&id(1).0, now).is_none());
    }
}
