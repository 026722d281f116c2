//! [`Decoder`]: the server-to-client half of an RFB session painted onto
//! a [`Framebuffer`], from any byte source: a live connection, or a
//! recorded stream replayed.

use tokio::io::AsyncRead;

use crate::client::encoding::{Encoding, DESKTOP_SIZE};
use crate::client::error::ClientError;
use crate::client::framebuffer::{Framebuffer, Rect};
use crate::client::inflate::Inflater;
use crate::client::pixel_format::PixelFormat;
use crate::client::{read, zrle};

/// The longest ServerCutText read (and dropped).
const MAX_CUT_TEXT: u32 = 1 << 20;

/// What a server message was, once the decoder has applied it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum ServerMessage {
    /// A FramebufferUpdate, painted.
    FramebufferUpdate {
        /// How many rectangles it held (pseudo-rectangles included).
        rectangles: u16,
        /// Whether it resized the screen (DesktopSize): the screen is then
        /// unpainted but for the rectangles after the resize.
        resized: bool,
    },
    /// SetColourMapEntries, skipped (the client asks for true colour).
    SetColourMapEntries,
    /// Bell.
    Bell,
    /// ServerCutText, skipped.
    ServerCutText,
}

/// Reads server messages and paints their rectangles: Raw, CopyRect,
/// zlib and ZRLE (one zlib stream each for the whole connection, so a
/// decoder serves one connection from its first update on), and the
/// DesktopSize pseudo-encoding.
#[derive(Debug)]
pub struct Decoder {
    format: PixelFormat,
    zlib: Inflater,
    zrle: Inflater,
    counts: [u64; Encoding::ALL.len()],
}

impl Decoder {
    /// A decoder of pixels in `format` (what the client asked for with
    /// SetPixelFormat, or the server's own when it asked for none).
    ///
    /// # Errors
    /// [`ClientError::Protocol`] when the format cannot be decoded
    /// ([`PixelFormat::check`]).
    pub fn new(format: PixelFormat) -> Result<Decoder, ClientError> {
        format.check()?;
        Ok(Decoder {
            format,
            zlib: Inflater::new("zlib"),
            zrle: Inflater::new("ZRLE"),
            counts: [0; Encoding::ALL.len()],
        })
    }

    /// The pixel format it decodes.
    pub fn format(&self) -> PixelFormat {
        self.format
    }

    /// Decodes `format` from now on: the client sent SetPixelFormat again.
    ///
    /// # Errors
    /// As [`Decoder::new`].
    pub fn set_format(&mut self, format: PixelFormat) -> Result<(), ClientError> {
        format.check()?;
        self.format = format;
        Ok(())
    }

    /// How many rectangles of `encoding` it has painted.
    pub fn rectangles(&self, encoding: Encoding) -> u64 {
        self.counts[encoding.index()]
    }

    /// Reads one server message from `stream` and applies it to `screen`.
    ///
    /// # Errors
    /// [`ClientError::Closed`] or [`ClientError::Io`] when the stream
    /// fails; [`ClientError::Protocol`] for an unknown message, an
    /// encoding it does not decode, a rectangle outside the screen or
    /// malformed data; [`ClientError::TooLarge`] for a resize past
    /// [`MAX_DIMENSION`](crate::MAX_DIMENSION).
    pub async fn read_message<R: AsyncRead + Unpin>(
        &mut self,
        stream: &mut R,
        screen: &mut Framebuffer,
    ) -> Result<ServerMessage, ClientError> {
        match read::u8(stream, "a server message").await? {
            0 => self.read_update(stream, screen).await,
            1 => {
                let head = read::array::<5, _>(stream, "SetColourMapEntries").await?;
                let colours = usize::from(u16::from_be_bytes([head[3], head[4]]));
                read::vec(stream, colours * 6, "SetColourMapEntries").await?;
                Ok(ServerMessage::SetColourMapEntries)
            }
            2 => Ok(ServerMessage::Bell),
            3 => {
                read::array::<3, _>(stream, "ServerCutText").await?;
                read::text(stream, MAX_CUT_TEXT, "ServerCutText").await?;
                Ok(ServerMessage::ServerCutText)
            }
            other => Err(ClientError::Protocol(format!(
                "sent server message type {other}, which the client does not know"
            ))),
        }
    }

    async fn read_update<R: AsyncRead + Unpin>(
        &mut self,
        stream: &mut R,
        screen: &mut Framebuffer,
    ) -> Result<ServerMessage, ClientError> {
        let head = read::array::<3, _>(stream, "a FramebufferUpdate").await?;
        let rectangles = u16::from_be_bytes([head[1], head[2]]);
        let mut resized = false;
        for _ in 0..rectangles {
            let head = read::array::<12, _>(stream, "a rectangle header").await?;
            let at = |i: usize| u16::from_be_bytes([head[i], head[i + 1]]);
            let rect = Rect {
                x: at(0),
                y: at(2),
                w: at(4),
                h: at(6),
            };
            let code = i32::from_be_bytes([head[8], head[9], head[10], head[11]]);
            if code == DESKTOP_SIZE {
                screen.resize(rect.w, rect.h)?;
                resized = true;
                continue;
            }
            let Some(encoding) = Encoding::from_code(code) else {
                return Err(ClientError::Protocol(format!(
                    "sent a rectangle in encoding {code}, which the client did not ask for"
                )));
            };
            screen.check_rect(rect)?;
            self.read_rect(stream, screen, rect, encoding).await?;
            self.counts[encoding.index()] += 1;
        }
        Ok(ServerMessage::FramebufferUpdate {
            rectangles,
            resized,
        })
    }

