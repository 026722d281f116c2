//! The server side of the WebSocket opening handshake (RFC 6455), done on
//! a head we parsed ourselves so that the token is checked and the backend
//! opened before we answer `101`.

use tokio::io::{AsyncRead, AsyncWrite};
use tokio_tungstenite::tungstenite::handshake::derive_accept_key;
use tokio_tungstenite::tungstenite::protocol::{Role, WebSocketConfig};
use tokio_tungstenite::WebSocketStream;

use crate::http_head::RequestHead;

/// The one subprotocol we speak: raw bytes in binary frames. spice-html5
/// and Horizon's serial console offer it; noVNC 1.2+ offers none.
pub(crate) const BINARY_PROTOCOL: &str = "binary";

/// Why an upgrade request is unusable.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub(crate) enum UpgradeError {
    /// Not a GET over HTTP/1.1.
    #[error("a WebSocket upgrade must be GET over HTTP/1.1")]
    Method,
    /// `Connection` does not list `upgrade`.
    #[error("Connection header does not list upgrade")]
    Connection,
    /// A protocol version other than 13.
    #[error("unsupported Sec-WebSocket-Version")]
    Version,
    /// A missing or malformed `Sec-WebSocket-Key`.
    #[error("missing or malformed Sec-WebSocket-Key")]
    Key,
}

impl UpgradeError {
    /// The status of the refusal (426 tells the client which version we
    /// speak).
    pub(crate) fn status(self) -> u16 {
        match self {
            UpgradeError::Version => 426,
            _ => 400,
        }
    }
}

/// An upgrade we can accept.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Upgrade {
    accept: String,
    protocol: Option<&'static str>,
}

/// Whether `head` asks for a WebSocket.
pub(crate) fn is_upgrade(head: &RequestHead) -> bool {
    head.header_has("upgrade", "websocket")
}

/// Checks an upgrade request and works out our answer.
///
/// # Errors
/// [`UpgradeError`] naming the first rule the request breaks.
pub(crate) fn negotiate(head: &RequestHead) -> Result<Upgrade, UpgradeError> {
    if head.method != "GET" || head.minor_version < 1 {
        return Err(UpgradeError::Method);
    }
    if !head.header_has("connection", "upgrade") {
        return Err(UpgradeError::Connection);
    }
    if head.header("sec-websocket-version") != Some("13") {
        return Err(UpgradeError::Version);
    }
    let key = head.header("sec-websocket-key").ok_or(UpgradeError::Key)?;
    if !is_websocket_key(key) {
        return Err(UpgradeError::Key);
    }
    let protocol = head
        .header_has("sec-websocket-protocol", BINARY_PROTOCOL)
        .then_some(BINARY_PROTOCOL);
    Ok(Upgrade {
        accept: derive_accept_key(key.as_bytes()),
        protocol,
    })
}

/// 16 bytes in base64: 22 characters and `==`.
fn is_websocket_key(key: &str) -> bool {
    key.len() == 24
        && key.ends_with("==")
        && key[..22]
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'+' || b == b'/')
}

/// The `101 Switching Protocols` response for `upgrade`.
pub(crate) fn switching_protocols(upgrade: &Upgrade) -> String {
    let mut head = format!(
        "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\
         Sec-WebSocket-Accept: {}\r\n",
        upgrade.accept
    );
    if let Some(protocol) = upgrade.protocol {
        head.push_str(&format!("Sec-WebSocket-Protocol: {protocol}\r\n"));
    }
    head.push_str("\r\n");
    head
}

/// The server end of a WebSocket over `stream`, whose opening handshake is
/// done; `leftover` holds bytes the client sent after its request head.
pub(crate) async fn server_stream<S>(
    stream: S,
    leftover: Vec<u8>,
    max_frame_size: usize,
) -> WebSocketStream<S>
where
    S: AsyncRead + AsyncWrite + Unpin,
{
    let config = WebSocketConfig::default()
        .max_frame_size(Some(max_frame_size))
        .max_message_size(Some(max_frame_size));
    WebSocketStream::from_partially_read(stream, leftover, Role::Server, Some(config)).await
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::http_head::parse_head;

    fn head(extra: &str) -> RequestHead {
        let raw = format!("GET /?token=t HTTP/1.1\r\nHost: h\r\n{extra}\r\n");
        parse_head(raw.as_bytes()).unwrap().unwrap().0
    }

    const UPGRADE: &str =
        "Upgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Version: 13\r\n\
                           Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n";

    #[test]
    fn rfc_6455_sample_accept_key() {
        let up = negotiate(&head(UPGRADE)).unwrap();
        let response = switching_protocols(&up);
        assert!(response.starts_with("HTTP/1.1 101 Switching Protocols\r\n"));
        assert!(response.contains("Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n"));
        assert!(!response.contains("Sec-WebSocket-Protocol"));
        assert!(!response.contains("keep-alive"));
        assert!(response.ends_with("\r\n\r\n"));
    }

    #[test]
    fn binary_is_chosen_when_offered() {
        let up = negotiate(&head(&format!(
            "{UPGRADE}Sec-WebSocket-Protocol: base64, binary\r\n"
        )))
        .unwrap();
        assert!(switching_protocols(&up).contains("Sec-WebSocket-Protocol: binary\r\n"));
        let up = negotiate(&head(&format!(
            "{UPGRADE}Sec-WebSocket-Protocol: base64\r\n"
        )))
        .unwrap();
        assert!(!switching_protocols(&up).contains("Sec-WebSocket-Protocol"));
    }

    #[test]
    fn refusals() {
        let no_conn = UPGRADE.replace("Connection: Upgrade", "Connection: keep-alive");
        assert_eq!(negotiate(&head(&no_conn)), Err(UpgradeError::Connection));
        let old = UPGRADE.replace("Version: 13", "Version: 8");
        assert_eq!(
            negotiate(&head(&old)).map_err(UpgradeError::status),
            Err(426)
        );
        let bad_key = UPGRADE.replace("dGhlIHNhbXBsZSBub25jZQ==", "short");
        assert_eq!(negotiate(&head(&bad_key)), Err(UpgradeError::Key));
        let raw = format!("POST / HTTP/1.1\r\n{UPGRADE}\r\n");
        let post = parse_head(raw.as_bytes()).unwrap().unwrap().0;
        assert_eq!(negotiate(&post), Err(UpgradeError::Method));
        assert!(is_upgrade(&post));
        assert!(!is_upgrade(&head("")));
    }
}
