//! The `serial/serial` driver.

use consoled_core::backend::open_tcp_backend;
use consoled_core::{
    async_trait, with_token_query, BackendStream, ConnectInfo, ConsoleDriver, ConsoleError,
    DriverDescriptor, Server, Token, TokenRecord, Url,
};

use crate::DESCRIPTOR;

/// Serial consoles over WebSocket: token in `token`, plain TCP backend.
#[derive(Debug, Clone, Copy, Default)]
pub struct SerialDriver;

#[async_trait]
impl ConsoleDriver for SerialDriver {
    fn descriptor(&self) -> &DriverDescriptor {
        &DESCRIPTOR
    }

    async fn connect_info(&self, server: &Server) -> Result<ConnectInfo, ConsoleError> {
        server.connect_info(DESCRIPTOR.protocol, "serial")
    }

    fn access_url(&self, base: &Url, token: &Token) -> Result<Url, ConsoleError> {
        Ok(with_token_query(base, token))
    }

    async fn connect(&self, record: &TokenRecord) -> Result<BackendStream, ConsoleError> {
        let stream = open_tcp_backend(&record.connect).await?;
        Ok(Box::new(stream))
    }
}
