//! `[backend]`'s libvirt keys: which hypervisors, and who owns a domain
//! that Nova did not create.

use consoled_core::{SettingError, Url};
use serde::{Deserialize, Serialize};

/// Which libvirt connections serve servers, and the owner of domains that
/// carry no Nova metadata.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Serialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(deny_unknown_fields, default)]
pub struct LibvirtSettings {
    /// With kind = "libvirt": the libvirt connections whose domains are
    /// served, all by one API (a remote host is qemu+tcp://HOST/system or
    /// qemu+ssh://...).
    pub libvirt_uris: Vec<String>,
    /// (required with kind = "libvirt") The project that owns domains
    /// without Nova's <nova:owner> metadata.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "schema", schemars(example = &"demo"))]
    pub default_project_id: Option<String>,
}

impl Default for LibvirtSettings {
    fn default() -> Self {
        LibvirtSettings {
            libvirt_uris: vec![Self::DEFAULT_URI.to_owned()],
            default_project_id: None,
        }
    }
}

impl LibvirtSettings {
    /// The local system hypervisor, as virsh connects as root.
    pub const DEFAULT_URI: &'static str = "qemu:///system";

    /// Checks the settings as the libvirt backend needs them.
    ///
    /// # Errors
    /// The key and the reason: no URI, a URI that is not one, the same URI
    /// twice, or no `default_project_id`.
    pub fn validate(&self) -> Result<(), SettingError> {
        if self.libvirt_uris.is_empty() {
            return Err(SettingError::new(
                "libvirt_uris",
                "empty: name at least one libvirt connection, e.g. \"qemu:///system\"",
            ));
        }
        for (i, uri) in self.libvirt_uris.iter().enumerate() {
            let key = format!("libvirt_uris[{i}]");
            let parsed = Url::parse(uri).map_err(|e| {
                SettingError::new(&key, format!("{uri:?} is not a libvirt URI: {e}"))
            })?;
            if !parsed.scheme().starts_with("qemu") {
                return Err(SettingError::new(
                    key,
                    format!("{uri:?}: only QEMU hypervisors (qemu://, qemu+ssh://, qemu+tcp://, ...) are served"),
                ));
            }
            if self.libvirt_uris[..i].contains(uri) {
                return Err(SettingError::new(key, format!("{uri:?} is listed twice")));
            }
        }
        match self.default_project_id.as_deref().map(str::trim) {
            None | Some("") => Err(SettingError::new(
                "default_project_id",
                "missing: name the project that owns domains without Nova metadata",
            )),
            Some(_) => Ok(()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn settings(uris: &[&str], project: Option<&str>) -> LibvirtSettings {
        LibvirtSettings {
            libvirt_uris: uris.iter().map(|u| (*u).to_owned()).collect(),
            default_project_id: project.map(str::to_owned),
        }
    }

    #[test]
    fn local_and_remote_qemu_uris_with_a_project_pass() {
        settings(
            &[
                "qemu:///system",
                "qemu+ssh://root@hv2/system",
                "qemu+tcp://10.0.0.3/system",
            ],
            Some("demo"),
        )
        .validate()
        .unwrap();
    }

    #[test]
    fn each_refusal_names_its_key() {
        let key = |s: LibvirtSettings| s.validate().unwrap_err().key;
        assert_eq!(key(settings(&[], Some("p"))), "libvirt_uris");
        assert_eq!(
            key(settings(&["qemu:///system", "no uri"], Some("p"))),
            "libvirt_uris[1]"
        );
        assert_eq!(
            key(settings(&["xen:///system"], Some("p"))),
            "libvirt_uris[0]"
        );
        assert_eq!(
            key(settings(&["qemu:///system", "qemu:///system"], Some("p"))),
            "libvirt_uris[1]"
        );
        assert_eq!(
            key(settings(&["qemu:///system"], None)),
            "default_project_id"
        );
        assert_eq!(
            key(settings(&["qemu:///system"], Some(" "))),
            "default_project_id"
        );
    }
}
