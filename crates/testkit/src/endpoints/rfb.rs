//! A scripted VNC server speaking RFB 3.3, 3.7 and 3.8 (RFC 6143).

use std::io;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

use super::connect_path::{expect_connect_path, invalid};
use super::frames::{FrameSource, GradientFrames};
use super::listener::Listener;
use super::pixel_format::PixelFormat;

/// How long an incremental update request waits before it is answered:
/// a client polling incrementally sees a live picture without burning CPU.
const INCREMENTAL_DELAY: Duration = Duration::from_millis(100);

/// The most client cut text the server accepts before it calls the client
/// malformed.
const MAX_CUT_TEXT: u32 = 1 << 20;

/// What an [`RfbServer`] shows and how it is reached.
#[derive(Clone)]
pub struct RfbOptions {
    /// The desktop name sent in `ServerInit`.
    pub name: String,
    /// Framebuffer width.
    pub width: u16,
    /// Framebuffer height.
    pub height: u16,
    /// When `Some`, each connection must first send
    /// `CONNECT <path> HTTP/1.1` with this path (Nova's internal access
    /// path); another path gets `404` and the connection closes.
    pub connect_path: Option<String>,
    /// Draws the frames.
    pub frames: Arc<dyn FrameSource>,
}

impl Default for RfbOptions {
    fn default() -> Self {
        RfbOptions {
            name: "consoled-test".into(),
            width: 320,
            height: 200,
            connect_path: None,
            frames: Arc::new(GradientFrames),
        }
    }
}

impl std::fmt::Debug for RfbOptions {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RfbOptions")
            .field("name", &self.name)
            .field("width", &self.width)
            .field("height", &self.height)
            .field("connect_path", &self.connect_path)
            .finish_non_exhaustive()
    }
}

