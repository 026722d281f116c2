//! `[recording]`: which sessions are recorded, and where.

use std::path::PathBuf;

use consoled_core::SettingError;
use serde::{Deserialize, Serialize};

/// The console types the proxy can record, sorted: serial as asciicast v2,
/// the VNC types as RFB byte streams.
pub const RECORDABLE_TYPES: &[&str] = &["novnc", "serial", "xvpvnc"];

/// The `[recording]` section: off unless `dir` is set.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize, Serialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(deny_unknown_fields, default)]
pub struct RecordingSettings {
    /// The folder each recorded session is written to as one file (mode
    /// 0600; the folder is made 0700 when missing), relative to this file.
    /// No recording without it.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "schema", schemars(example = &"recordings"))]
    pub dir: Option<PathBuf>,
    /// The console types recorded: serial (asciicast v2), novnc and
    /// xvpvnc (RFB byte streams). Absent: all three.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "schema", schemars(example = ["serial", "novnc"]))]
    pub types: Option<Vec<String>>,
}

impl RecordingSettings {
    /// Records every recordable type into `dir`.
    pub fn new(dir: impl Into<PathBuf>) -> Self {
        RecordingSettings {
            dir: Some(dir.into()),
            types: None,
        }
    }

    /// Records only `types`.
    #[must_use]
    pub fn with_types<I, S>(mut self, types: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        self.types = Some(types.into_iter().map(Into::into).collect());
        self
    }

    /// Whether sessions of `console_type` are recorded.
    pub fn records(&self, console_type: &str) -> bool {
        self.dir.is_some()
            && match &self.types {
                Some(types) => types.iter().any(|t| t == console_type),
                None => RECORDABLE_TYPES.contains(&console_type),
            }
    }

    /// Checks what can be checked without the file system.
    ///
    /// # Errors
    /// `dir` when empty, or missing while `types` is set; `types` when
    /// empty; `types[i]` for a type that cannot be recorded.
    pub fn validate(&self) -> Result<(), SettingError> {
        match &self.dir {
            Some(dir) if dir.as_os_str().is_empty() => {
                return Err(SettingError::new("dir", "must name a folder"))
            }
            Some(_) => {}
            None if self.types.is_some() => {
                return Err(SettingError::new("dir", "missing: types needs it"))
            }
            None => {}
        }
        let Some(types) = &self.types else {
            return Ok(());
        };
        if types.is_empty() {
            return Err(SettingError::new(
                "types",
                "name at least one console type (or leave dir unset: no recording)",
            ));
        }
        for (i, t) in types.iter().enumerate() {
            if !RECORDABLE_TYPES.contains(&t.as_str()) {
                return Err(SettingError::new(
                    format!("types[{i}]"),
                    format!(
                        "cannot record console type {t:?} (recordable: {})",
                        RECORDABLE_TYPES.join(", ")
                    ),
                ));
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn off_by_default_and_every_recordable_type_once_a_dir_is_set() {
        let off: RecordingSettings = toml::from_str("").unwrap();
        assert_eq!(off, RecordingSettings::default());
        assert_eq!(off.validate(), Ok(()));
        assert!(!off.records("serial"));
        let all: RecordingSettings = toml::from_str("dir = \"rec\"").unwrap();
        assert!(all.records("serial") && all.records("novnc") && all.records("xvpvnc"));
        assert!(!all.records("spice-html5"));
        let some: RecordingSettings =
            toml::from_str("dir = \"rec\"\ntypes = [\"serial\"]").unwrap();
        assert_eq!(some.validate(), Ok(()));
        assert!(some.records("serial") && !some.records("novnc"));
        assert!(toml::from_str::<RecordingSettings>("directory = \"rec\"").is_err());
    }

    #[test]
    fn settings_that_cannot_be_honoured_name_their_key() {
        let refused = |text: &str| {
            toml::from_str::<RecordingSettings>(text)
                .unwrap()
                .validate()
                .unwrap_err()
                .to_string()
        };
        assert_eq!(refused("dir = \"\""), "dir: must name a folder");
        assert_eq!(
            refused("types = [\"serial\"]"),
            "dir: missing: types needs it"
        );
        assert!(refused("dir = \"r\"\ntypes = []").starts_with("types: name at least one"));
        assert_eq!(
            refused("dir = \"r\"\ntypes = [\"serial\", \"spice-html5\"]"),
            "types[1]: cannot record console type \"spice-html5\" (recordable: novnc, serial, xvpvnc)"
        );
    }
}
