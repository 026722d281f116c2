//! [`capture`]: one picture of a VNC server's screen.

use std::time::Duration;

use tokio::io::{AsyncRead, AsyncWrite};

use crate::client::decoder::{Decoder, ServerMessage};
use crate::client::encoding::{Encoding, DESKTOP_SIZE};
use crate::client::error::ClientError;
use crate::client::framebuffer::Framebuffer;
use crate::client::handshake::{handshake, write};
use crate::client::pixel_format::PixelFormat;

/// How long a whole screenshot may take by default, from the server's
/// first byte to the last rectangle: a 1920x1080 Raw screen is 8 MB.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(20);

/// How many full updates the client asks for by default before it gives
/// up on a server that never paints the whole screen.
pub const DEFAULT_MAX_REQUESTS: usize = 8;

/// How a screenshot is taken.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ScreenshotOptions {
    /// The encodings offered to the server, preferred first (the server
    /// may always answer in Raw).
    pub encodings: Vec<Encoding>,
    /// The bound on the whole exchange.
    pub timeout: Duration,
    /// How many full FramebufferUpdateRequests at most: one, and one more
    /// after each update that resized the screen or left part of it
    /// unpainted.
    pub max_requests: usize,
}

impl Default for ScreenshotOptions {
    /// ZRLE, then zlib, then Raw; [`DEFAULT_TIMEOUT`];
    /// [`DEFAULT_MAX_REQUESTS`].
    fn default() -> Self {
        ScreenshotOptions {
            encodings: vec![Encoding::Zrle, Encoding::Zlib, Encoding::Raw],
            timeout: DEFAULT_TIMEOUT,
            max_requests: DEFAULT_MAX_REQUESTS,
        }
    }
}

/// A picture of a VNC server's screen.
#[derive(Debug, Clone)]
pub struct Screenshot {
    /// The screen, every pixel painted.
    pub screen: Framebuffer,
    /// The desktop's name (ServerInit).
    pub name: String,
    /// How many rectangles of each encoding painted it, in
    /// [`Encoding::ALL`] order, those of none left out.
    pub rectangles: Vec<(Encoding, u64)>,
}

impl Screenshot {
    /// `720x400, 4 rectangles (zrle 4)`: for a log line.
    pub fn summary(&self) -> String {
        let total: u64 = self.rectangles.iter().map(|(_, n)| n).sum();
        let each: Vec<String> = self
            .rectangles
            .iter()
            .map(|(e, n)| format!("{e} {n}"))
            .collect();
        format!(
            "{}x{}, {total} rectangles ({})",
            self.screen.width(),
            self.screen.height(),
            each.join(", ")
        )
    }
}

/// Takes a screenshot over `stream`, a fresh connection to a VNC server
/// (or to consoled's security proxy, which presents security None):
/// the handshake with a shared ClientInit, SetPixelFormat to
/// [`PixelFormat::RGBX`], SetEncodings with `options.encodings` and
/// DesktopSize, then full FramebufferUpdateRequests until every pixel is
/// painted.
///
/// # Errors
/// [`ClientError::Timeout`] past `options.timeout`;
/// [`ClientError::Protocol`] when the server leaves part of the screen
/// unpainted after `options.max_requests` updates; whatever
/// [`handshake`] and [`Decoder::read_message`] return.
pub async fn capture<S>(
    mut stream: S,
    options: &ScreenshotOptions,
) -> Result<Screenshot, ClientError>
where
    S: AsyncRead + AsyncWrite + Unpin,
{
    tokio::time::timeout(options.timeout, capture_untimed(&mut stream, options))
        .await
        .map_err(|_| ClientError::Timeout(options.timeout))?
}

async fn capture_untimed<S>(
    stream: &mut S,
    options: &ScreenshotOptions,
) -> Result<Screenshot, ClientError>
where
    S: AsyncRead + AsyncWrite + Unpin,
{
    let init = handshake(stream).await?;
    let mut screen = Framebuffer::new(init.width, init.height)?;
    let mut decoder = Decoder::new(PixelFormat::RGBX)?;
    let mut setup = vec![0, 0, 0, 0];
    setup.extend_from_slice(&PixelFormat::RGBX.to_wire());
    setup.extend_from_slice(&set_encodings(&options.encodings));
    write(stream, &setup, "SetPixelFormat and SetEncodings").await?;
    let mut requests = 0;
    loop {
        if requests == options.max_requests {
            return Err(ClientError::Protocol(format!(
                "painted {} of the {} pixels of its {}x{} screen in {requests} full updates",
                screen.painted_pixels(),
                u64::from(screen.width()) * u64::from(screen.height()),
                screen.width(),
                screen.height()
            )));
        }
        write(
            stream,
            &full_update_request(screen.width(), screen.height()),
            "FramebufferUpdateRequest",
        )
        .await?;
        requests += 1;
        // Only an update answers a request; other messages may come first.
        while !matches!(
            decoder.read_message(stream, &mut screen).await?,
            ServerMessage::FramebufferUpdate { .. }
        ) {}
        if screen.is_covered() {
            break;
        }
    }
    let rectangles = Encoding::ALL
        .into_iter()
        .map(|e| (e, decoder.rectangles(e)))
        .filter(|(_, n)| *n > 0)
        .collect();
    Ok(Screenshot {
        screen,
        name: init.name,
        rectangles,
    })
}

/// SetEncodings with `encodings`, then DesktopSize.
fn set_encodings(encodings: &[Encoding]) -> Vec<u8> {
    let codes: Vec<i32> = encodings
        .iter()
        .map(|e| e.code())
        .chain([DESKTOP_SIZE])
        .collect();
    let mut out = vec![2, 0];
    out.extend_from_slice(&u16::try_from(codes.len()).unwrap_or(u16::MAX).to_be_bytes());
    for code in codes {
        out.extend_from_slice(&code.to_be_bytes());
    }
    out
}

/// A non-incremental FramebufferUpdateRequest for the whole screen.
fn full_update_request(width: u16, height: u16) -> [u8; 10] {
    let mut out = [3, 0, 0, 0, 0, 0, 0, 0, 0, 0];
    out[6..8].copy_from_slice(&width.to_be_bytes());
    out[8..10].copy_from_slice(&height.to_be_bytes());
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn messages_are_as_rfc_6143_writes_them() {
        assert_eq!(
            set_encodings(&[Encoding::Zrle, Encoding::Raw]),
            [2, 0, 0, 3, 0, 0, 0, 16, 0, 0, 0, 0, 0xff, 0xff, 0xff, 0x21]
        );
        assert_eq!(
            full_update_request(720, 400),
            [3, 0, 0, 0, 0, 0, 2, 208, 1, 144]
        );
    }
}