/// A VNC server on 127.0.0.1: security type None, raw encoding, a picture
/// from its [`FrameSource`]. Malformed input closes that connection only.
///
/// # Example
///
/// A server's VNC console for a test, and the client side that checks it
/// (through a proxy, the stream would be a [`WsIo`](crate::WsIo) instead):
///
/// ```
/// use consoled_testkit::{rfb_client_handshake, RfbOptions, RfbServer};
///
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() -> std::io::Result<()> {
/// let vm = RfbServer::start_with(RfbOptions { name: "web-1".into(), ..RfbOptions::default() }).await?;
/// let mut tcp = tokio::net::TcpStream::connect(vm.addr()).await?;
/// let init = rfb_client_handshake(&mut tcp).await?;
/// assert_eq!(init.name, "web-1");
/// assert_eq!(vm.connections(), 1);
/// # Ok(())
/// # }
/// ```
pub struct RfbServer {
    listener: Listener,
    options: Arc<RfbOptions>,
}

impl RfbServer {
    /// Starts a server with [`RfbOptions::default`].
    ///
    /// # Errors
    /// When 127.0.0.1 cannot be bound.
    pub async fn start() -> io::Result<RfbServer> {
        Self::start_with(RfbOptions::default()).await
    }

    /// Starts a server with these options.
    ///
    /// # Errors
    /// When 127.0.0.1 cannot be bound.
    pub async fn start_with(options: RfbOptions) -> io::Result<RfbServer> {
        let options = Arc::new(options);
        let serving = options.clone();
        let listener =
            Listener::spawn("rfb", move |stream| session(stream, serving.clone())).await?;
        Ok(RfbServer { listener, options })
    }

    /// What it was started with.
    pub fn options(&self) -> &RfbOptions {
        &self.options
    }

    /// Where it listens.
    pub fn addr(&self) -> SocketAddr {
        self.listener.addr()
    }

    /// TCP connections accepted so far.
    pub fn connections(&self) -> usize {
        self.listener.connections()
    }
}

async fn session(mut stream: TcpStream, options: Arc<RfbOptions>) -> io::Result<()> {
    if let Some(path) = options.connect_path.as_deref() {
        expect_connect_path(&mut stream, path).await?;
    }
    handshake(&mut stream, &options).await?;
    serve_messages(&mut stream, &options).await
}

async fn handshake(stream: &mut TcpStream, options: &RfbOptions) -> io::Result<()> {
    stream.write_all(b"RFB 003.008\n").await?;
    let mut version = [0u8; 12];
    stream.read_exact(&mut version).await?;
    let minor = match &version {
        b"RFB 003.003\n" => 3,
        b"RFB 003.007\n" => 7,
        b"RFB 003.008\n" => 8,
        other => {
            return Err(invalid(format!(
                "unsupported RFB version {:?}",
                String::from_utf8_lossy(other)
            )))
        }
    };
    if minor == 3 {
        // 3.3: the server decides, as a u32; no SecurityResult for None.
        stream.write_all(&1u32.to_be_bytes()).await?;
    } else {
        stream.write_all(&[1, 1]).await?;
        let chosen = stream.read_u8().await?;
        if chosen != 1 {
            if minor == 8 {
                let reason = b"only security type None is offered";
                stream.write_all(&1u32.to_be_bytes()).await?;
                stream
                    .write_all(&(reason.len() as u32).to_be_bytes())
                    .await?;
                stream.write_all(reason).await?;
            }
            return Err(invalid(format!("client chose security type {chosen}")));
        }
        // RFC 6143 7.1.3: None has a SecurityResult from 3.8 on only.
        if minor == 8 {
            stream.write_all(&0u32.to_be_bytes()).await?;
        }
    }
    let _shared = stream.read_u8().await?;
    let name = options.name.as_bytes();
    let mut init = Vec::with_capacity(24 + name.len());
    init.extend_from_slice(&options.width.to_be_bytes());
    init.extend_from_slice(&options.height.to_be_bytes());
    init.extend_from_slice(&PixelFormat::DEFAULT.to_bytes());
    init.extend_from_slice(&(name.len() as u32).to_be_bytes());
    init.extend_from_slice(name);
    stream.write_all(&init).await
}

async fn serve_messages(stream: &mut TcpStream, options: &RfbOptions) -> io::Result<()> {
    let mut format = PixelFormat::DEFAULT;
    let mut frame = Vec::new();
    let mut message = Vec::new();
    loop {
        let kind = match stream.read_u8().await {
            Ok(kind) => kind,
            Err(e) if e.kind() == io::ErrorKind::UnexpectedEof => return Ok(()),
            Err(e) => return Err(e),
        };
        match kind {
            0 => {
                let mut body = [0u8; 19];
                stream.read_exact(&mut body).await?;
                let mut wire = [0u8; 16];
                wire.copy_from_slice(&body[3..]);
                let requested = PixelFormat::from_bytes(&wire);
                if requested.is_supported() {
                    format = requested;
                } else {
                    tracing::debug!(?requested, "rfb test server keeps its default pixel format");
                }
            }
            2 => {
                let mut head = [0u8; 3];
                stream.read_exact(&mut head).await?;
                let count = usize::from(u16::from_be_bytes([head[1], head[2]]));
                skip(stream, count * 4).await?;
            }
            3 => {
                let mut body = [0u8; 9];
                stream.read_exact(&mut body).await?;
                if body[0] != 0 {
                    tokio::time::sleep(INCREMENTAL_DELAY).await;
                }
                options
                    .frames
                    .render(options.width, options.height, &mut frame);
                let expected = usize::from(options.width) * usize::from(options.height) * 4;
                if frame.len() != expected {
                    tracing::warn!(
                        got = frame.len(),
                        expected,
                        "frame source drew a frame of the wrong size"
                    );
                    frame.resize(expected, 0);
                }
                message.clear();
                message.extend_from_slice(&[0, 0, 0, 1, 0, 0, 0, 0]);
                message.extend_from_slice(&options.width.to_be_bytes());
                message.extend_from_slice(&options.height.to_be_bytes());
                message.extend_from_slice(&0i32.to_be_bytes());
                format.encode(&frame, &mut message);
                stream.write_all(&message).await?;
            }
            4 => skip(stream, 7).await?,
            5 => skip(stream, 5).await?,
            6 => {
                let mut head = [0u8; 7];
                stream.read_exact(&mut head).await?;
                let length = u32::from_be_bytes([head[3], head[4], head[5], head[6]]);
                if length > MAX_CUT_TEXT {
                    return Err(invalid(format!("client cut text of {length} bytes")));
                }
                skip(stream, length as usize).await?;
            }
            other => return Err(invalid(format!("unknown RFB client message type {other}"))),
        }
    }
}

async fn skip(stream: &mut TcpStream, count: usize) -> io::Result<()> {
    let copied = tokio::io::copy(
        &mut (&mut *stream).take(count as u64),
        &mut tokio::io::sink(),
    )
    .await?;
    if copied as usize == count {
        Ok(())
    } else {
        Err(io::ErrorKind::UnexpectedEof.into())
    }
}