    async fn read_rect<R: AsyncRead + Unpin>(
        &mut self,
        stream: &mut R,
        screen: &mut Framebuffer,
        rect: Rect,
        encoding: Encoding,
    ) -> Result<(), ClientError> {
        let raw_len = rect.pixels() * self.format.bytes_per_pixel();
        match encoding {
            Encoding::Raw => {
                let pixels = read::vec(stream, raw_len, "a Raw rectangle").await?;
                screen.put(rect, &self.to_rgb(&pixels));
            }
            Encoding::CopyRect => {
                let src = read::array::<4, _>(stream, "a CopyRect rectangle").await?;
                let (sx, sy) = (
                    u16::from_be_bytes([src[0], src[1]]),
                    u16::from_be_bytes([src[2], src[3]]),
                );
                screen.check_rect(Rect {
                    x: sx,
                    y: sy,
                    ..rect
                })?;
                screen.copy(rect, sx, sy);
            }
            Encoding::Zlib => {
                let data = compressed(stream, raw_len, "a zlib rectangle").await?;
                let pixels = self.zlib.inflate(&data, raw_len)?;
                if pixels.len() != raw_len {
                    return Err(ClientError::Protocol(format!(
                        "sent a zlib rectangle of {} bytes where its {}x{} pixels take {raw_len}",
                        pixels.len(),
                        rect.w,
                        rect.h
                    )));
                }
                screen.put(rect, &self.to_rgb(&pixels));
            }
            Encoding::Zrle => {
                let limit = zrle::max_inflated(rect, &self.format);
                let data = compressed(stream, limit, "a ZRLE rectangle").await?;
                let tiles = self.zrle.inflate(&data, limit)?;
                zrle::decode(&tiles, rect, &self.format, screen)?;
            }
        }
        Ok(())
    }

    fn to_rgb(&self, pixels: &[u8]) -> Vec<u8> {
        let mut rgb = Vec::with_capacity(pixels.len() / self.format.bytes_per_pixel() * 3);
        for pixel in pixels.chunks_exact(self.format.bytes_per_pixel()) {
            rgb.extend_from_slice(&self.format.rgb(self.format.value(pixel)));
        }
        rgb
    }
}

