//! The `rdp/rdp-html5` driver.

use consoled_core::backend::open_tcp_backend;
use consoled_core::{
    async_trait, with_token_query, BackendStream, ConnectInfo, ConsoleDriver, ConsoleError,
    DriverDescriptor, Server, Token, TokenRecord, Url,
};

use crate::DESCRIPTOR;

/// RDP for HTML5 gateways: token in `token`, plain TCP backend.
#[derive(Debug, Clone, Copy, Default)]
pub struct RdpHtml5Driver;

#[async_trait]
impl ConsoleDriver for RdpHtml5Driver {
    fn descriptor(&self) -> &DriverDescriptor {
        &DESCRIPTOR
    }

    async fn connect_info(&self, server: &Server) -> Result<ConnectInfo, ConsoleError> {
        server.connect_info(DESCRIPTOR.protocol, "RDP")
    }

    fn access_url(&self, base: &Url, token: &Token) -> Result<Url, ConsoleError> {
        Ok(with_token_query(base, token))
    }

    async fn connect(&self, record: &TokenRecord) -> Result<BackendStream, ConsoleError> {
        let stream = open_tcp_backend(&record.connect).await?;
        Ok(Box::new(stream))
    }
}
