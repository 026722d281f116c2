//! The `spice/spice-direct` driver: minting only.

use consoled_core::{
    async_trait, BackendStream, ConnectInfo, ConsoleDriver, ConsoleError, DriverDescriptor, Server,
    TokenRecord,
};

use crate::{endpoint, DIRECT_DESCRIPTOR};

/// spice-direct: native SPICE clients through an external SPICE proxy,
/// which resolves the token through the console auth token API. We mint
/// (the endpoint must have a TLS port; the token in `token`, the trait's
/// default); we never connect.
#[derive(Debug, Clone, Copy, Default)]
pub struct SpiceDirectDriver;

#[async_trait]
impl ConsoleDriver for SpiceDirectDriver {
    fn descriptor(&self) -> &DriverDescriptor {
        &DIRECT_DESCRIPTOR
    }

    async fn connect_info(&self, server: &Server) -> Result<ConnectInfo, ConsoleError> {
        endpoint::tls_connect_info(server)
    }

    async fn connect(&self, _record: &TokenRecord) -> Result<BackendStream, ConsoleError> {
        Err(ConsoleError::NotImplemented(
            "spice-direct consoles are served by an external SPICE proxy, which resolves the token \
             through os-console-auth-tokens; consoled has no spice-direct front."
                .into(),
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use consoled_core::{catalog::NOVA_CONSOLE_TYPES, Front, Token, TokenHash, Url};

    #[test]
    fn descriptor_matches_the_wire_contract() {
        let d = DIRECT_DESCRIPTOR;
        let entry = NOVA_CONSOLE_TYPES
            .iter()
            .find(|e| e.protocol == d.protocol && e.console_type == d.console_type)
            .expect("pair is in the catalog");
        assert_eq!(entry.min_version, d.min_version);
        assert_eq!(d.front, Front::External);
        let url = SpiceDirectDriver
            .access_url(&Url::parse(d.default_base_url).unwrap(), &Token::new("t-1"))
            .unwrap();
        assert_eq!(url.as_str(), "http://127.0.0.1:13002/nova?token=t-1");
    }

    #[tokio::test]
    async fn connect_is_not_ours() {
        let record = TokenRecord {
            token_hash: TokenHash::from_bytes([7; 32]),
            protocol: "spice".into(),
            console_type: "spice-direct".into(),
            instance_uuid: "s1".into(),
            connect: ConnectInfo {
                host: "127.0.0.1".into(),
                port: 5900,
                tls_port: Some(5901),
                internal_access_path: None,
                unix_socket: None,
            },
            access_url_base: d_base(),
            expires_at: u64::MAX,
            minted_by: None,
        };
        let err = SpiceDirectDriver
            .connect(&record)
            .await
            .err()
            .expect("refused");
        assert_eq!(err.status(), 501);
        assert!(err.to_string().contains("external SPICE proxy"));
    }

    fn d_base() -> String {
        DIRECT_DESCRIPTOR.default_base_url.to_owned()
    }
}
