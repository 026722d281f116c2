//! [`SecurityProxy`]: a VNC driver with Nova's RFB security proxy between
//! its backend stream and the client.

use consoled_core::{
    async_trait, BackendStream, ConnectInfo, ConsoleDriver, ConsoleError, DriverDescriptor, Server,
    Token, TokenRecord, Url,
};

use crate::security::VncSecurity;

/// `driver` with its backend streams secured by `security`: minting is
/// the driver's own, and connecting opens the driver's backend stream and
/// then negotiates the VNC server's security on it
/// ([`VncSecurity::secure`]), so whatever the driver connects to (TCP with
/// a `CONNECT` path, a UNIX socket) gets the same security proxy.
///
/// Install one in a registry with
/// [`Registry::replace`](consoled_core::Registry::replace).
#[derive(Debug, Clone)]
pub struct SecurityProxy<D> {
    driver: D,
    security: VncSecurity,
}

impl<D: ConsoleDriver> SecurityProxy<D> {
    /// `driver`, its backend streams secured by `security`.
    pub fn new(driver: D, security: VncSecurity) -> Self {
        SecurityProxy { driver, security }
    }

    /// The wrapped driver.
    pub fn driver(&self) -> &D {
        &self.driver
    }

    /// How its backend streams are secured.
    pub fn security(&self) -> &VncSecurity {
        &self.security
    }
}

#[async_trait]
impl<D: ConsoleDriver> ConsoleDriver for SecurityProxy<D> {
    fn descriptor(&self) -> &DriverDescriptor {
        self.driver.descriptor()
    }

    async fn connect_info(&self, server: &Server) -> Result<ConnectInfo, ConsoleError> {
        self.driver.connect_info(server).await
    }

    fn access_url(&self, base: &Url, token: &Token) -> Result<Url, ConsoleError> {
        self.driver.access_url(base, token)
    }

    async fn connect(&self, record: &TokenRecord) -> Result<BackendStream, ConsoleError> {
        let backend = self.driver.connect(record).await?;
        self.security.secure(backend, &record.connect).await
    }
}
