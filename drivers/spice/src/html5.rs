//! The `spice/spice-html5` driver.

use consoled_core::backend::open_tcp_backend;
use consoled_core::{
    async_trait, with_token_query, BackendStream, ConnectInfo, ConsoleDriver, ConsoleError,
    DriverDescriptor, Server, Token, TokenRecord, Url,
};

use crate::{endpoint, HTML5_DESCRIPTOR};

/// spice-html5 over a WebSocket: token in `token`, TCP to the plain port.
#[derive(Debug, Clone, Copy, Default)]
pub struct SpiceHtml5Driver;

#[async_trait]
impl ConsoleDriver for SpiceHtml5Driver {
    fn descriptor(&self) -> &DriverDescriptor {
        &HTML5_DESCRIPTOR
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
