//! RFB through the proxy, as noVNC speaks it: a WebSocket with no
//! subprotocol carrying the RFB byte stream.

use std::io;

use bytes::Bytes;
use consoled_testkit::{rfb_client_handshake, ServerInit, WsIo};
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio_tungstenite::WebSocketStream;

/// An RFB session over a proxied WebSocket.
pub type RfbOverWs = WsIo<WebSocketStream<TcpStream>>;

/// Opens `ws_url` without a subprotocol (as noVNC does) and completes the
/// RFB 3.8 handshake (security None) through it.
///
/// # Errors
/// The WebSocket refusal or the RFB error.
pub async fn rfb_over_websocket(ws_url: &str) -> io::Result<(RfbOverWs, ServerInit)> {
    let (ws, _) = crate::ws::open(ws_url, &[])
        .await
        .map_err(io::Error::other)?;
    let mut io = WsIo::new(ws, Bytes::new());
    let init = rfb_client_handshake(&mut io).await?;
    Ok((io, init))
}

/// The header of a FramebufferUpdate: its message type and rectangle count.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct UpdateHeader {
    /// The server message type (0: FramebufferUpdate).
    pub message_type: u8,
    /// How many rectangles follow.
    pub rectangles: u16,
}

/// Asks for the whole `width` x `height` screen (non-incremental) and
/// reads the header of the server's next message.
///
/// # Errors
/// An I/O error.
pub async fn request_update_header<S>(
    stream: &mut S,
    width: u16,
    height: u16,
) -> io::Result<UpdateHeader>
where
    S: AsyncRead + AsyncWrite + Unpin,
{
    let mut request = vec![3, 0, 0, 0, 0, 0];
    request.extend_from_slice(&width.to_be_bytes());
    request.extend_from_slice(&height.to_be_bytes());
    stream.write_all(&request).await?;
    let message_type = stream.read_u8().await?;
    let _padding = stream.read_u8().await?;
    let rectangles = stream.read_u16().await?;
    Ok(UpdateHeader {
        message_type,
        rectangles,
    })
}
