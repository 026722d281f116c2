//! The compute API's console vocabulary: which (protocol, type) pairs the
//! wire contract knows and from which microversion.
//!
//! This is data of the wire contract, not driver knowledge: it lets the
//! dispatcher tell a type that does not belong to its protocol (400) from a
//! known pair whose driver is simply not linked (501), and lets the API
//! build its request schema per microversion. A driver for a pair outside
//! this table is still accepted: its own descriptor makes the pair known.

use crate::microversion::Microversion;

/// One pair of the wire contract.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CatalogEntry {
    /// The protocol (`vnc`).
    pub protocol: &'static str,
    /// The type (`novnc`).
    pub console_type: &'static str,
    /// The first microversion of `POST /servers/{id}/remote-consoles` that
    /// accepts the type.
    pub min_version: Microversion,
}

const fn entry(protocol: &'static str, console_type: &'static str, minor: u16) -> CatalogEntry {
    CatalogEntry {
        protocol,
        console_type,
        min_version: Microversion::new(2, minor),
    }
}

/// Every pair the compute API knows, sorted by (protocol, type).
pub const NOVA_CONSOLE_TYPES: &[CatalogEntry] = &[
    entry("mks", "webmks", 8),
    entry("rdp", "rdp-html5", 6),
    entry("serial", "serial", 6),
    entry("spice", "spice-direct", 99),
    entry("spice", "spice-html5", 6),
    entry("vnc", "novnc", 6),
    entry("vnc", "xvpvnc", 6),
];

/// The first microversion of `remote-consoles`.
pub const REMOTE_CONSOLES_MIN_VERSION: Microversion = Microversion::new(2, 6);

/// The first microversion that accepts (protocol, type), or `None` when
/// the wire contract does not pair them. A `const fn`, so that
/// [`DriverDescriptor::new`](crate::DriverDescriptor::new) takes a driver's
/// microversion from this table instead of the driver restating it.
pub const fn min_version(protocol: &str, console_type: &str) -> Option<Microversion> {
    let mut i = 0;
    while i < NOVA_CONSOLE_TYPES.len() {
        let entry = &NOVA_CONSOLE_TYPES[i];
        if same(entry.protocol, protocol) && same(entry.console_type, console_type) {
            return Some(entry.min_version);
        }
        i += 1;
    }
    None
}

/// Whether the wire contract pairs `console_type` with `protocol`.
pub(crate) fn is_known_pair(protocol: &str, console_type: &str) -> bool {
    min_version(protocol, console_type).is_some()
}

/// `a == b`, which `str`'s `PartialEq` cannot do in a `const fn`.
const fn same(a: &str, b: &str) -> bool {
    let (a, b) = (a.as_bytes(), b.as_bytes());
    if a.len() != b.len() {
        return false;
    }
    let mut i = 0;
    while i < a.len() {
        if a[i] != b[i] {
            return false;
        }
        i += 1;
    }
    true
}

/// The protocols `remote-consoles` accepts at `version`, sorted.
pub fn protocols_at(version: Microversion) -> Vec<&'static str> {
    let mut out: Vec<&'static str> = NOVA_CONSOLE_TYPES
        .iter()
        .filter(|e| e.min_version <= version)
        .map(|e| e.protocol)
        .collect();
    out.dedup();
    out
}

/// The types `remote-consoles` accepts at `version`, sorted.
pub fn types_at(version: Microversion) -> Vec<&'static str> {
    let mut out: Vec<&'static str> = NOVA_CONSOLE_TYPES
        .iter()
        .filter(|e| e.min_version <= version)
        .map(|e| e.console_type)
        .collect();
    out.sort_unstable();
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn enums_grow_with_microversions() {
        let v = |m| Microversion::new(2, m);
        assert_eq!(protocols_at(v(6)), ["rdp", "serial", "spice", "vnc"]);
        assert_eq!(protocols_at(v(8)), ["mks", "rdp", "serial", "spice", "vnc"]);
        assert!(!types_at(v(7)).contains(&"webmks"));
        assert!(types_at(v(8)).contains(&"webmks"));
        assert!(!types_at(v(98)).contains(&"spice-direct"));
        assert!(types_at(v(99)).contains(&"spice-direct"));
        assert!(is_known_pair("vnc", "xvpvnc") && !is_known_pair("vnc", "serial"));
    }

    #[test]
    fn min_version_reads_the_table() {
        for entry in NOVA_CONSOLE_TYPES {
            assert_eq!(
                min_version(entry.protocol, entry.console_type),
                Some(entry.min_version)
            );
        }
        const WEBMKS: Option<Microversion> = min_version("mks", "webmks");
        assert_eq!(WEBMKS, Some(Microversion::new(2, 8)));
        assert_eq!(min_version("vnc", "serial"), None);
        assert_eq!(min_version("vnc", "novn"), None);
        assert_eq!(min_version("telnet", "telnet-ws"), None);
    }
}
