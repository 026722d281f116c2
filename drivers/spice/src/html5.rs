//! The `spice/spice-html5` driver.

use consoled_core::{ConsoleDriver, DriverDescriptor};

use crate::HTML5_DESCRIPTOR;

/// spice-html5 over a WebSocket: every method is the trait's default (the
/// `spice` endpoint, TLS port kept; the token in `token`; TCP to the plain
/// port).
#[derive(Debug, Clone, Copy, Default)]
pub struct SpiceHtml5Driver;

impl ConsoleDriver for SpiceHtml5Driver {
    fn descriptor(&self) -> &DriverDescriptor {
        &HTML5_DESCRIPTOR
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use consoled_core::catalog::NOVA_CONSOLE_TYPES;
    use consoled_core::{Token, Url};

    #[test]
    fn descriptor_matches_the_wire_contract() {
        let d = HTML5_DESCRIPTOR;
        let entry = NOVA_CONSOLE_TYPES
            .iter()
            .find(|e| e.protocol == d.protocol && e.console_type == d.console_type)
            .expect("pair is in the catalog");
        assert_eq!(entry.min_version, d.min_version);
        let url = SpiceHtml5Driver
            .access_url(&Url::parse(d.default_base_url).unwrap(), &Token::new("t-1"))
            .unwrap();
        assert_eq!(
            url.as_str(),
            "http://127.0.0.1:6082/spice_auto.html?token=t-1"
        );
    }
}
