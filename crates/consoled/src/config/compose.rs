//! Reads `consoled.toml` into the owners' structs, keeping every error's
//! line.
//!
//! serde's `flatten` cannot compose a table from two structs that refuse
//! unknown keys, and it buffers values, which loses their place in the
//! file. So the file is parsed once into toml's spanned tree; a section
//! owned by one struct is handed to it whole, and a section with several
//! owners (`[tokens]`, `[backend]`, `[proxy]`) is split by the keys each owner
//! declares, each part deserialized from its own spanned values. A key no
//! owner declares is refused here, with its line and every key the table
//! accepts.

use std::ops::Range;
use std::path::Path;

use serde::de::DeserializeOwned;
use toml::de::{DeTable, DeValue, ValueDeserializer};
use toml::Spanned;

use super::fields::keys_of;
use super::{
    ApiSettings, BackendSection, BackendSettings, Config, MetricsSettings, ProxySection,
    StoreChoice, TokensSection,
};
use crate::toml_error;

type Value<'i> = Spanned<DeValue<'i>>;

/// The file's top-level tables.
const SECTIONS: &[&str] = &[
    "api",
    "tokens",
    "consoles",
    "backend",
    "proxy",
    "keystone_authtoken",
    "vnc",
    "log",
    "metrics",
    "recording",
];

/// Reads a whole file.
///
/// # Errors
/// One line: `<file>:<line>: in [<table>]: <key.path>: <message>`.
pub fn parse(path: &Path, source: &str) -> Result<Config, String> {
    let fail =
        |e: toml::de::Error, section: &str| toml_error::one_line_under(path, source, &e, section);
    let root = DeTable::parse(source).map_err(|e| fail(e, ""))?;
    let mut config = Config::default();
    for (key, value) in root.into_inner() {
        let span = key.span();
        match key.get_ref().as_ref() {
            "api" => config.api = whole::<ApiSettings>(value).map_err(|e| fail(e, "api"))?,
            "consoles" => config.consoles = whole(value).map_err(|e| fail(e, "consoles"))?,
            "log" => config.log = whole(value).map_err(|e| fail(e, "log"))?,
            "keystone_authtoken" => {
                config.keystone_authtoken =
                    whole(value).map_err(|e| fail(e, "keystone_authtoken"))?;
            }
            "vnc" => config.vnc = whole(value).map_err(|e| fail(e, "vnc"))?,
            "recording" => {
                config.recording = whole(value).map_err(|e| fail(e, "recording"))?;
            }
            "metrics" => {
                config.metrics = whole::<MetricsSettings>(value).map_err(|e| fail(e, "metrics"))?;
            }
            "backend" => {
                let mut parts = Parts::new(value, "backend", path, source)?;
                let choice = parts.take::<BackendSettings>()?;
                let libvirt = parts.take()?;
                parts.finish()?;
                config.backend = BackendSection { choice, libvirt };
            }
            "tokens" => {
                let mut parts = Parts::new(value, "tokens", path, source)?;
                let lifetime = parts.take()?;
                let limits = parts.take()?;
                let store = parts.take::<StoreChoice>()?;
                let redis = parts.take()?;
                parts.finish()?;
                config.tokens = TokensSection {
                    lifetime,
                    limits,
                    store,
                    redis,
                };
            }
            "proxy" => {
                let mut parts = Parts::new(value, "proxy", path, source)?;
                let settings = parts.take()?;
                let listeners = parts.take_each("listeners")?;
                parts.finish()?;
                config.proxy = ProxySection {
                    settings,
                    listeners,
                };
            }
            other => {
                return Err(toml_error::at(
                    path,
                    source,
                    span,
                    &format!(
                        "unknown section `{other}`, expected one of {}",
                        quoted(SECTIONS)
                    ),
                ))
            }
        }
    }
    Ok(config)
}

fn whole<T: DeserializeOwned>(value: Value<'_>) -> Result<T, toml::de::Error> {
    T::deserialize(ValueDeserializer::from(value))
}

/// A table with several owners, taken apart owner by owner.
struct Parts<'a, 'i> {
    section: &'static str,
    path: &'a Path,
    source: &'a str,
    span: Range<usize>,
    rest: DeTable<'i>,
    accepted: Vec<&'static str>,
}

impl<'a, 'i> Parts<'a, 'i> {
    fn new(
        value: Value<'i>,
        section: &'static str,
        path: &'a Path,
        source: &'a str,
    ) -> Result<Self, String> {
        let span = value.span();
        match value.into_inner() {
            DeValue::Table(rest) => Ok(Parts {
                section,
                path,
                source,
                span,
                rest,
                accepted: Vec::new(),
            }),
            other => Err(toml_error::at(
                path,
                source,
                span,
                &format!("{section}: expected a table, found {}", other.type_str()),
            )),
        }
    }

