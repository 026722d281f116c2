//! Request schema checks, with Nova's (jsonschema's) wording:
//! `Invalid input for field/attribute <field>. Value: <value>. <why>`.

use consoled_core::ConsoleError;
use serde_json::{Map, Value};

use crate::errors::ApiError;

/// A JSON object under validation, and where it sits in the body (`None`
/// for the body itself).
pub(crate) struct Object<'a> {
    field: Option<&'a str>,
    value: &'a Value,
    map: &'a Map<String, Value>,
}

impl<'a> Object<'a> {
    /// `value` as an object, or a 400 saying it is not one.
    pub(crate) fn new(field: Option<&'a str>, value: &'a Value) -> Result<Self, ApiError> {
        match value.as_object() {
            Some(map) => Ok(Object { field, value, map }),
            None => Err(violation(
                field,
                value,
                &format!("{} is not of type 'object'", repr(value)),
            )),
        }
    }

    /// Checks that every key is allowed (`additionalProperties: false`) and
    /// every required key is present.
    pub(crate) fn keys(&self, allowed: &[&str], required: &[&str]) -> Result<(), ApiError> {
        let mut extra: Vec<&str> = self
            .map
            .keys()
            .map(String::as_str)
            .filter(|k| !allowed.contains(k))
            .collect();
        if !extra.is_empty() {
            extra.sort_unstable();
            let listed = extra
                .iter()
                .map(|k| py_str(k))
                .collect::<Vec<_>>()
                .join(", ");
            let verb = if extra.len() == 1 { "was" } else { "were" };
            return Err(self.violation(&format!(
                "Additional properties are not allowed ({listed} {verb} unexpected)"
            )));
        }
        match required.iter().find(|k| !self.map.contains_key(**k)) {
            Some(missing) => {
                Err(self.violation(&format!("{} is a required property", py_str(missing))))
            }
            None => Ok(()),
        }
    }

    /// The value of a key that [`Object::keys`] made sure is present.
    pub(crate) fn get(&self, key: &str) -> &'a Value {
        self.map.get(key).unwrap_or(&Value::Null)
    }

    /// The string value of `key`, which must be one of `allowed`.
    pub(crate) fn string_in(&self, key: &'a str, allowed: &[&str]) -> Result<&'a str, ApiError> {
        self.string_where(key, |text| allowed.contains(&text), || allowed.to_vec())
    }

    /// The string value of `key`, which `allowed` must accept: for an enum
    /// that costs work to list, listed (by `listed`) only for the message
    /// of a refusal.
    pub(crate) fn string_where<'l>(
        &self,
        key: &'a str,
        allowed: impl Fn(&str) -> bool,
        listed: impl FnOnce() -> Vec<&'l str>,
    ) -> Result<&'a str, ApiError> {
        let value = self.get(key);
        let Some(text) = value.as_str() else {
            return Err(violation(
                Some(key),
                value,
                &format!("{} is not of type 'string'", repr(value)),
            ));
        };
        if !allowed(text) {
            let listed = listed()
                .iter()
                .map(|a| py_str(a))
                .collect::<Vec<_>>()
                .join(", ");
            return Err(violation(
                Some(key),
                value,
                &format!("{} is not one of [{listed}]", py_str(text)),
            ));
        }
        Ok(text)
    }

    fn violation(&self, why: &str) -> ApiError {
        violation(self.field, self.value, why)
    }
}

fn violation(field: Option<&str>, value: &Value, why: &str) -> ApiError {
    let message = match field {
        Some(field) => format!(
            "Invalid input for field/attribute {field}. Value: {}. {why}",
            shown(value)
        ),
        None => why.to_owned(),
    };
    ApiError(ConsoleError::BadRequest(message))
}

/// A value as the message shows it, cut short so that a large body does
/// not come back whole.
fn shown(value: &Value) -> String {
    let text = match value {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    };
    if text.chars().count() > 200 {
        format!("{}...", text.chars().take(200).collect::<String>())
    } else {
        text
    }
}

/// A value the way jsonschema's messages quote it (strings in single
/// quotes, like Python's repr).
fn repr(value: &Value) -> String {
    match value {
        Value::String(s) => py_str(s),
        other => shown(other),
    }
}

fn py_str(s: &str) -> String {
    let cut: String = s.chars().take(100).collect();
    format!("'{}'", cut.replace('\\', "\\\\").replace('\'', "\\'"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn message(e: ApiError) -> String {
        e.0.to_string()
    }

    #[test]
    fn additional_and_required() {
        let v = json!({"protocol": "vnc", "x": 1});
        let o = Object::new(Some("remote_console"), &v).unwrap();
        assert_eq!(
            message(o.keys(&["protocol", "type"], &["protocol", "type"]).unwrap_err()),
            "Invalid input for field/attribute remote_console. Value: {\"protocol\":\"vnc\",\"x\":1}. \
             Additional properties are not allowed ('x' was unexpected)"
        );
        let v = json!({"protocol": "vnc"});
        let o = Object::new(Some("remote_console"), &v).unwrap();
        assert!(message(
            o.keys(&["protocol", "type"], &["protocol", "type"])
                .unwrap_err()
        )
        .ends_with("'type' is a required property"));
        let top = json!({"a": 1, "b": 2});
        let o = Object::new(None, &top).unwrap();
        assert_eq!(
            message(o.keys(&["remote_console"], &[]).unwrap_err()),
            "Additional properties are not allowed ('a', 'b' were unexpected)"
        );
    }

    #[test]
    fn types_and_enums() {
        assert!(message(Object::new(None, &json!([1])).err().unwrap())
            .contains("is not of type 'object'"));
        let v = json!({"protocol": 5, "type": "vnc2"});
        let o = Object::new(Some("remote_console"), &v).unwrap();
        assert_eq!(
            message(o.string_in("protocol", &["vnc"]).unwrap_err()),
            "Invalid input for field/attribute protocol. Value: 5. 5 is not of type 'string'"
        );
        assert_eq!(
            message(o.string_in("type", &["novnc", "xvpvnc"]).unwrap_err()),
            "Invalid input for field/attribute type. Value: vnc2. 'vnc2' is not one of ['novnc', 'xvpvnc']"
        );
    }
}
