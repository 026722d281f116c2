//! `consoled serve --help`'s list of keys, generated from the settings
//! structs themselves: their serde names, their `Default`s and their doc
//! comments (through `schemars`), so that a new key cannot be left out.

use consoled_backend_libvirt::LibvirtSettings;
use consoled_core::{Registry, StoreLimits, TokenSettings, TypeSettings};
use consoled_identity_keystone::KeystoneSettings;
use consoled_proxy::{ListenerConfig, ProxySettings, RecordingSettings};
use consoled_rfb::VncSettings;
use consoled_store_redis::RedisSettings;
use schemars::{JsonSchema, Schema};
use serde::de::DeserializeOwned;
use serde_json::Value;

use super::fields::keys_of;
use super::{ApiSettings, BackendSettings, LogSettings, MetricsSettings, StoreChoice};

/// One struct's keys as the help shows them.
struct Part {
    keys: &'static [&'static str],
    schema: Schema,
}

fn part<T: DeserializeOwned + JsonSchema>() -> Part {
    Part {
        keys: keys_of::<T>(),
        schema: schemars::SchemaGenerator::default().into_root_schema_for::<T>(),
    }
}

/// A table of the file and the structs that own its keys.
struct Section {
    header: &'static str,
    note: &'static str,
    parts: Vec<Part>,
}

/// The file's tables, in the order the help lists them.
fn sections() -> Vec<Section> {
    vec![
        Section {
            header: "[api]",
            note: "",
            parts: vec![part::<ApiSettings>()],
        },
        Section {
            header: "[tokens]",
            note: "",
            parts: vec![
                part::<TokenSettings>(),
                part::<StoreLimits>(),
                part::<StoreChoice>(),
                part::<RedisSettings>(),
            ],
        },
        Section {
            header: "[consoles.<type>]",
            note: "one per console type; a type with no linked driver (listed below) is refused",
            parts: vec![part::<TypeSettings>()],
        },
        Section {
            header: "[backend]",
            note: "",
            parts: vec![part::<BackendSettings>(), part::<LibvirtSettings>()],
        },
        Section {
            header: "[proxy]",
            note: "the console proxies (consoled serve, consoled proxy)",
            parts: vec![part::<ProxySettings>()],
        },
        Section {
            header: "[[proxy.listeners]]",
            note: "one per listening socket; paths relative to this file",
            parts: vec![part::<ListenerConfig>()],
        },
        Section {
            header: "[vnc]",
            note: "security between the proxy and VNC servers, as Nova's [vnc]; paths relative to this file",
            parts: vec![part::<VncSettings>()],
        },
        Section {
            header: "[recording]",
            note: "session recordings (consoled serve, consoled proxy); off unless dir is set",
            parts: vec![part::<RecordingSettings>()],
        },
        Section {
            header: "[metrics]",
            note: "Prometheus metrics (consoled serve, consoled api, consoled proxy)",
            parts: vec![part::<MetricsSettings>()],
        },
        Section {
            header: "[keystone_authtoken]",
            note: "with [api] auth = \"keystone\"; keystonemiddleware's keys, as in nova.conf",
            parts: vec![part::<KeystoneSettings>()],
        },
        Section {
            header: "[log]",
            note: "",
            parts: vec![part::<LogSettings>()],
        },
    ]
}

const KEY_WIDTH: usize = 34;
const LINE_WIDTH: usize = 100;

/// Every key of `consoled.toml` with its default (or an example) and what
/// it does, then the console types of the linked drivers with their
/// default base URLs.
pub fn config_keys(registry: &Registry) -> String {
    let mut out = String::from(
        "CONFIGURATION (TOML; every key is optional unless marked; unknown keys are refused)\n",
    );
    for section in sections() {
        out.push('\n');
        push_row(&mut out, section.header, section.note);
        for part in &section.parts {
            for key in part.keys {
                let (assignment, text) = describe(&part.schema, key);
                push_row(&mut out, &assignment, &text);
            }
        }
    }
    out.push_str("\n  Console types and their default base_url (Nova's), by linked driver:\n");
    for d in registry.descriptors() {
        out.push_str(&format!(
            "    {:<14}{}\n",
            d.console_type, d.default_base_url
        ));
    }
    out
}

/// `key = <default or example>` and the key's description.
fn describe(schema: &Schema, key: &str) -> (String, String) {
    let property = schema
        .get("properties")
        .and_then(|p| p.get(key))
        .cloned()
        .unwrap_or(Value::Null);
    let required = schema
        .get("required")
        .and_then(Value::as_array)
        .is_some_and(|r| r.iter().any(|k| k == key));
    let value = property
        .get("default")
        .filter(|v| !v.is_null())
        .or_else(|| property.get("examples").and_then(|e| e.get(0)))
        .map_or_else(|| "...".to_owned(), toml_literal);
    let text: Vec<&str> = ["title", "description"]
        .iter()
        .filter_map(|f| property.get(*f).and_then(Value::as_str))
        .collect();
    let mut text = text.join(" ").replace('\n', " ");
    if required && !text.starts_with("(required)") {
        text = format!("(required) {text}");
    }
    (format!("{key} = {value}"), text)
}

