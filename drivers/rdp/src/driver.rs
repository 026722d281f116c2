//! The `rdp/rdp-html5` driver.

use consoled_core::backend::open_tcp_backend;
use consoled_core::{
    async_trait, with_token_query, BackendStream, ConnectInfo, ConsoleDriver, ConsoleError,
    DriverDescriptor, Server, Token, TokenRecord, Url,
};

use crate::{endpoint, DESCRIPTOR};

/// RDP for HTML5 gateways: token in `token`, plain TCP backend.
#[derive(Debug, Clone, Copy, Default)]
pub struct RdpHtml5Driver;

#[async_trait]
impl ConsoleDriver for RdpHtml5Driver {
    fn descriptor(&self) -> &DriverDescriptor {
        &DESCRIPTOR
    }

    async fn connect_info(&self, server: &Server) -> Result<ConnectInfo, ConsoleError> {
        endpoint::connect_info(server)
    }

    fn access_url(&self, base: &Url, token: &Token) -> Result<Url, ConsoleError> {
        Ok(with_token_query(base, token))
    }

    async fn connect(&self, record: &TokenRecord) -> Result<BackendStream, ConsoleError> {
        let stream = open_tcp_backend(&record.connect).await?;
        Ok(Box::new(stream))
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
        assert!(Url::parse(DESCRIPTOR.default_base_url).is_ok());
    }

    #[test]
    fn token_goes_into_the_token_parameter() {
        let url = RdpHtml5Driver
            .access_url(
                &Url::parse(DESCRIPTOR.default_base_url).unwrap(),
                &Token::new("t-1"),
            )
            .unwrap();
        assert_eq!(
            url.as_str(),
            format!("{}?token=t-1", DESCRIPTOR.default_base_url)
        );
        let kept = RdpHtml5Driver
            .access_url(
                &Url::parse("https://[::1]:9443/c?lang=en&token=old#f").unwrap(),
                &Token::new("t-2"),
            )
            .unwrap();
        assert_eq!(kept.as_str(), "https://[::1]:9443/c?lang=en&token=t-2#f");
    }
}
