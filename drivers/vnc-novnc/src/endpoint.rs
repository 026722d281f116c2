//! From a server's VNC endpoint to connect info.

use consoled_core::{ConnectInfo, ConsoleError, Server};

/// The connect info of `server`'s VNC console.
///
/// # Errors
/// 400 when the server has no VNC endpoint, or one without host or port.
pub(crate) fn vnc_connect_info(server: &Server) -> Result<ConnectInfo, ConsoleError> {
    let endpoint = server.endpoint(crate::DESCRIPTOR.protocol).ok_or_else(|| {
        ConsoleError::BadRequest(format!(
            "Instance {} has no VNC console configured.",
            server.id
        ))
    })?;
    if endpoint.host.trim().is_empty() || endpoint.port == 0 {
        return Err(ConsoleError::BadRequest(format!(
            "Instance {} has a VNC console without a host or port.",
            server.id
        )));
    }
    Ok(ConnectInfo {
        host: endpoint.host.clone(),
        port: endpoint.port,
        tls_port: endpoint.tls_port,
        internal_access_path: endpoint.internal_access_path.clone(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use consoled_testkit::ServerBuilder;

    #[test]
    fn copies_the_endpoint() {
        let server = ServerBuilder::new("s1", "web")
            .vnc("10.0.0.5", 5901)
            .build();
        let info = vnc_connect_info(&server).unwrap();
        assert_eq!((info.host.as_str(), info.port), ("10.0.0.5", 5901));
        assert_eq!(info.internal_access_path, None);
    }

    #[test]
    fn missing_or_unusable_endpoint_is_400() {
        let none = ServerBuilder::new("s1", "web")
            .serial("10.0.0.5", 7000)
            .build();
        let err = vnc_connect_info(&none).unwrap_err();
        assert_eq!(err.status(), 400);
        assert!(err.to_string().contains("s1"), "{err}");

        let zero = ServerBuilder::new("s2", "web").vnc("10.0.0.5", 0).build();
        assert_eq!(vnc_connect_info(&zero).unwrap_err().status(), 400);
        let blank = ServerBuilder::new("s3", "web").vnc(" ", 5900).build();
        assert_eq!(vnc_connect_info(&blank).unwrap_err().status(), 400);
    }
}
