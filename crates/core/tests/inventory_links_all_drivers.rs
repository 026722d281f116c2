//! A binary that names all six driver crates finds exactly the seven
//! (protocol, type) pairs of the wire contract at start-up.

use consoled_core::catalog::NOVA_CONSOLE_TYPES;
use consoled_core::{Front, Registry};

// Naming a crate is what links it; unnamed crates' registrations vanish.
use consoled_driver_mks as _;
use consoled_driver_rdp as _;
use consoled_driver_serial as _;
use consoled_driver_spice as _;
use consoled_driver_vnc_novnc as _;
use consoled_driver_vnc_xvpvnc as _;

#[test]
fn from_inventory_finds_the_seven_pairs() {
    let registry = Registry::from_inventory().expect("no duplicate registrations");
    let found: Vec<(&str, &str, &str)> = registry
        .descriptors()
        .iter()
        .map(|d| (d.protocol, d.console_type, d.crate_name))
        .collect();
    assert_eq!(
        found,
        [
            ("mks", "webmks", "consoled-driver-mks"),
            ("rdp", "rdp-html5", "consoled-driver-rdp"),
            ("serial", "serial", "consoled-driver-serial"),
            ("spice", "spice-direct", "consoled-driver-spice"),
            ("spice", "spice-html5", "consoled-driver-spice"),
            ("vnc", "novnc", "consoled-driver-vnc-novnc"),
            ("vnc", "xvpvnc", "consoled-driver-vnc-xvpvnc"),
        ]
    );
}

#[test]
fn every_linked_driver_agrees_with_the_catalog() {
    let registry = Registry::from_inventory().unwrap();
    for entry in NOVA_CONSOLE_TYPES {
        let driver = registry
            .get(entry.protocol, entry.console_type)
            .unwrap_or_else(|| panic!("{}/{} not linked", entry.protocol, entry.console_type));
        let d = driver.descriptor();
        assert_eq!(d.min_version, entry.min_version, "{}", d.console_type);
        let expected_front = match d.console_type {
            "xvpvnc" => Front::RawTcp,
            "spice-direct" => Front::External,
            _ => Front::WebSocket,
        };
        assert_eq!(d.front, expected_front, "{}", d.console_type);
        assert!(consoled_core::Url::parse(d.default_base_url).is_ok());
        assert!(registry.by_type(entry.console_type).is_some());
    }
}
