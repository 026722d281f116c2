//! The one list of console drivers this binary links.
//!
//! A driver crate registers itself with `inventory`, but a crate the binary
//! never names is not linked and its registration silently vanishes. So
//! every driver is named here, and `consoled drivers` (tested) lists what
//! actually registered. A new protocol is one more line.

use std::sync::Arc;

use consoled_core::{Registry, RegistryError};
use consoled_driver_vnc_novnc::NoVncDriver;
use consoled_driver_vnc_xvpvnc::XvpVncDriver;
use consoled_rfb::VncSecurity;

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

/// Installs the VNC drivers configured with `vnc` in place of the plain
/// ones, when `[vnc]` asks for the RFB security proxy; otherwise leaves
/// `registry` as it is.
pub fn configure_vnc(registry: &mut Registry, vnc: &VncSecurity) {
    if !vnc.proxies_security() {
        return;
    }
    registry.replace(Arc::new(NoVncDriver::with_security(vnc.clone())));
    registry.replace(Arc::new(XvpVncDriver::with_security(vnc.clone())));
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

#[cfg(test)]
mod tests {
    use super::*;

    fn proxying() -> VncSecurity {
        let dir = std::env::temp_dir().join(format!("consoled-linked-vnc-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let ca = consoled_testkit::pki::TestCa::new("ca").unwrap();
        std::fs::write(dir.join("ca.pem"), ca.cert_pem()).unwrap();
        let settings = consoled_rfb::VncSettings {
            auth_schemes: vec![consoled_rfb::AuthScheme::VeNCrypt],
            vencrypt_ca_certs: Some("ca.pem".into()),
            ..consoled_rfb::VncSettings::default()
        };
        let security = VncSecurity::from_settings(&settings, &dir).unwrap();
        let _ = std::fs::remove_dir_all(&dir);
        security
    }

    #[test]
    fn vnc_drivers_are_replaced_only_when_vnc_asks_for_the_security_proxy() {
        let linked = registry().unwrap();
        let mut registry = linked.clone();
        let before = |r: &Registry, t: &str| r.get("vnc", t).unwrap().clone();
        let (novnc, xvpvnc) = (before(&registry, "novnc"), before(&registry, "xvpvnc"));
        configure_vnc(&mut registry, &VncSecurity::default());
        assert!(Arc::ptr_eq(&novnc, &before(&registry, "novnc")));
        configure_vnc(&mut registry, &proxying());
        assert_eq!(registry.len(), linked.len(), "replaced, not added");
        for (old, t) in [(novnc, "novnc"), (xvpvnc, "xvpvnc")] {
            let new = before(&registry, t);
            assert!(!Arc::ptr_eq(&old, &new), "{t} replaced");
            assert_eq!(new.descriptor(), old.descriptor());
        }
    }
}
