//! The client side of RFB, enough to prove a VNC path works end to end.

use std::io;

use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};

/// The most a desktop name or a server cut text may be before the client
/// calls the server malformed.
const MAX_TEXT: u32 = 1 << 20;

/// What the server said in `ServerInit`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ServerInit {
    /// Framebuffer width.
    pub width: u16,
    /// Framebuffer height.
    pub height: u16,
    /// Desktop name.
    pub name: String,
}

/// Runs the client side of the RFB 3.8 handshake with security type None
/// and a shared `ClientInit`, and returns the server's `ServerInit`.
///
/// # Errors
/// An I/O error, or [`io::ErrorKind::InvalidData`] when the server speaks
/// something else, offers no None security or fails the security result.
pub async fn rfb_client_handshake<S>(stream: &mut S) -> io::Result<ServerInit>
where
    S: AsyncRead + AsyncWrite + Unpin,
{
    let mut version = [0u8; 12];
    stream.read_exact(&mut version).await?;
    if !version.starts_with(b"RFB 003.") || version[11] != b'\n' {
        return Err(invalid(format!(
            "not an RFB server: {:?}",
            String::from_utf8_lossy(&version)
        )));
    }
    stream.write_all(b"RFB 003.008\n").await?;
    let count = stream.read_u8().await?;
    if count == 0 {
        let reason = read_text(stream).await?;
        return Err(invalid(format!("server refused the connection: {reason}")));
    }
    let mut types = vec![0u8; usize::from(count)];
    stream.read_exact(&mut types).await?;
    if !types.contains(&1) {
        return Err(invalid(format!(
            "server offers no None security: {types:?}"
        )));
    }
    stream.write_all(&[1]).await?;
    if stream.read_u32().await? != 0 {
        let reason = read_text(stream).await?;
        return Err(invalid(format!("security handshake failed: {reason}")));
    }
    stream.write_all(&[1]).await?;
    let width = stream.read_u16().await?;
    let height = stream.read_u16().await?;
    let mut pixel_format = [0u8; 16];
    stream.read_exact(&mut pixel_format).await?;
    let name = read_text(stream).await?;
    Ok(ServerInit {
        width,
        height,
        name,
    })
}

/// Asks for the whole `width` x `height` screen (non-incremental) and
/// returns the update's pixels, composed into one `width * height * 4`
/// buffer in the server's default 32 bpp format.
///
/// Skips bells, colour map entries and server cut text that come first.
///
/// # Errors
/// An I/O error, or [`io::ErrorKind::InvalidData`] for an encoding other
/// than Raw, a rectangle outside the screen, or an unknown message.
pub async fn rfb_request_frame<S>(stream: &mut S, width: u16, height: u16) -> io::Result<Vec<u8>>
where
    S: AsyncRead + AsyncWrite + Unpin,
{
    let mut request = vec![3, 0, 0, 0, 0, 0];
    request.extend_from_slice(&width.to_be_bytes());
    request.extend_from_slice(&height.to_be_bytes());
    stream.write_all(&request).await?;
    loop {
        match stream.read_u8().await? {
            0 => return read_update(stream, width, height).await,
            1 => {
                let mut head = [0u8; 5];
                stream.read_exact(&mut head).await?;
                let colours = usize::from(u16::from_be_bytes([head[3], head[4]]));
                let mut entries = vec![0u8; colours * 6];
                stream.read_exact(&mut entries).await?;
            }
            2 => {}
            3 => {
                let mut pad = [0u8; 3];
                stream.read_exact(&mut pad).await?;
                read_text(stream).await?;
            }
            other => return Err(invalid(format!("unknown RFB server message type {other}"))),
        }
    }
}

async fn read_update<S: AsyncRead + Unpin>(
    stream: &mut S,
    width: u16,
    height: u16,
) -> io::Result<Vec<u8>> {
    let (width, height) = (usize::from(width), usize::from(height));
    let _pad = stream.read_u8().await?;
    let rectangles = stream.read_u16().await?;
    let mut screen = vec![0u8; width * height * 4];
    for _ in 0..rectangles {
        let x = usize::from(stream.read_u16().await?);
        let y = usize::from(stream.read_u16().await?);
        let w = usize::from(stream.read_u16().await?);
        let h = usize::from(stream.read_u16().await?);
        let encoding = stream.read_i32().await?;
        if encoding != 0 {
            return Err(invalid(format!("unsupported encoding {encoding}")));
        }
        if x + w > width || y + h > height {
            return Err(invalid(format!(
                "rectangle {w}x{h}+{x}+{y} outside the screen"
            )));
        }
        let mut row = vec![0u8; w * 4];
        for line in y..y + h {
            stream.read_exact(&mut row).await?;
            let start = (line * width + x) * 4;
            screen[start..start + w * 4].copy_from_slice(&row);
        }
    }
    Ok(screen)
}

async fn read_text<S: AsyncRead + Unpin>(stream: &mut S) -> io::Result<String> {
    let length = stream.read_u32().await?;
    if length > MAX_TEXT {
        return Err(invalid(format!("text of {length} bytes")));
    }
    let mut text = vec![0u8; length as usize];
    stream.read_exact(&mut text).await?;
    Ok(String::from_utf8_lossy(&text).into_owned())
}

fn invalid(message: String) -> io::Error {
    io::Error::new(io::ErrorKind::InvalidData, message)
}
