//! How records are named in Redis.

/// What a revoked token's record becomes in a Redis Cluster: not JSON, so
/// never mistaken for a record, and kept until the token's expiry so that
/// a write racing the revocation cannot bring the token back.
pub(crate) const TOMBSTONE: &str = "revoked";

/// The key names of one store, all under one prefix.
#[derive(Debug, Clone)]
pub(crate) struct Keys {
    prefix: String,
}

impl Keys {
    pub(crate) fn new(prefix: impl Into<String>) -> Self {
        Keys {
            prefix: prefix.into(),
        }
    }

    pub(crate) fn prefix(&self) -> &str {
        &self.prefix
    }

    /// What goes before a token hash's hex to name its record.
    pub(crate) fn token_prefix(&self) -> String {
        format!("{}token:", self.prefix)
    }

    /// The record of a token, named by its hash's hex.
    pub(crate) fn token(&self, hash_hex: &str) -> String {
        format!("{}token:{hash_hex}", self.prefix)
    }

    /// The record named by a member of a server's set, taken as raw bytes
    /// since the set may hold anything someone else wrote there.
    pub(crate) fn token_from_member(&self, member: &[u8]) -> Vec<u8> {
        let mut key = self.token_prefix().into_bytes();
        key.extend_from_slice(member);
        key
    }

    /// The set of token hashes of one server.
    pub(crate) fn server(&self, instance_uuid: &str) -> String {
        format!("{}server:{instance_uuid}", self.prefix)
    }

    /// What goes before a project id to name its quota set.
    pub(crate) fn project_prefix(&self) -> String {
        format!("{}project:", self.prefix)
    }

    /// The sorted set of one project's live token hashes, scored by their
    /// expiry: its quota.
    pub(crate) fn project(&self, project_id: &str) -> String {
        format!("{}project:{project_id}", self.prefix)
    }

    /// A SCAN pattern matching every server set of this prefix, and only
    /// those: the prefix is an operator's choice and may hold glob
    /// characters.
    pub(crate) fn server_pattern(&self) -> String {
        let mut pattern = String::with_capacity(self.prefix.len() + 8);
        for c in self.prefix.chars() {
            if matches!(c, '*' | '?' | '[' | ']' | '\\') {
                pattern.push('\\');
            }
            pattern.push(c);
        }
        pattern.push_str("server:*");
        pattern
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_sit_under_the_prefix() {
        let keys = Keys::new("consoled:");
        assert_eq!(keys.token("ab12"), "consoled:token:ab12");
        assert_eq!(keys.server("uuid-1"), "consoled:server:uuid-1");
        assert_eq!(keys.token_from_member(b"ab12"), b"consoled:token:ab12");
        assert_eq!(keys.server_pattern(), "consoled:server:*");
    }

    #[test]
    fn glob_characters_in_the_prefix_are_escaped() {
        let keys = Keys::new(r"a*b?[c]\d:");
        assert_eq!(keys.server_pattern(), r"a\*b\?\[c\]\\d:server:*");
    }
}