/// A zlib-carrying rectangle's data: `u32` length, then the bytes, which
/// may be a little longer than the `inflated` bytes they stand for but no
/// more (zlib's worst case is a few bytes a block).
async fn compressed<R: AsyncRead + Unpin>(
    stream: &mut R,
    inflated: usize,
    what: &'static str,
) -> Result<Vec<u8>, ClientError> {
    let len = read::u32(stream, what).await? as usize;
    let max = inflated + inflated / 64 + 1024;
    if len > max {
        return Err(ClientError::Protocol(format!(
            "sent {what} of {len} compressed bytes for at most {inflated} bytes of pixels"
        )));
    }
    read::vec(stream, len, what).await
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::client::inflate::tests::Deflater;

    /// A FramebufferUpdate of `rects` (header and body each).
    fn update(rects: &[(Rect, i32, Vec<u8>)]) -> Vec<u8> {
        let mut out = vec![0, 0];
        out.extend_from_slice(&(rects.len() as u16).to_be_bytes());
        for (r, code, body) in rects {
            for v in [r.x, r.y, r.w, r.h] {
                out.extend_from_slice(&v.to_be_bytes());
            }
            out.extend_from_slice(&code.to_be_bytes());
            out.extend_from_slice(body);
        }
        out
    }

    fn rect(x: u16, y: u16, w: u16, h: u16) -> Rect {
        Rect { x, y, w, h }
    }

    fn with_len(data: Vec<u8>) -> Vec<u8> {
        let mut out = (data.len() as u32).to_be_bytes().to_vec();
        out.extend(data);
        out
    }

    async fn apply(bytes: &[u8], fb: &mut Framebuffer) -> Result<Vec<ServerMessage>, ClientError> {
        let mut decoder = Decoder::new(PixelFormat::RGBX)?;
        let mut stream = bytes;
        let mut seen = Vec::new();
        while !stream.is_empty() {
            seen.push(decoder.read_message(&mut stream, fb).await?);
        }
        Ok(seen)
    }

    #[tokio::test]
    async fn raw_rectangles_paint_rgbx_pixels() {
        let mut fb = Framebuffer::new(2, 2).unwrap();
        let top = vec![1, 2, 3, 0, 4, 5, 6, 0];
        let bottom = vec![7, 8, 9, 0, 10, 11, 12, 0];
        let bytes = update(&[(rect(0, 0, 2, 1), 0, top), (rect(0, 1, 2, 1), 0, bottom)]);
        let seen = apply(&bytes, &mut fb).await.unwrap();
        assert_eq!(
            seen,
            [ServerMessage::FramebufferUpdate {
                rectangles: 2,
                resized: false
            }]
        );
        assert!(fb.is_covered());
        assert_eq!(fb.rgb(), [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12]);
    }

    #[tokio::test]
    async fn zlib_and_zrle_keep_one_stream_each() {
        let mut fb = Framebuffer::new(2, 2).unwrap();
        let (mut zlib, mut zrle) = (Deflater::new(), Deflater::new());
        let mut bytes = Vec::new();
        for round in 0..3u8 {
            let raw = vec![round, 0, 0, 0, 0, round, 0, 0];
            let tile = vec![1, 0, 0, round];
            bytes.extend(update(&[
                (rect(0, 0, 2, 1), 6, with_len(zlib.rect(&raw))),
                (rect(0, 1, 2, 1), 16, with_len(zrle.rect(&tile))),
            ]));
        }
        let mut decoder = Decoder::new(PixelFormat::RGBX).unwrap();
        let mut stream = bytes.as_slice();
        for _ in 0..3 {
            decoder.read_message(&mut stream, &mut fb).await.unwrap();
        }
        assert!(stream.is_empty());
        assert_eq!(fb.pixel(0, 0), [2, 0, 0]);
        assert_eq!(fb.pixel(1, 0), [0, 2, 0]);
        assert_eq!(fb.pixel(1, 1), [0, 0, 2]);
        assert_eq!(decoder.rectangles(Encoding::Zlib), 3);
        assert_eq!(decoder.rectangles(Encoding::Zrle), 3);
        assert_eq!(decoder.rectangles(Encoding::Raw), 0);
    }

    #[tokio::test]
    async fn desktop_size_starts_a_new_screen() {
        let mut fb = Framebuffer::new(2, 2).unwrap();
        let bytes = update(&[
            (rect(0, 0, 2, 2), 0, vec![9; 16]),
            (rect(0, 0, 3, 1), DESKTOP_SIZE, vec![]),
            (rect(0, 0, 1, 1), 0, vec![5, 5, 5, 0]),
        ]);
        let seen = apply(&bytes, &mut fb).await.unwrap();
        assert_eq!(
            seen,
            [ServerMessage::FramebufferUpdate {
                rectangles: 3,
                resized: true
            }]
        );
        assert_eq!((fb.width(), fb.height()), (3, 1));
        assert_eq!(fb.painted_pixels(), 1);
        assert_eq!(fb.pixel(1, 0), [0, 0, 0]);
        let huge = update(&[(rect(0, 0, 9000, 10), DESKTOP_SIZE, vec![])]);
        let err = apply(&huge, &mut fb).await.unwrap_err();
        assert!(matches!(err, ClientError::TooLarge { .. }), "{err}");
    }

    #[tokio::test]
    async fn copyrect_copies_and_other_messages_pass() {
        let mut fb = Framebuffer::new(2, 1).unwrap();
        let mut bytes = vec![2]; // Bell
        bytes.extend([3, 0, 0, 0, 0, 0, 0, 2, b'h', b'i']); // ServerCutText
        bytes.extend([1, 0, 0, 0, 0, 1, 1, 2, 3, 4, 5, 6]); // SetColourMapEntries
        bytes.extend(update(&[
            (rect(0, 0, 1, 1), 0, vec![7, 7, 7, 0]),
            (rect(1, 0, 1, 1), 1, vec![0, 0, 0, 0]),
        ]));
        let seen = apply(&bytes, &mut fb).await.unwrap();
        assert_eq!(seen.len(), 4);
        assert!(fb.is_covered());
        assert_eq!(fb.pixel(1, 0), [7, 7, 7]);
    }

    #[tokio::test]
    async fn bad_updates_are_refused() {
        let mut fb = Framebuffer::new(2, 2).unwrap();
        let cases: [(Vec<u8>, &str); 6] = [
            (vec![7], "server message type 7"),
            (update(&[(rect(0, 0, 1, 1), 5, vec![])]), "encoding 5"),
            (update(&[(rect(1, 1, 2, 1), 0, vec![0; 8])]), "outside"),
            (
                update(&[(rect(0, 0, 2, 2), 0, vec![0; 3])]),
                "instead of sending a Raw",
            ),
            (
                update(&[(rect(0, 0, 1, 1), 16, 5000u32.to_be_bytes().to_vec())]),
                "5000 compressed bytes",
            ),
            (
                update(&[(rect(0, 0, 1, 1), 6, with_len(Deflater::new().rect(&[0; 3])))]),
                "zlib rectangle of 3 bytes",
            ),
        ];
        for (bytes, why) in cases {
            let err = apply(&bytes, &mut fb).await.unwrap_err();
            assert!(err.to_string().contains(why), "{why}: {err}");
        }
    }
}
