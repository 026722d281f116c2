//! The real drivers, wrapped with switches that break them in the ways the
//! conformance suite must catch. With no flaw the wrapper only delegates,
//! so a suite failure is the flaw's doing.

use std::sync::Arc;

use consoled_core::{
    async_trait, with_token_query, BackendStream, ConnectInfo, ConsoleDriver, ConsoleError,
    DriverDescriptor, Microversion, Server, Token, TokenRecord, Url,
};

/// How the driver misbehaves.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Flaw {
    None,
    /// Puts the token in a top-level `token` parameter even for novnc.
    TokenOutsidePath,
    /// Appends `token=` without replacing a stale one.
    KeepsStaleToken,
    /// Ignores the internal access path (no `CONNECT` handshake).
    IgnoresConnectPath,
    /// Claims a microversion the compute API does not agree with.
    WrongMicroversion,
    /// Answers 500 for a server without the console.
    NoEndpointIs500,
    /// Hands out a stream even when the backend refused it (a relay to a
    /// closed session instead of an error).
    StreamsAnyway,
}

/// The drivers the kit's own tests wrap.
#[derive(Debug, Clone, Copy)]
pub enum Real {
    Novnc,
    Xvpvnc,
    Serial,
    SpiceHtml5,
    SpiceDirect,
    Webmks,
}

impl Real {
    fn driver(self) -> Arc<dyn ConsoleDriver> {
        match self {
            Real::Novnc => Arc::new(consoled_driver_vnc_novnc::NoVncDriver),
            Real::Xvpvnc => Arc::new(consoled_driver_vnc_xvpvnc::XvpVncDriver),
            Real::Serial => Arc::new(consoled_driver_serial::SerialDriver),
            Real::SpiceHtml5 => Arc::new(consoled_driver_spice::SpiceHtml5Driver),
            Real::SpiceDirect => Arc::new(consoled_driver_spice::SpiceDirectDriver),
            Real::Webmks => Arc::new(consoled_driver_mks::WebMksDriver::default()),
        }
    }
}

pub struct TestDriver {
    inner: Arc<dyn ConsoleDriver>,
    descriptor: DriverDescriptor,
    flaw: Flaw,
}

impl TestDriver {
    pub fn new(real: Real, flaw: Flaw) -> Self {
        let inner = real.driver();
        let mut descriptor = *inner.descriptor();
        if flaw == Flaw::WrongMicroversion {
            descriptor.min_version = Microversion::new(2, 1);
        }
        TestDriver {
            inner,
            descriptor,
            flaw,
        }
    }
}

#[async_trait]
impl ConsoleDriver for TestDriver {
    fn descriptor(&self) -> &DriverDescriptor {
        &self.descriptor
    }

    async fn connect_info(&self, server: &Server) -> Result<ConnectInfo, ConsoleError> {
        match self.inner.connect_info(server).await {
            Err(ConsoleError::BadRequest(message)) if self.flaw == Flaw::NoEndpointIs500 => {
                Err(ConsoleError::Internal(message))
            }
            other => other,
        }
    }

    fn access_url(&self, base: &Url, token: &Token) -> Result<Url, ConsoleError> {
        match self.flaw {
            Flaw::TokenOutsidePath => Ok(with_token_query(base, token)),
            Flaw::KeepsStaleToken => {
                let mut url = base.clone();
                url.query_pairs_mut().append_pair("token", token.expose());
                Ok(url)
            }
            _ => self.inner.access_url(base, token),
        }
    }

    async fn connect(&self, record: &TokenRecord) -> Result<BackendStream, ConsoleError> {
        if self.flaw == Flaw::StreamsAnyway {
            return match self.inner.connect(record).await {
                Ok(stream) => Ok(stream),
                Err(_) => Ok(Box::new(tokio::io::duplex(64).0)),
            };
        }
        if self.flaw == Flaw::IgnoresConnectPath {
            let mut record = record.clone();
            record.connect.internal_access_path = None;
            return self.inner.connect(&record).await;
        }
        self.inner.connect(record).await
    }
}
