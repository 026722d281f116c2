//! From a server's SPICE endpoint to connect info.

use consoled_core::{ConnectInfo, ConsoleError, Server};

use crate::DIRECT_DESCRIPTOR;

const PROTOCOL: &str = DIRECT_DESCRIPTOR.protocol;

/// The connect info of `server`'s SPICE console, TLS port included when it
/// has one.
///
/// # Errors
/// 400 when the server has no SPICE endpoint, or one without host or port.
pub(crate) fn connect_info(server: &Server) -> Result<ConnectInfo, ConsoleError> {
    server.connect_info(PROTOCOL, DIRECT_DESCRIPTOR.label)
}

/// As [`connect_info`], and the endpoint must have a TLS port: the only
/// port an external spice-direct proxy is given.
///
/// # Errors
/// 400 as [`connect_info`], or when there is no TLS port.
pub(crate) fn tls_connect_info(server: &Server) -> Result<ConnectInfo, ConsoleError> {
    let info = connect_info(server)?;
    match info.tls_port {
        Some(port) if port != 0 => Ok(info),
        _ => Err(ConsoleError::BadRequest(format!(
            "Instance {} has no SPICE TLS port configured.",
            server.id
        ))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use consoled_core::Endpoint;
    use consoled_testkit::ServerBuilder;

    fn spice(tls_port: Option<u16>) -> Server {
        ServerBuilder::new("s1", "web")
            .console(
                PROTOCOL,
                Endpoint {
                    host: "10.0.0.7".into(),
                    port: 5900,
                    tls_port,
                    internal_access_path: None,
                    unix_socket: None,
                },
            )
            .build()
    }

    #[test]
    fn keeps_the_tls_port() {
        let info = connect_info(&spice(Some(5901))).unwrap();
        assert_eq!((info.port, info.tls_port), (5900, Some(5901)));
        assert_eq!(tls_connect_info(&spice(Some(5901))).unwrap(), info);
        assert_eq!(connect_info(&spice(None)).unwrap().tls_port, None);
    }

    #[test]
    fn direct_needs_a_tls_port() {
        for tls in [None, Some(0)] {
            let err = tls_connect_info(&spice(tls)).unwrap_err();
            assert_eq!(err.status(), 400);
            assert_eq!(
                err.to_string(),
                "Instance s1 has no SPICE TLS port configured."
            );
        }
    }

    #[test]
    fn missing_or_unusable_endpoint_is_400() {
        let none = ServerBuilder::new("s1", "web")
            .vnc("10.0.0.5", 5900)
            .build();
        assert_eq!(connect_info(&none).unwrap_err().status(), 400);
        assert_eq!(tls_connect_info(&none).unwrap_err().status(), 400);
        let zero = ServerBuilder::new("s2", "web")
            .endpoint(PROTOCOL, "h", 0)
            .build();
        assert_eq!(connect_info(&zero).unwrap_err().status(), 400);
    }
}