/// A JSON value written as TOML (the help's values are strings, numbers,
/// booleans and arrays of them).
fn toml_literal(value: &Value) -> String {
    match value {
        Value::Array(items) => format!(
            "[{}]",
            items
                .iter()
                .map(toml_literal)
                .collect::<Vec<_>>()
                .join(", ")
        ),
        other => other.to_string(),
    }
}

/// `  <left>  <text>`, the text wrapped in a column.
fn push_row(out: &mut String, left: &str, text: &str) {
    let mut line = format!("  {left}");
    let indent = KEY_WIDTH + 2;
    let mut first = true;
    for word in text.split_whitespace() {
        let start = if first { indent.max(line.len() + 2) } else { 0 };
        if first {
            while line.len() < start {
                line.push(' ');
            }
            first = false;
        } else if line.len() + 1 + word.len() > LINE_WIDTH {
            out.push_str(line.trim_end());
            out.push('\n');
            line = " ".repeat(indent);
        } else {
            line.push(' ');
        }
        line.push_str(word);
    }
    out.push_str(line.trim_end());
    out.push('\n');
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeSet;
    use std::path::Path;

    use super::*;

    fn help() -> String {
        config_keys(&crate::linked::registry().unwrap())
    }

    /// `section.key` for every `key = value` line the help shows.
    fn listed(help: &str) -> Vec<(String, String, String)> {
        let mut section = String::new();
        let mut rows = Vec::new();
        // Rows start two spaces in; wrapped descriptions start further in.
        for line in help.lines() {
            let Some(line) = line.strip_prefix("  ").filter(|l| !l.starts_with(' ')) else {
                continue;
            };
            if line.starts_with('[') {
                section = line.split_whitespace().next().unwrap().to_owned();
            } else if let Some((key, rest)) = line.split_once(" = ") {
                if !section.is_empty() && !key.contains(' ') {
                    let value = rest.split("  ").next().unwrap().trim().to_owned();
                    rows.push((section.clone(), key.to_owned(), value));
                }
            }
        }
        rows
    }

    #[test]
    fn the_help_lists_exactly_the_keys_the_definitions_declare() {
        let declared: BTreeSet<(String, String)> = sections()
            .into_iter()
            .flat_map(|s| {
                s.parts
                    .iter()
                    .flat_map(|p| {
                        p.keys
                            .iter()
                            .map(|k| (s.header.to_owned(), (*k).to_owned()))
                    })
                    .collect::<Vec<_>>()
            })
            .collect();
        let shown: BTreeSet<(String, String)> = listed(&help())
            .into_iter()
            .map(|(s, k, _)| (s, k))
            .collect();
        assert_eq!(declared, shown);
        assert!(shown.contains(&("[proxy]".into(), "keepalive_seconds".into())));
        assert!(shown.contains(&("[tokens]".into(), "redis_key_prefix".into())));
    }

    #[test]
    fn a_file_setting_every_listed_key_is_accepted() {
        let mut file = String::new();
        let mut section = String::new();
        for (header, key, value) in listed(&help()) {
            if header != section {
                file.push_str(&header.replace("<type>", "novnc"));
                file.push('\n');
                section = header;
            }
            file.push_str(&format!("{key} = {value}\n"));
        }
        let config = super::super::compose::parse(Path::new("all.toml"), &file)
            .unwrap_or_else(|e| panic!("{e}\n{file}"));
        config.validate().unwrap_or_else(|e| panic!("{e}\n{file}"));
        assert_eq!(config.proxy.listeners.len(), 1);
        assert!(config.consoles.contains_key("novnc"));
    }

    #[test]
    fn defaults_are_shown_as_the_structs_have_them() {
        let rows = listed(&help());
        let value = |section: &str, key: &str| {
            rows.iter()
                .find(|(s, k, _)| s == section && k == key)
                .map(|(_, _, v)| v.clone())
                .unwrap()
        };
        assert_eq!(value("[api]", "listen"), "\"127.0.0.1:8774\"");
        assert_eq!(value("[api]", "auth"), "\"noauth\"");
        assert_eq!(value("[tokens]", "ttl_seconds"), "600");
        assert_eq!(value("[tokens]", "store"), "\"memory\"");
        assert_eq!(
            value("[tokens]", "redis_url"),
            "\"redis://127.0.0.1:6379/\""
        );
        assert_eq!(value("[tokens]", "redis_key_prefix"), "\"consoled:\"");
        assert_eq!(value("[consoles.<type>]", "enabled"), "true");
        assert_eq!(value("[proxy]", "keepalive_seconds"), "30");
        assert_eq!(value("[proxy]", "idle_timeout_seconds"), "0");
        assert_eq!(value("[proxy]", "max_frame_bytes"), "1048576");
        assert_eq!(value("[proxy]", "max_sessions"), "1024");
        assert_eq!(value("[proxy]", "handshake_timeout_seconds"), "10");
        assert_eq!(value("[proxy]", "shutdown_grace_seconds"), "30");
        assert_eq!(value("[proxy]", "allowed_origins"), "[]");
        assert_eq!(value("[proxy]", "enforce_session_timeout"), "false");
        assert_eq!(value("[vnc]", "auth_schemes"), "[\"none\"]");
    }
}
