//! The keys a derived `Deserialize` struct accepts, asked of serde itself.
//!
//! serde's derive hands its field names (after `rename`) to
//! `Deserializer::deserialize_struct`; a deserializer that only records
//! them learns exactly the keys the parser will accept. The composer uses
//! them to route a table's keys to their owners, and the help's test to
//! check that no key goes undocumented.

use serde::de::{self, Deserialize, Deserializer, Visitor};

/// The keys `T` accepts, in declaration order.
///
/// # Panics
/// When `T` is not a struct with named fields (a programming error: every
/// part of the file is one).
pub fn keys_of<'de, T: Deserialize<'de>>() -> &'static [&'static str] {
    let mut probe = Probe(None);
    let _ = T::deserialize(&mut probe);
    probe
        .0
        .expect("a settings part is a struct with named fields")
}

struct Probe(Option<&'static [&'static str]>);

impl<'de> Deserializer<'de> for &mut Probe {
    type Error = de::value::Error;

    fn deserialize_struct<V: Visitor<'de>>(
        self,
        _name: &'static str,
        fields: &'static [&'static str],
        _visitor: V,
    ) -> Result<V::Value, Self::Error> {
        self.0 = Some(fields);
        Err(de::Error::custom("only the field names were wanted"))
    }

    fn deserialize_any<V: Visitor<'de>>(self, _visitor: V) -> Result<V::Value, Self::Error> {
        Err(de::Error::custom("not a struct"))
    }

    serde::forward_to_deserialize_any! {
        bool i8 i16 i32 i64 i128 u8 u16 u32 u64 u128 f32 f64 char str string
        bytes byte_buf option unit unit_struct newtype_struct seq tuple
        tuple_struct map enum identifier ignored_any
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn renamed_fields_are_named_as_written() {
        let keys = keys_of::<consoled_proxy::ProxySettings>();
        assert!(keys.contains(&"keepalive_seconds"), "{keys:?}");
        assert!(!keys.contains(&"keepalive_interval"), "{keys:?}");
        assert_eq!(keys_of::<consoled_core::TokenSettings>(), ["ttl_seconds"]);
    }
}
