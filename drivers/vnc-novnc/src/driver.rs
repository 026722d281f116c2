//! The `vnc/novnc` driver.

use consoled_core::{ConsoleDriver, ConsoleError, DriverDescriptor, Token, Url};
use consoled_rfb::{SecurityProxy, VncSecurity};

use crate::{url_path, DESCRIPTOR};

/// VNC through noVNC: the token goes inside noVNC's `path`; minting from
/// the `vnc` endpoint and the plain TCP backend are the trait's defaults.
#[derive(Debug, Clone, Copy, Default)]
pub struct NoVncDriver;

impl NoVncDriver {
    /// noVNC with `security` between the proxy and the VNC server: with
    /// `vencrypt` in its `auth_schemes`, Nova's RFB security proxy (the
    /// browser is offered security None). Install it with
    /// [`Registry::replace`](consoled_core::Registry::replace).
    pub fn with_security(security: VncSecurity) -> SecurityProxy<NoVncDriver> {
        SecurityProxy::new(NoVncDriver, security)
    }
}

impl ConsoleDriver for NoVncDriver {
    fn descriptor(&self) -> &DriverDescriptor {
        &DESCRIPTOR
    }

    fn access_url(&self, base: &Url, token: &Token) -> Result<Url, ConsoleError> {
        Ok(url_path::with_token_in_path(base, token))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use consoled_core::catalog::NOVA_CONSOLE_TYPES;

    #[test]
    fn descriptor_matches_the_wire_contract() {
        let entry = NOVA_CONSOLE_TYPES
            .iter()
            .find(|e| {
                e.protocol == DESCRIPTOR.protocol && e.console_type == DESCRIPTOR.console_type
            })
            .expect("pair is in the catalog");
        assert_eq!(entry.min_version, DESCRIPTOR.min_version);
        let url = NoVncDriver
            .access_url(
                &Url::parse(DESCRIPTOR.default_base_url).unwrap(),
                &Token::new("t-1"),
            )
            .unwrap();
        assert_eq!(
            url.as_str(),
            "http://127.0.0.1:6080/vnc_auto.html?path=%3Ftoken%3Dt-1"
        );
    }
}
