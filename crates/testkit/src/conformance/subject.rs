//! The driver under test, and calling it safely.

use std::future::Future;
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use consoled_core::{
    unix_seconds, BackendStream, ConnectInfo, ConsoleDriver, ConsoleError, DriverDescriptor,
    Endpoint, Server, Token, TokenRecord,
};

use crate::ServerBuilder;

/// The server every check asks about.
pub(super) const SERVER_ID: &str = "5e7f3c1a-0b2d-4e6f-8a9b-c0d1e2f3a4b5";
/// A token shaped as consoled mints them (a UUID).
pub(super) const TOKEN: &str = "c0ffee00-1234-4abc-8def-0123456789ab";
/// How long any single driver call may take before the check fails.
pub(super) const CALL_LIMIT: Duration = Duration::from_secs(30);

/// A driver and its descriptor, named in every failure.
pub(super) struct Subject {
    pub driver: Arc<dyn ConsoleDriver>,
    pub descriptor: DriverDescriptor,
}

impl Subject {
    pub fn new(driver: Arc<dyn ConsoleDriver>) -> Self {
        let descriptor = *driver.descriptor();
        Subject { driver, descriptor }
    }

    /// Fails the suite with a message naming the driver.
    #[track_caller]
    pub fn fail(&self, check: &str, message: impl std::fmt::Display) -> ! {
        let d = &self.descriptor;
        panic!(
            "driver conformance: {}/{} ({}) failed \"{check}\": {message}",
            d.protocol, d.console_type, d.crate_name
        )
    }

    /// A server whose console of the driver's protocol is `endpoint`.
    pub fn server_with(&self, endpoint: Endpoint) -> Server {
        ServerBuilder::new(SERVER_ID, "conformance")
            .console(self.descriptor.protocol, endpoint)
            .build()
    }

    /// `connect_info` under the time limit.
    pub async fn connect_info(
        &self,
        check: &str,
        server: &Server,
    ) -> Result<ConnectInfo, ConsoleError> {
        self.limited(check, "connect_info", self.driver.connect_info(server))
            .await
    }

    /// The record a store would hold for a console on `endpoint`, built
    /// from the driver's own connect info. Fails when that is refused.
    pub async fn record_for(&self, check: &str, endpoint: Endpoint) -> TokenRecord {
        let server = self.server_with(endpoint.clone());
        let info = match self.connect_info(check, &server).await {
            Ok(info) => info,
            Err(e) => self.fail(
                check,
                format!(
                    "connect_info refused a usable endpoint: {e} ({})",
                    e.status()
                ),
            ),
        };
        if info.host != endpoint.host || info.port != endpoint.port {
            self.fail(
                check,
                format!(
                    "connect_info points at {}:{}, the server's endpoint is {}:{}",
                    info.host, info.port, endpoint.host, endpoint.port
                ),
            );
        }
        self.record_from(info)
    }

    /// The record a store would hold for a console at `info`.
    pub fn record_from(&self, info: ConnectInfo) -> TokenRecord {
        TokenRecord {
            token_hash: Token::new(TOKEN).hash(),
            protocol: self.descriptor.protocol.to_owned(),
            console_type: self.descriptor.console_type.to_owned(),
            instance_uuid: SERVER_ID.to_owned(),
            connect: info,
            access_url_base: self.descriptor.default_base_url.to_owned(),
            expires_at: unix_seconds(SystemTime::now()) + 600,
            minted_by: None,
        }
    }

    /// `connect` in its own task under the time limit, so that a panicking
    /// driver fails the check with a clear message.
    pub async fn connect(
        &self,
        check: &str,
        record: &TokenRecord,
    ) -> Result<BackendStream, ConsoleError> {
        let driver = self.driver.clone();
        let record = record.clone();
        let task = tokio::spawn(async move { driver.connect(&record).await });
        match self.limited(check, "connect", task).await {
            Ok(result) => result,
            Err(e) if e.is_panic() => {
                self.fail(check, "connect panicked instead of returning an error")
            }
            Err(e) => self.fail(check, format!("connect task failed: {e}")),
        }
    }

    /// `connect` that must succeed.
    pub async fn connected(&self, check: &str, record: &TokenRecord) -> BackendStream {
        match self.connect(check, record).await {
            Ok(stream) => stream,
            Err(e) => self.fail(check, format!("connect failed: {e} ({})", e.status())),
        }
    }

    /// Awaits `call` for at most [`CALL_LIMIT`].
    pub async fn limited<T>(&self, check: &str, what: &str, call: impl Future<Output = T>) -> T {
        match tokio::time::timeout(CALL_LIMIT, call).await {
            Ok(value) => value,
            Err(_) => self.fail(
                check,
                format!("{what} did not finish within {CALL_LIMIT:?}"),
            ),
        }
    }
}

/// The endpoint type, named in failures: its path without the modules.
pub(super) fn endpoint_name<E>() -> &'static str {
    let full = std::any::type_name::<E>();
    full.rsplit("::").next().unwrap_or(full)
}
