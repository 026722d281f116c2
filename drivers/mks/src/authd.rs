//! VMware's authd exchange: from a TCP connection to a TLS-in-TLS stream
//! ready to relay WebMKS.

use std::fmt;
use std::net::IpAddr;
use std::sync::Arc;
use std::time::Duration;

use base64::Engine as _;
use consoled_core::backend::open_tcp;
use consoled_core::{BackendStream, ConnectInfo, ConsoleError};
use rustls::crypto::CryptoProvider;
use rustls::pki_types::{DnsName, ServerName};
use rustls::ClientConfig;
use tokio::io::{AsyncRead, AsyncWrite, AsyncWriteExt};
use tokio_rustls::client::TlsStream;
use tokio_rustls::TlsConnector;

use crate::access::MksAccess;
use crate::lines::{expect_status, read_line, write_line};
use crate::pin::{PinnedCertificate, Thumbprint};

/// How long the whole exchange, after TCP connects, may take.
pub(crate) const EXCHANGE_TIMEOUT: Duration = Duration::from_secs(15);

/// Used when the host is an address: the thumbprint pin, not the name, is
/// what authenticates the peer.
const FALLBACK_SERVER_NAME: &str = "vmware-authd";

/// The steps of the exchange, named in errors.
#[derive(Debug, Clone, Copy)]
enum Step {
    Greeting,
    OuterTls,
    User,
    Pass,
    Thumbprint,
    Connect,
    InnerTls,
    Nonce,
}

impl fmt::Display for Step {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Step::Greeting => "220 greeting",
            Step::OuterTls => "TLS to the host (thumbprint pin)",
            Step::User => "USER",
            Step::Pass => "PASS",
            Step::Thumbprint => "THUMBPRINT",
            Step::Connect => "CONNECT",
            Step::InnerTls => "inner TLS (thumbprint2 pin)",
            Step::Nonce => "nonce echo",
        })
    }
}

/// Opens the webmks backend of `info` with `access`.
///
/// # Errors
/// [`ConsoleError::ServiceUnavailable`] naming the step that failed (never
/// the ticket).
pub(crate) async fn open(
    provider: &Arc<CryptoProvider>,
    info: &ConnectInfo,
    access: &MksAccess,
) -> Result<BackendStream, ConsoleError> {
    let tcp = open_tcp(&info.host, info.port).await?;
    let exchange = Exchange {
        provider,
        server_name: server_name(&info.host),
        where_: format!("{}:{}", info.host, info.port),
    };
    match tokio::time::timeout(EXCHANGE_TIMEOUT, exchange.run(tcp, access)).await {
        Ok(result) => result,
        Err(_) => Err(ConsoleError::ServiceUnavailable(format!(
            "webmks backend {}: authd exchange timed out after {} s",
            exchange.where_,
            EXCHANGE_TIMEOUT.as_secs()
        ))),
    }
}

struct Exchange<'a> {
    provider: &'a Arc<CryptoProvider>,
    server_name: ServerName<'static>,
    where_: String,
}

