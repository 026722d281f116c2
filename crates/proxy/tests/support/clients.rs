//! Clients as browsers and Tempest talk to the proxy.

use std::net::SocketAddr;

use consoled_core::Url;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::handshake::client::Response;
use tokio_tungstenite::tungstenite::http::HeaderValue;
use tokio_tungstenite::tungstenite::Error as WsError;
use tokio_tungstenite::WebSocketStream;

use super::LIMIT;

/// The token an access URL carries: in `token`, or inside noVNC's `path`.
pub fn token_of(url: &Url) -> String {
    let pairs: Vec<(String, String)> = url
        .query_pairs()
        .map(|(k, v)| (k.into_owned(), v.into_owned()))
        .collect();
    if let Some((_, token)) = pairs.iter().find(|(k, _)| k == "token") {
        return token.clone();
    }
    let (_, path) = pairs
        .iter()
        .find(|(k, _)| k == "path")
        .expect("a token or a path parameter");
    let inner = Url::parse(&format!("http://x/{path}")).expect("path parses");
    token_of(&inner)
}

/// What a client asks for when it opens `url`'s console: noVNC asks for
/// `/` + its `path` parameter (`/?token=...`); the others ask for the URL's
/// own path and query.
pub fn console_target(url: &Url) -> String {
    if let Some((_, path)) = url.query_pairs().find(|(k, _)| k == "path") {
        return format!("/{path}");
    }
    match url.query() {
        Some(q) => format!("{}?{q}", url.path()),
        None => url.path().to_owned(),
    }
}

/// Opens a WebSocket to `target` on `addr`, with extra request headers
/// (`Cookie`, `Origin`, `Sec-WebSocket-Protocol`).
pub async fn ws_connect(
    addr: SocketAddr,
    target: &str,
    headers: &[(&str, &str)],
) -> Result<(WebSocketStream<TcpStream>, Response), WsError> {
    let mut request = format!("ws://{addr}{target}").into_client_request()?;
    for (name, value) in headers {
        let name: tokio_tungstenite::tungstenite::http::HeaderName =
            name.parse().expect("header name");
        request
            .headers_mut()
            .append(name, HeaderValue::from_str(value).expect("header value"));
    }
    let tcp = TcpStream::connect(addr).await.map_err(WsError::Io)?;
    tokio::time::timeout(LIMIT, tokio_tungstenite::client_async(request, tcp))
        .await
        .expect("handshake finished in time")
}

/// A WebSocket upgrade request head for `target`, with extra header lines
/// (each ending in CRLF), as Tempest writes it by hand.
pub fn upgrade_request(addr: SocketAddr, target: &str, extra: &str) -> String {
    format!(
        "GET {target} HTTP/1.1\r\nHost: {addr}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\
         Sec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n{extra}\r\n"
    )
}

/// Sends `request` on a fresh connection and reads everything until the
/// proxy closes it.
pub async fn exchange(addr: SocketAddr, request: &str) -> Vec<u8> {
    let mut tcp = TcpStream::connect(addr).await.expect("connect");
    tcp.write_all(request.as_bytes()).await.expect("write");
    let mut response = Vec::new();
    tokio::time::timeout(LIMIT, tcp.read_to_end(&mut response))
        .await
        .expect("the proxy closed in time")
        .expect("read");
    response
}

/// Splits a response into its head (as text) and whatever followed it.
pub fn split_response(response: &[u8]) -> (String, Vec<u8>) {
    let end = response
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .map(|i| i + 4)
        .unwrap_or_else(|| {
            panic!(
                "no response head in {:?}",
                String::from_utf8_lossy(response)
            )
        });
    (
        String::from_utf8_lossy(&response[..end]).into_owned(),
        response[end..].to_vec(),
    )
}

/// Asserts a refusal with `status` that carries nothing a client could
/// read as data: an empty body, then the end of the connection.
pub fn assert_empty_refusal(response: &[u8], status: u16) {
    let (head, rest) = split_response(response);
    assert!(
        head.starts_with(&format!("HTTP/1.1 {status} ")),
        "expected {status}, got {head:?}"
    );
    assert!(head.contains("Content-Length: 0\r\n"), "{head:?}");
    assert!(rest.is_empty(), "refusal carried data: {rest:?}");
}

/// The status code of a response head.
pub fn status_of(response: &[u8]) -> u16 {
    let (head, _) = split_response(response);
    head.split(' ')
        .nth(1)
        .and_then(|s| s.parse().ok())
        .expect("a status code")
}
