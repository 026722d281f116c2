//! The test kit's own endpoints as conformance fixtures.

use std::convert::Infallible;
use std::io;
use std::sync::Arc;

use async_trait::async_trait;
use consoled_core::{BackendStream, Endpoint};
use tokio::io::AsyncWriteExt;

use super::endpoint::{echo_exchange, local_endpoint, ConformanceEndpoint, Refusal, Refused};
use crate::{
    normalize_thumbprint, rfb_client_handshake, rfb_request_frame, spice_link_message,
    spice_read_link_reply, AuthdEndpoint, AuthdOptions, GradientFrames, RfbOptions, RfbServer,
    SerialEcho, SpiceEndpoint,
};

/// A VNC server: the RFB handshake and one full frame, directly and
/// through a `CONNECT` path.
#[async_trait]
impl ConformanceEndpoint for RfbServer {
    const CONNECT_PATH: bool = true;

    async fn start(connect_path: Option<&str>) -> io::Result<Self> {
        RfbServer::start_with(RfbOptions {
            name: "conformance-vm".into(),
            width: 64,
            height: 48,
            connect_path: connect_path.map(str::to_owned),
            frames: Arc::new(GradientFrames),
        })
        .await
    }

    fn endpoint(&self) -> Endpoint {
        let path = self.options().connect_path.as_deref();
        local_endpoint(self.addr().port(), path)
    }

    async fn exchange(&self, stream: &mut BackendStream) -> Result<(), String> {
        let options = self.options();
        let init = rfb_client_handshake(stream)
            .await
            .map_err(|e| format!("RFB handshake through the driver failed: {e}"))?;
        if (init.width, init.height, init.name.as_str())
            != (options.width, options.height, options.name.as_str())
        {
            return Err(format!("the ServerInit arrived garbled: {init:?}"));
        }
        let frame = rfb_request_frame(stream, options.width, options.height)
            .await
            .map_err(|e| format!("frame request through the driver failed: {e}"))?;
        let expected = usize::from(options.width) * usize::from(options.height) * 4;
        if frame.len() != expected {
            return Err(format!(
                "a frame of {} bytes, expected {expected}",
                frame.len()
            ));
        }
        Ok(())
    }
}

/// A byte echo: bytes come back, directly and through a `CONNECT` path.
/// It stands in for any backend the driver relays as plain bytes.
#[async_trait]
impl ConformanceEndpoint for SerialEcho {
    const CONNECT_PATH: bool = true;

    async fn start(connect_path: Option<&str>) -> io::Result<Self> {
        match connect_path {
            Some(path) => SerialEcho::start_with_connect_path(path).await,
            None => SerialEcho::start().await,
        }
    }

    fn endpoint(&self) -> Endpoint {
        local_endpoint(self.addr().port(), self.connect_path())
    }

    async fn exchange(&self, stream: &mut BackendStream) -> Result<(), String> {
        echo_exchange(stream).await
    }
}

/// A SPICE server: the link reply is OK, then bytes echo.
#[async_trait]
impl ConformanceEndpoint for SpiceEndpoint {
    async fn start(_connect_path: Option<&str>) -> io::Result<Self> {
        SpiceEndpoint::start().await
    }

    fn endpoint(&self) -> Endpoint {
        local_endpoint(self.addr().port(), None)
    }

    async fn exchange(&self, stream: &mut BackendStream) -> Result<(), String> {
        let link = async {
            stream.write_all(&spice_link_message()).await?;
            stream.flush().await?;
            spice_read_link_reply(&mut *stream).await
        };
        match link.await {
            Ok(0) => echo_exchange(stream).await,
            Ok(code) => Err(format!("link reply error {code}, expected 0")),
            Err(e) => Err(format!("SPICE link through the driver failed: {e}")),
        }
    }
}

