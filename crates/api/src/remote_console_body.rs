//! The body of a console request read in one pass, for the case that
//! matters: `{"remote_console": {"protocol": P, "type": T}}` and nothing
//! else.
//!
//! Anything else (another key, a missing one, a duplicate, a value that is
//! not a string, an array where an object belongs) is not read here; the
//! handler then parses the body as a [`serde_json::Value`] and says what is
//! wrong with it in Nova's words. So this reader only has to accept exactly
//! the bodies that the general checks would accept, never more.

use std::borrow::Cow;
use std::fmt;

use serde::de::{self, Deserializer, MapAccess, Visitor};
use serde::Deserialize;

/// The two strings of a well-formed request, borrowed from the body where
/// they hold no escapes.
#[derive(Debug, PartialEq, Eq)]
pub(crate) struct RequestedConsole<'a> {
    pub(crate) protocol: Cow<'a, str>,
    pub(crate) console_type: Cow<'a, str>,
}

impl<'a> RequestedConsole<'a> {
    /// The request in `body`, if it has exactly the expected shape.
    pub(crate) fn read(body: &'a [u8]) -> Option<Self> {
        serde_json::from_slice::<Top<'a>>(body)
            .ok()
            .map(|top| top.0)
    }
}

/// `{"remote_console": {...}}`.
struct Top<'a>(RequestedConsole<'a>);

impl<'de> Deserialize<'de> for Top<'de> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_map(TopVisitor)
    }
}

struct TopVisitor;

impl<'de> Visitor<'de> for TopVisitor {
    type Value = Top<'de>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("an object with remote_console alone")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
        let mut console = None;
        while let Some(Text(key)) = map.next_key()? {
            if key != "remote_console" || console.is_some() {
                return Err(de::Error::custom("not the expected key"));
            }
            console = Some(map.next_value::<Inner<'de>>()?.0);
        }
        console
            .map(Top)
            .ok_or_else(|| de::Error::missing_field("remote_console"))
    }
}

/// `{"protocol": P, "type": T}`.
struct Inner<'a>(RequestedConsole<'a>);

impl<'de> Deserialize<'de> for Inner<'de> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_map(InnerVisitor)
    }
}

struct InnerVisitor;

impl<'de> Visitor<'de> for InnerVisitor {
    type Value = Inner<'de>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("an object with protocol and type alone")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
        let (mut protocol, mut console_type) = (None, None);
        while let Some(Text(key)) = map.next_key()? {
            let slot = match &*key {
                "protocol" => &mut protocol,
                "type" => &mut console_type,
                _ => return Err(de::Error::custom("not an expected key")),
            };
            if slot.is_some() {
                return Err(de::Error::custom("a key twice"));
            }
            *slot = Some(map.next_value::<Text<'de>>()?.0);
        }
        match (protocol, console_type) {
            (Some(protocol), Some(console_type)) => Ok(Inner(RequestedConsole {
                protocol,
                console_type,
            })),
            _ => Err(de::Error::custom("a key missing")),
        }
    }
}

/// A JSON string, borrowed when it holds no escapes; nothing else.
struct Text<'a>(Cow<'a, str>);

impl<'de> Deserialize<'de> for Text<'de> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_str(TextVisitor)
    }
}

struct TextVisitor;

impl<'de> Visitor<'de> for TextVisitor {
    type Value = Text<'de>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a string")
    }

    fn visit_borrowed_str<E: de::Error>(self, v: &'de str) -> Result<Self::Value, E> {
        Ok(Text(Cow::Borrowed(v)))
    }

    fn visit_str<E: de::Error>(self, v: &str) -> Result<Self::Value, E> {
        Ok(Text(Cow::Owned(v.to_owned())))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn read(body: &str) -> Option<(String, String)> {
        RequestedConsole::read(body.as_bytes())
            .map(|r| (r.protocol.into_owned(), r.console_type.into_owned()))
    }

    #[test]
    fn the_expected_shape_is_read_in_any_order() {
        let pair = Some(("vnc".to_owned(), "novnc".to_owned()));
        assert_eq!(
            read(r#"{"remote_console": {"protocol": "vnc", "type": "novnc"}}"#),
            pair
        );
        assert_eq!(
            read(r#" {"remote_console":{"type":"novnc","protocol":"vnc"}} "#),
            pair
        );
        assert_eq!(
            read(r#"{"remote_console": {"protocol": "v\u006ec", "type": "novnc"}}"#),
            pair,
            "escapes are read as JSON reads them"
        );
    }

    #[test]
    fn every_other_shape_is_left_to_the_general_checks() {
        for body in [
            r#"{"remote_console": ["vnc", "novnc"]}"#,
            r#"[{"protocol": "vnc", "type": "novnc"}]"#,
            r#"{"remote_console": {"protocol": "vnc"}}"#,
            r#"{"remote_console": {"protocol": "vnc", "type": "novnc", "x": 1}}"#,
            r#"{"remote_console": {"protocol": "vnc", "type": "novnc"}, "x": 1}"#,
            r#"{"remote_console": {"protocol": "vnc", "protocol": "spice", "type": "novnc"}}"#,
            r#"{"remote_console": {"protocol": "vnc", "type": "novnc"}, "remote_console": {"protocol": "vnc", "type": "novnc"}}"#,
            r#"{"remote_console": {"protocol": 5, "type": "novnc"}}"#,
            r#"{"remote_console": {"protocol": null, "type": "novnc"}}"#,
            r#"{"remote_console": null}"#,
            r#"{}"#,
            r#"{"remote_console": {"protocol": "vnc", "type": "novnc"}} x"#,
            "",
        ] {
            assert_eq!(read(body), None, "{body}");
        }
    }
}