    /// The part `T` owns: the keys it declares, deserialized by it.
    fn take<T: DeserializeOwned>(&mut self) -> Result<T, String> {
        let keys = keys_of::<T>();
        self.accepted.extend_from_slice(keys);
        let mut mine = DeTable::new();
        for key in keys {
            if let Some((k, v)) = self.rest.remove_entry(*key) {
                mine.insert(k, v);
            }
        }
        whole(Spanned::new(self.span.clone(), DeValue::Table(mine)))
            .map_err(|e| toml_error::one_line_under(self.path, self.source, &e, self.section))
    }

    /// `key`, an array of tables each deserialized by `T` on its own, so
    /// that an error names its entry (`proxy.listeners[1].listen`).
    fn take_each<T: DeserializeOwned>(&mut self, key: &'static str) -> Result<Vec<T>, String> {
        self.accepted.push(key);
        let Some((k, value)) = self.rest.remove_entry(key) else {
            return Ok(Vec::new());
        };
        match value.into_inner() {
            DeValue::Array(items) => items
                .into_iter()
                .enumerate()
                .map(|(i, item)| {
                    whole(item).map_err(|e| {
                        let entry = format!("{}.{key}[{i}]", self.section);
                        toml_error::one_line_under(self.path, self.source, &e, &entry)
                    })
                })
                .collect(),
            other => Err(toml_error::at(
                self.path,
                self.source,
                k.span(),
                &format!(
                    "{}.{key}: expected an array of tables, found {}",
                    self.section,
                    other.type_str()
                ),
            )),
        }
    }

    /// Refuses what no owner took.
    fn finish(self) -> Result<(), String> {
        match self.rest.into_iter().next() {
            None => Ok(()),
            Some((key, _)) => Err(toml_error::at(
                self.path,
                self.source,
                key.span(),
                &format!(
                    "unknown field `{}`, expected one of {}",
                    key.get_ref(),
                    quoted(&self.accepted)
                ),
            )),
        }
    }
}

fn quoted(keys: &[&str]) -> String {
    keys.iter()
        .map(|k| format!("`{k}`"))
        .collect::<Vec<_>>()
        .join(", ")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn refusal(text: &str) -> String {
        parse(Path::new("c.toml"), text).unwrap_err()
    }

    #[test]
    fn unknown_keys_keep_their_line() {
        let e = refusal("[api]\nlisten = \"127.0.0.1:1\"\nlistn = 1\n");
        assert!(
            e.starts_with("c.toml:3: in [api]: unknown field `listn`"),
            "{e}"
        );
        let e = refusal("[tokens]\nstore = \"memory\"\nttl_secs = 1\n");
        assert!(
            e.starts_with("c.toml:3: in [tokens]: unknown field `ttl_secs`"),
            "{e}"
        );
        assert!(
            e.contains("`ttl_seconds`") && e.contains("`redis_url`"),
            "{e}"
        );
        let e = refusal("[proxy]\nkeepalive_interval = 3\n");
        assert!(
            e.starts_with("c.toml:2: in [proxy]: unknown field `keepalive_interval`"),
            "{e}"
        );
        let e = refusal("[tokenz]\nttl_seconds = 1\n");
        assert!(e.starts_with("c.toml:1:") && e.contains("tokenz"), "{e}");
    }

    #[test]
    fn bad_values_name_their_key_and_line() {
        let e = refusal("[api]\nlisten = 5\n");
        assert!(e.starts_with("c.toml:2: in [api]: api.listen: "), "{e}");
        let e = refusal("[tokens]\nstore = \"redis\"\nttl_seconds = \"x\"\n");
        assert!(
            e.starts_with("c.toml:3: in [tokens]: tokens.ttl_seconds: "),
            "{e}"
        );
        let e = refusal("[proxy]\nkeepalive_seconds = -1\n");
        assert!(
            e.starts_with("c.toml:2: in [proxy]: proxy.keepalive_seconds: "),
            "{e}"
        );
        let e = refusal("[consoles.novnc]\nbase_url = \"vnc_auto.html\"\n");
        assert!(
            e.starts_with("c.toml:2: in [consoles.novnc]: consoles.novnc.base_url: "),
            "{e}"
        );
        assert!(e.contains("vnc_auto.html"), "{e}");
        let e = refusal("[[proxy.listeners]]\nlisten = \"x\"\ntypes = []\n");
        assert!(
            e.starts_with("c.toml:2: in [[proxy.listeners]]: proxy.listeners"),
            "{e}"
        );
    }
}
