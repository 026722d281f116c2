//! The one list of console drivers this binary links.
//!
//! A driver crate registers itself with `inventory`, but a crate the binary
//! never names is not linked and its registration silently vanishes. So
//! every driver is named here, and `consoled drivers` (tested) lists what
//! actually registered. A new protocol is one more line.

use consoled_core::{Registry, RegistryError};

use consoled_driver_mks as _;
use consoled_driver_rdp as _;
use consoled_driver_serial as _;
use consoled_driver_spice as _;
use consoled_driver_vnc_novnc as _;
use consoled_driver_vnc_xvpvnc as _;

/// Every linked driver.
///
/// # Errors
/// [`RegistryError::Duplicate`] when two linked crates claim one pair.
pub fn registry() -> Result<Registry, RegistryError> {
    Registry::from_inventory()
}

/// One line per driver, sorted by (protocol, type), with a header.
pub fn listing(registry: &Registry) -> String {
    let mut rows = vec![[
        "PROTOCOL".to_owned(),
        "TYPE".to_owned(),
        "CRATE".to_owned(),
        "SINCE".to_owned(),
        "FRONT".to_owned(),
    ]];
    rows.extend(registry.descriptors().iter().map(|d| {
        [
            d.protocol.to_owned(),
            d.console_type.to_owned(),
            d.crate_name.to_owned(),
            d.min_version.to_string(),
            d.front.to_string(),
        ]
    }));
    let mut widths = [0usize; 5];
    for row in &rows {
        for (w, cell) in widths.iter_mut().zip(row) {
            *w = (*w).max(cell.len());
        }
    }
    let mut out = String::new();
    for row in rows {
        let cells: Vec<String> = row
            .iter()
            .zip(widths)
            .map(|(cell, w)| format!("{cell:<w$}"))
            .collect();
        out.push_str(cells.join("  ").trim_end());
        out.push('\n');
    }
    out
}
