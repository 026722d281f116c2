//! The `mks/webmks` driver.

use std::sync::Arc;

use consoled_core::{
    async_trait, BackendStream, ConnectInfo, ConsoleDriver, ConsoleError, DriverDescriptor, Server,
    TokenRecord,
};
use rustls::crypto::CryptoProvider;

use crate::{access, authd, DESCRIPTOR};

/// VMware WebMKS: the token in `token` (the trait's default); minting
/// checks the MKS access data, connecting does the authd exchange.
#[derive(Debug, Clone)]
pub struct WebMksDriver {
    provider: Arc<CryptoProvider>,
}

impl Default for WebMksDriver {
    /// A driver on rustls's ring provider.
    fn default() -> Self {
        WebMksDriver {
            provider: Arc::new(rustls::crypto::ring::default_provider()),
        }
    }
}

#[async_trait]
impl ConsoleDriver for WebMksDriver {
    fn descriptor(&self) -> &DriverDescriptor {
        &DESCRIPTOR
    }

    async fn connect_info(&self, server: &Server) -> Result<ConnectInfo, ConsoleError> {
        let info = server.connect_info(DESCRIPTOR.protocol, DESCRIPTOR.label)?;
        access::parse(info.internal_access_path.as_deref()).map_err(|why| {
            ConsoleError::BadRequest(format!(
                "Instance {} has an unusable MKS console: {why}.",
                server.id
            ))
        })?;
        Ok(info)
    }

    async fn connect(&self, record: &TokenRecord) -> Result<BackendStream, ConsoleError> {
        let info = &record.connect;
        // Checked at mint time; a record from another node or an older
        // release may still carry something unusable.
        let access = access::parse(info.internal_access_path.as_deref()).map_err(|why| {
            ConsoleError::ServiceUnavailable(format!(
                "webmks backend {}:{}: unusable MKS access data: {why}",
                info.host, info.port
            ))
        })?;
        authd::open(&self.provider, info, &access).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use consoled_core::catalog::NOVA_CONSOLE_TYPES;
    use consoled_core::{Endpoint, Token, Url};
    use consoled_testkit::ServerBuilder;

    fn mks_server(access: Option<&str>) -> Server {
        ServerBuilder::new("s1", "vm")
            .console(
                "mks",
                Endpoint {
                    host: "esxi-1".into(),
                    port: 902,
                    tls_port: None,
                    internal_access_path: access.map(str::to_owned),
                    unix_socket: None,
                },
            )
            .build()
    }

    #[test]
    fn descriptor_matches_the_wire_contract() {
        let entry = NOVA_CONSOLE_TYPES
            .iter()
            .find(|e| {
                e.protocol == DESCRIPTOR.protocol && e.console_type == DESCRIPTOR.console_type
            })
            .expect("pair is in the catalog");
        assert_eq!(entry.min_version, DESCRIPTOR.min_version);
        let url = WebMksDriver::default()
            .access_url(
                &Url::parse(DESCRIPTOR.default_base_url).unwrap(),
                &Token::new("t-1"),
            )
            .unwrap();
        assert_eq!(url.as_str(), "http://127.0.0.1:6090/?token=t-1");
    }

    #[tokio::test]
    async fn connect_info_checks_the_access_data() {
        let driver = WebMksDriver::default();
        let good = r#"{"ticket": "secret-ticket", "cfgFile": "[ds] vm.vmx", "thumbprint": "00112233445566778899aabbccddeeff00112233"}"#;
        let info = driver.connect_info(&mks_server(Some(good))).await.unwrap();
        assert_eq!((info.host.as_str(), info.port), ("esxi-1", 902));
        assert_eq!(info.internal_access_path.as_deref(), Some(good));

        for bad in [
            None,
            Some("secret-ticket"),
            Some(r#"{"ticket": "secret-ticket"}"#),
        ] {
            let err = driver.connect_info(&mks_server(bad)).await.unwrap_err();
            assert_eq!(err.status(), 400, "{bad:?}");
            assert!(
                err.to_string()
                    .starts_with("Instance s1 has an unusable MKS console"),
                "{err}"
            );
            assert!(!err.to_string().contains("secret"), "{err}");
        }
        let none = ServerBuilder::new("s2", "vm").vnc("h", 5900).build();
        assert_eq!(driver.connect_info(&none).await.unwrap_err().status(), 400);
    }

    #[tokio::test]
    async fn authd_that_is_not_authd_is_503() {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = listener.local_addr().unwrap().port();
        tokio::spawn(async move {
            if let Ok((mut s, _)) = listener.accept().await {
                use tokio::io::AsyncWriteExt;
                let _ = s.write_all(b"SSH-2.0-OpenSSH\r\n").await;
            }
        });
        let record = TokenRecord {
            token_hash: Token::new("t").hash(),
            protocol: "mks".into(),
            console_type: "webmks".into(),
            instance_uuid: "s1".into(),
            connect: ConnectInfo {
                host: "127.0.0.1".into(),
                port,
                tls_port: None,
                internal_access_path: Some(
                    r#"{"ticket": "secret-ticket", "cfgFile": "vm.vmx", "thumbprint": "00112233445566778899aabbccddeeff00112233"}"#
                        .into(),
                ),
                unix_socket: None,
            },
            access_url_base: DESCRIPTOR.default_base_url.into(),
            expires_at: u64::MAX,
            minted_by: None,
        };
        let err = WebMksDriver::default()
            .connect(&record)
            .await
            .err()
            .expect("refused");
        assert_eq!(err.status(), 503);
        assert!(err.to_string().contains("220 greeting"), "{err}");
        assert!(!err.to_string().contains("secret"), "{err}");
    }
}
