//! A text console over a WebSocket, read as a person reads a terminal:
//! until a prompt appears.

use std::time::Duration;

use futures_util::StreamExt;
use tokio::net::TcpStream;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::WebSocketStream;

/// Reads data frames into `seen` until it contains `wanted`; returns what
/// arrived after the last call (everything read this time).
///
/// # Panics
/// When the session ends or `wanted` does not arrive within `limit`;
/// the message shows what did.
pub async fn read_until(
    ws: &mut WebSocketStream<TcpStream>,
    seen: &mut Vec<u8>,
    wanted: &str,
    limit: Duration,
) -> String {
    let start = seen.len();
    let deadline = tokio::time::Instant::now() + limit;
    while !String::from_utf8_lossy(&seen[start..]).contains(wanted) {
        let next = tokio::time::timeout_at(deadline, ws.next()).await;
        let shown = String::from_utf8_lossy(&seen[start..]).into_owned();
        match next {
            Err(_) => panic!("no {wanted:?} within {limit:?}; got {shown:?}"),
            Ok(Some(Ok(Message::Binary(data)))) => seen.extend_from_slice(&data),
            Ok(Some(Ok(Message::Text(text)))) => seen.extend_from_slice(text.as_bytes()),
            Ok(Some(Ok(Message::Close(frame)))) => {
                panic!("closed ({frame:?}) before {wanted:?}; got {shown:?}")
            }
            Ok(Some(Ok(_))) => {}
            Ok(Some(Err(e))) => panic!("{e} before {wanted:?}; got {shown:?}"),
            Ok(None) => panic!("ended before {wanted:?}; got {shown:?}"),
        }
    }
    String::from_utf8_lossy(&seen[start..]).into_owned()
}