impl Exchange<'_> {
    async fn run<S>(&self, mut plain: S, access: &MksAccess) -> Result<BackendStream, ConsoleError>
    where
        S: AsyncRead + AsyncWrite + Send + Unpin + 'static,
    {
        let greeting = read_line(&mut plain)
            .await
            .map_err(|e| self.failed(Step::Greeting, e))?;
        expect_status(&greeting, "220").map_err(|e| self.failed(Step::Greeting, e))?;

        let mut outer = self.tls(plain, access.thumbprint, Step::OuterTls).await?;
        self.command(
            &mut outer,
            Step::User,
            &format!("USER {}", access.ticket),
            "331",
        )
        .await?;
        self.command(
            &mut outer,
            Step::Pass,
            &format!("PASS {}", access.ticket),
            "230",
        )
        .await?;

        let nonce = self.nonce()?;
        let reply = self
            .command(
                &mut outer,
                Step::Thumbprint,
                &format!("THUMBPRINT {nonce}"),
                "200",
            )
            .await?;
        let inner_print = Thumbprint::parse(&reply).ok_or_else(|| {
            self.failed(
                Step::Thumbprint,
                "the reply carries no SHA-1 thumbprint".into(),
            )
        })?;
        self.command(
            &mut outer,
            Step::Connect,
            &format!("CONNECT {} mks", access.cfg_file),
            "200",
        )
        .await?;

        let mut inner = self.tls(outer, inner_print, Step::InnerTls).await?;
        inner
            .write_all(nonce.as_bytes())
            .await
            .map_err(|e| self.failed(Step::Nonce, e.to_string()))?;
        inner
            .flush()
            .await
            .map_err(|e| self.failed(Step::Nonce, e.to_string()))?;
        tracing::debug!(backend = %self.where_, "webmks authd exchange complete");
        Ok(Box::new(inner))
    }

    /// Sends one command and returns the text after the expected status.
    async fn command<S>(
        &self,
        stream: &mut S,
        step: Step,
        line: &str,
        code: &str,
    ) -> Result<String, ConsoleError>
    where
        S: AsyncRead + AsyncWrite + Unpin,
    {
        write_line(stream, line)
            .await
            .map_err(|e| self.failed(step, e))?;
        let reply = read_line(stream).await.map_err(|e| self.failed(step, e))?;
        expect_status(&reply, code)
            .map(str::to_owned)
            .map_err(|e| self.failed(step, e))
    }

    async fn tls<S>(
        &self,
        stream: S,
        pin: Thumbprint,
        step: Step,
    ) -> Result<TlsStream<S>, ConsoleError>
    where
        S: AsyncRead + AsyncWrite + Unpin,
    {
        let config = ClientConfig::builder_with_provider(self.provider.clone())
            .with_safe_default_protocol_versions()
            .map_err(|e| ConsoleError::Internal(format!("webmks TLS configuration: {e}")))?
            .dangerous()
            .with_custom_certificate_verifier(PinnedCertificate::new(pin, self.provider))
            .with_no_client_auth();
        TlsConnector::from(Arc::new(config))
            .connect(self.server_name.clone(), stream)
            .await
            .map_err(|e| self.failed(step, e.to_string()))
    }

    /// Base64 of 12 random bytes: the THUMBPRINT argument, sent again inside
    /// the inner session to prove it is the same client.
    fn nonce(&self) -> Result<String, ConsoleError> {
        let mut bytes = [0u8; 12];
        self.provider
            .secure_random
            .fill(&mut bytes)
            .map_err(|_| self.failed(Step::Thumbprint, "no random bytes available".into()))?;
        Ok(base64::engine::general_purpose::STANDARD.encode(bytes))
    }

    fn failed(&self, step: Step, why: String) -> ConsoleError {
        ConsoleError::ServiceUnavailable(format!(
            "webmks backend {}: authd step {step} failed: {why}",
            self.where_
        ))
    }
}

/// The host as a TLS server name when it is a DNS name, else a fixed name.
fn server_name(host: &str) -> ServerName<'static> {
    if host.parse::<IpAddr>().is_err() {
        if let Ok(name) = DnsName::try_from(host.to_owned()) {
            return ServerName::DnsName(name);
        }
    }
    ServerName::DnsName(
        DnsName::try_from(FALLBACK_SERVER_NAME)
            .expect("a valid DNS name")
            .to_owned(),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn server_names() {
        let name = |h| match server_name(h) {
            ServerName::DnsName(n) => n.as_ref().to_owned(),
            other => format!("{other:?}"),
        };
        assert_eq!(name("esxi-1.example.org"), "esxi-1.example.org");
        assert_eq!(name("10.0.0.9"), FALLBACK_SERVER_NAME);
        assert_eq!(name("::1"), FALLBACK_SERVER_NAME);
        assert_eq!(name("bad name!"), FALLBACK_SERVER_NAME);
    }
}
