//! Request ids: `req-<uuid>`, the form OpenStack's clients expect.

use std::cell::RefCell;
use std::fmt;

use axum::http::HeaderValue;

const PREFIX: &[u8; 4] = b"req-";
const LEN: usize = PREFIX.len() + uuid::fmt::Hyphenated::LENGTH;

thread_local! {
    /// Seeded from the OS so that threads, processes and nodes draw apart.
    static ID_BITS: RefCell<fastrand::Rng> =
        RefCell::new(fastrand::Rng::with_seed(uuid::Uuid::new_v4().as_u64_pair().0));
}

/// A request's `x-openstack-request-id`: `req-` and a random (version 4)
/// UUID, formatted without allocating.
///
/// Its bits come from a per-thread generator seeded once from the OS, not
/// from the OS on every request: an id must be unique, not secret, and the
/// OS generator costs a system call per draw. Console tokens, which must
/// be unguessable, still come from the OS each time.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(crate) struct RequestId([u8; LEN]);

impl RequestId {
    /// A fresh id.
    pub(crate) fn new() -> Self {
        let bits = ID_BITS.with(|rng| rng.borrow_mut().u128(..));
        let uuid = uuid::Builder::from_random_bytes(bits.to_le_bytes()).into_uuid();
        let mut text = [0u8; LEN];
        text[..PREFIX.len()].copy_from_slice(PREFIX);
        uuid.hyphenated().encode_lower(&mut text[PREFIX.len()..]);
        RequestId(text)
    }

    /// The id as text.
    pub(crate) fn as_str(&self) -> &str {
        // ASCII by construction: the prefix and a hyphenated UUID.
        std::str::from_utf8(&self.0).unwrap_or("req-")
    }

    /// The id as a header value.
    pub(crate) fn header_value(&self) -> Option<HeaderValue> {
        HeaderValue::from_bytes(&self.0).ok()
    }
}

impl fmt::Display for RequestId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nova_form_and_fresh_each_time() {
        let a = RequestId::new();
        let text = a.as_str();
        let uuid = text.strip_prefix("req-").expect("req- prefix");
        let parsed = uuid::Uuid::parse_str(uuid).unwrap();
        assert_eq!(parsed.get_version_num(), 4, "{text}");
        assert_eq!(
            parsed.hyphenated().to_string(),
            uuid,
            "lower case, hyphenated"
        );
        assert_eq!(a.header_value().unwrap(), text);
        let many: std::collections::HashSet<_> = (0..10_000)
            .map(|_| RequestId::new().as_str().to_owned())
            .collect();
        assert_eq!(many.len(), 10_000);
    }
}
