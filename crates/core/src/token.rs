//! Console tokens: minted from the OS generator, kept only as a hash.

use std::fmt;

use sha2::{Digest, Sha256};

/// A console token as the client holds it.
///
/// Its `Debug` and `Display` never show the secret, so that a token cannot
/// reach a log line by accident; [`Token::expose`] is the one way out.
#[derive(Clone, PartialEq, Eq)]
pub struct Token(String);

impl Token {
    /// Wraps a token received from a client or minted by a [`TokenSource`].
    pub fn new(secret: impl Into<String>) -> Self {
        Token(secret.into())
    }

    /// The secret text, for putting into a URL. Never log it.
    pub fn expose(&self) -> &str {
        &self.0
    }

    /// The SHA-256 of the token: the only form a store keeps.
    pub fn hash(&self) -> TokenHash {
        TokenHash(Sha256::digest(self.0.as_bytes()).into())
    }
}

impl fmt::Debug for Token {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Token(<redacted>)")
    }
}

/// The SHA-256 of a token: the key of a token record.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct TokenHash([u8; 32]);

impl TokenHash {
    /// Builds a hash from its 32 bytes.
    pub const fn from_bytes(bytes: [u8; 32]) -> Self {
        TokenHash(bytes)
    }

    /// The 32 bytes.
    pub fn as_bytes(&self) -> &[u8; 32] {
        &self.0
    }

    /// Lower-case hex, 64 characters: the form stores and logs use.
    pub fn to_hex(&self) -> String {
        hex::encode(self.0)
    }

    /// Parses the 64-character hex form.
    pub fn from_hex(text: &str) -> Option<Self> {
        let mut bytes = [0u8; 32];
        hex::decode_to_slice(text, &mut bytes).ok()?;
        Some(TokenHash(bytes))
    }

    /// A short prefix that tells records apart in a log without being
    /// usable as a credential.
    pub fn fingerprint(&self) -> String {
        hex::encode(&self.0[..4])
    }
}

impl fmt::Debug for TokenHash {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "TokenHash({})", self.fingerprint())
    }
}

/// Where fresh tokens come from.
pub trait TokenSource: Send + Sync + 'static {
    /// A new, unguessable token.
    fn generate(&self) -> Token;
}

/// Tokens as Nova mints them: a UUID v4 (122 random bits from the OS
/// generator) in its text form, which clients already know how to carry.
#[derive(Debug, Clone, Copy, Default)]
pub struct OsTokenSource;

impl TokenSource for OsTokenSource {
    fn generate(&self) -> Token {
        // Written into place: `to_string` went through the formatting
        // machinery for 36 fixed characters.
        let mut text = [0u8; uuid::fmt::Hyphenated::LENGTH];
        Token(
            uuid::Uuid::new_v4()
                .hyphenated()
                .encode_lower(&mut text)
                .to_owned(),
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_never_shows_the_secret() {
        let t = Token::new("s3cret-value");
        assert!(!format!("{t:?}").contains("s3cret"));
        assert!(!format!("{:?}", t.hash()).contains("s3cret"));
    }

    #[test]
    fn hash_is_sha256_and_round_trips_hex() {
        let h = Token::new("abc").hash();
        assert_eq!(
            h.to_hex(),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
        assert_eq!(TokenHash::from_hex(&h.to_hex()), Some(h));
        assert_eq!(TokenHash::from_hex("zz"), None);
    }

    #[test]
    fn os_tokens_are_distinct_uuids() {
        let a = OsTokenSource.generate();
        let b = OsTokenSource.generate();
        assert_ne!(a, b);
        assert!(uuid::Uuid::parse_str(a.expose()).is_ok());
    }
}
