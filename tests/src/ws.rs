//! WebSocket clients as browsers and Tempest open console URLs.

use tokio::net::TcpStream;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::handshake::client::Response;
use tokio_tungstenite::tungstenite::http::HeaderValue;
use tokio_tungstenite::{client_async, WebSocketStream};

/// Opens `ws_url` (a `ws://` URL on loopback), sending `headers` with the
/// upgrade request.
///
/// # Errors
/// The handshake's error, e.g. an HTTP refusal from the proxy.
pub async fn open(
    ws_url: &str,
    headers: &[(&str, &str)],
) -> Result<(WebSocketStream<TcpStream>, Response), tokio_tungstenite::tungstenite::Error> {
    let mut request = ws_url.into_client_request()?;
    for (name, value) in headers {
        let name: tokio_tungstenite::tungstenite::http::HeaderName =
            name.parse().expect("header name");
        request
            .headers_mut()
            .insert(name, HeaderValue::from_str(value).expect("header value"));
    }
    let uri = request.uri();
    let host = uri
        .host()
        .expect("ws URL has a host")
        .trim_matches(['[', ']']);
    let port = uri.port_u16().unwrap_or(80);
    let tcp = TcpStream::connect((host, port)).await?;
    client_async(request, tcp).await
}