/// The ticket the conformance authd accepts.
const AUTHD_TICKET: &str = "conformance-ticket-7f3a";
/// A ticket it refuses.
const AUTHD_WRONG_TICKET: &str = "conformance-wrong-ticket-9c1e";
/// The VM it serves.
const AUTHD_CFG_FILE: &str = "[datastore1] conformance/vm.vmx";

/// A VMware authd: the webmks exchange with either thumbprint form, then
/// echo; a wrong ticket is a 503 that does not name the ticket, a garbled
/// access path never gets a stream.
#[async_trait]
impl ConformanceEndpoint for AuthdEndpoint {
    async fn start(_connect_path: Option<&str>) -> io::Result<Self> {
        AuthdEndpoint::start(AuthdOptions {
            ticket: AUTHD_TICKET.into(),
            cfg_file: AUTHD_CFG_FILE.into(),
        })
        .await
    }

    fn endpoint(&self) -> Endpoint {
        self.endpoint_with(AUTHD_TICKET, &self.thumbprint())
    }

    fn alternatives(&self) -> Vec<(&'static str, Endpoint)> {
        let plain_hex = normalize_thumbprint(&self.thumbprint());
        vec![(
            "plain-hex thumbprint",
            self.endpoint_with(AUTHD_TICKET, &plain_hex),
        )]
    }

    async fn exchange(&self, stream: &mut BackendStream) -> Result<(), String> {
        echo_exchange(stream).await
    }

    fn verify(&self, exchanges: usize) -> Result<(), String> {
        match self.authenticated() {
            done if done == exchanges => Ok(()),
            done => Err(format!(
                "{done} sessions completed the exchange, expected {exchanges}"
            )),
        }
    }

    fn refusals(&self) -> Vec<Refusal> {
        vec![
            Refusal {
                name: "webmks with a wrong ticket",
                endpoint: self.endpoint_with(AUTHD_WRONG_TICKET, &self.thumbprint()),
                refused: Refused::Connecting {
                    secret: Some(AUTHD_WRONG_TICKET.into()),
                },
            },
            Refusal {
                name: "webmks with a garbled access path",
                endpoint: local_endpoint(self.addr().port(), Some("{not json")),
                refused: Refused::MintingOrConnecting,
            },
        ]
    }

    fn unreachable(port: u16) -> Endpoint {
        let access = serde_json::json!({
            "ticket": "conformance-ticket",
            "cfgFile": "[ds1] conformance/vm.vmx",
            "thumbprint": "00:11:22:33:44:55:66:77:88:99:AA:BB:CC:DD:EE:FF:00:11:22:33",
        })
        .to_string();
        local_endpoint(port, Some(&access))
    }
}

impl AuthdEndpoint {
    fn endpoint_with(&self, ticket: &str, thumbprint: &str) -> Endpoint {
        let access = serde_json::json!({
            "ticket": ticket,
            "cfgFile": AUTHD_CFG_FILE,
            "thumbprint": thumbprint,
        })
        .to_string();
        local_endpoint(self.addr().port(), Some(&access))
    }
}

/// No backend of ours: the type's front is
/// [`Front::External`](consoled_core::Front::External) (spice-direct),
/// `connect` must answer 501, and there is nothing to start, so no value
/// of this type exists.
#[derive(Debug)]
pub struct ExternalGateway(Infallible);

#[async_trait]
impl ConformanceEndpoint for ExternalGateway {
    const EXTERNAL: bool = true;

    async fn start(_connect_path: Option<&str>) -> io::Result<Self> {
        Err(io::Error::new(
            io::ErrorKind::Unsupported,
            "an external gateway's consoles have no backend of ours to start",
        ))
    }

    fn endpoint(&self) -> Endpoint {
        match self.0 {}
    }

    async fn exchange(&self, _stream: &mut BackendStream) -> Result<(), String> {
        match self.0 {}
    }

    /// An external gateway is handed the TLS port, so give it one.
    fn unreachable(port: u16) -> Endpoint {
        Endpoint {
            tls_port: Some(port),
            ..local_endpoint(port, None)
        }
    }
}
