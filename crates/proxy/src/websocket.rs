//! The server side of the WebSocket opening handshake (RFC 6455), worked
//! out by hand on the request hyper parsed, so that the token is checked
//! and the backend opened before we answer `101`.

use http::header::{
    CONNECTION, SEC_WEBSOCKET_ACCEPT, SEC_WEBSOCKET_KEY, SEC_WEBSOCKET_PROTOCOL,
    SEC_WEBSOCKET_VERSION, UPGRADE,
};
use http::{HeaderMap, HeaderName, HeaderValue, Method, Request, Response, StatusCode, Version};
use tokio_tungstenite::tungstenite::handshake::derive_accept_key;

use crate::reply::Body;

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
    pub(crate) fn status(self) -> StatusCode {
        match self {
            UpgradeError::Version => StatusCode::UPGRADE_REQUIRED,
            _ => StatusCode::BAD_REQUEST,
        }
    }
}

/// An upgrade we can accept.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Upgrade {
    accept: String,
    protocol: Option<&'static str>,
}

/// Whether header `name` lists `item` (case-insensitive), comma lists
/// split across every line of it.
fn lists(headers: &HeaderMap, name: HeaderName, item: &str) -> bool {
    headers
        .get_all(name)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .any(|i| i.trim().eq_ignore_ascii_case(item))
}

/// Whether `request` asks for a WebSocket.
pub(crate) fn is_upgrade<B>(request: &Request<B>) -> bool {
    lists(request.headers(), UPGRADE, "websocket")
}

/// Checks an upgrade request and works out our answer.
///
/// # Errors
/// [`UpgradeError`] naming the first rule the request breaks.
pub(crate) fn negotiate<B>(request: &Request<B>) -> Result<Upgrade, UpgradeError> {
    if request.method() != Method::GET || request.version() < Version::HTTP_11 {
        return Err(UpgradeError::Method);
    }
    let headers = request.headers();
    if !lists(headers, CONNECTION, "upgrade") {
        return Err(UpgradeError::Connection);
    }
    if headers
        .get(SEC_WEBSOCKET_VERSION)
        .map(HeaderValue::as_bytes)
        != Some(b"13")
    {
        return Err(UpgradeError::Version);
    }
    let key = headers
        .get(SEC_WEBSOCKET_KEY)
        .and_then(|k| k.to_str().ok())
        .filter(|k| is_websocket_key(k))
        .ok_or(UpgradeError::Key)?;
    let protocol =
        lists(headers, SEC_WEBSOCKET_PROTOCOL, BINARY_PROTOCOL).then_some(BINARY_PROTOCOL);
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
pub(crate) fn switching_protocols(upgrade: &Upgrade) -> Response<Body> {
    let mut response = Response::new(Body::default());
    *response.status_mut() = StatusCode::SWITCHING_PROTOCOLS;
    let headers = response.headers_mut();
    headers.insert(UPGRADE, HeaderValue::from_static("websocket"));
    headers.insert(CONNECTION, HeaderValue::from_static("Upgrade"));
    // Base64 is always a valid header value.
    if let Ok(accept) = HeaderValue::from_str(&upgrade.accept) {
        headers.insert(SEC_WEBSOCKET_ACCEPT, accept);
    }
    if let Some(protocol) = upgrade.protocol {
        headers.insert(SEC_WEBSOCKET_PROTOCOL, HeaderValue::from_static(protocol));
    }
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    const UPGRADE_HEADERS: &[(&str, &str)] = &[
        ("Upgrade", "websocket"),
        ("Connection", "Upgrade"),
        ("Sec-WebSocket-Version", "13"),
        ("Sec-WebSocket-Key", "dGhlIHNhbXBsZSBub25jZQ=="),
    ];

    /// An upgrade request with `UPGRADE_HEADERS`, `replace`d one at a time,
    /// then `extra`.
    fn request(method: Method, replace: &[(&str, &str)], extra: &[(&str, &str)]) -> Request<()> {
        let mut request = Request::builder()
            .method(method)
            .uri("/?token=t")
            .header("host", "h");
        for (name, value) in UPGRADE_HEADERS {
            let value = replace
                .iter()
                .find(|(n, _)| n == name)
                .map_or(*value, |(_, v)| v);
            request = request.header(*name, value);
        }
        for (name, value) in extra {
            request = request.header(*name, *value);
        }
        request.body(()).unwrap()
    }

    fn upgrade(replace: &[(&str, &str)], extra: &[(&str, &str)]) -> Request<()> {
        request(Method::GET, replace, extra)
    }

    #[test]
    fn rfc_6455_sample_accept_key() {
        let up = negotiate(&upgrade(&[], &[])).unwrap();
        let response = switching_protocols(&up);
        assert_eq!(response.status(), StatusCode::SWITCHING_PROTOCOLS);
        let headers = response.headers();
        assert_eq!(
            headers[SEC_WEBSOCKET_ACCEPT],
            "s3pPLMBiTxaQ9kYGzzhZRbK+xOo="
        );
        assert_eq!(headers[UPGRADE], "websocket");
        assert_eq!(headers[CONNECTION], "Upgrade");
        assert!(headers.get(SEC_WEBSOCKET_PROTOCOL).is_none());
    }

    #[test]
    fn binary_is_chosen_when_offered() {
        let offered = [("Sec-WebSocket-Protocol", "base64, binary")];
        let up = negotiate(&upgrade(&[], &offered)).unwrap();
        assert_eq!(
            switching_protocols(&up).headers()[SEC_WEBSOCKET_PROTOCOL],
            "binary"
        );
        let split = [
            ("Sec-WebSocket-Protocol", "base64"),
            ("sec-websocket-protocol", "binary"),
        ];
        let up = negotiate(&upgrade(&[], &split)).unwrap();
        assert_eq!(
            switching_protocols(&up).headers()[SEC_WEBSOCKET_PROTOCOL],
            "binary"
        );
        let up = negotiate(&upgrade(&[], &[("Sec-WebSocket-Protocol", "base64")])).unwrap();
        assert!(switching_protocols(&up)
            .headers()
            .get(SEC_WEBSOCKET_PROTOCOL)
            .is_none());
    }

    #[test]
    fn refusals() {
        let no_conn = upgrade(&[("Connection", "keep-alive")], &[]);
        assert_eq!(negotiate(&no_conn), Err(UpgradeError::Connection));
        let old = upgrade(&[("Sec-WebSocket-Version", "8")], &[]);
        assert_eq!(
            negotiate(&old).map_err(UpgradeError::status),
            Err(StatusCode::UPGRADE_REQUIRED)
        );
        let bad_key = upgrade(&[("Sec-WebSocket-Key", "short")], &[]);
        assert_eq!(negotiate(&bad_key), Err(UpgradeError::Key));
        let post = request(Method::POST, &[], &[]);
        assert_eq!(negotiate(&post), Err(UpgradeError::Method));
        assert!(is_upgrade(&post));
        let mut http10 = upgrade(&[], &[]);
        *http10.version_mut() = Version::HTTP_10;
        assert_eq!(negotiate(&http10), Err(UpgradeError::Method));
        assert!(!is_upgrade(&Request::new(())));
    }
}
