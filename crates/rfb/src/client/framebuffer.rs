//! [`Framebuffer`]: the screen as the decoder paints it, in 8-bit RGB.

use crate::client::coverage::Coverage;
use crate::client::error::ClientError;

/// The widest and tallest screen the client decodes: 8192x8192 is 192 MiB
/// of RGB, and no VNC server of a VM has a larger one.
pub const MAX_DIMENSION: u16 = 8192;

/// A screen of `width` x `height` RGB pixels, and which of them the
/// server has painted since it was made (or last resized).
#[derive(Debug, Clone)]
pub struct Framebuffer {
    width: u16,
    height: u16,
    rgb: Vec<u8>,
    coverage: Coverage,
}

impl Framebuffer {
    /// A black screen, nothing painted.
    ///
    /// # Errors
    /// [`ClientError::TooLarge`] when either side is over
    /// [`MAX_DIMENSION`].
    pub fn new(width: u16, height: u16) -> Result<Framebuffer, ClientError> {
        if width > MAX_DIMENSION || height > MAX_DIMENSION {
            return Err(ClientError::TooLarge {
                width,
                height,
                max: MAX_DIMENSION,
            });
        }
        Ok(Framebuffer {
            width,
            height,
            rgb: vec![0; usize::from(width) * usize::from(height) * 3],
            coverage: Coverage::new(width, height),
        })
    }

    /// Width in pixels.
    pub fn width(&self) -> u16 {
        self.width
    }

    /// Height in pixels.
    pub fn height(&self) -> u16 {
        self.height
    }

    /// The pixels, row by row, three bytes (R, G, B) each.
    pub fn rgb(&self) -> &[u8] {
        &self.rgb
    }

    /// The pixel at (`x`, `y`).
    ///
    /// # Panics
    /// When (`x`, `y`) is outside the screen.
    pub fn pixel(&self, x: u16, y: u16) -> [u8; 3] {
        assert!(
            x < self.width && y < self.height,
            "({x}, {y}) is off screen"
        );
        let at = self.offset(usize::from(x), usize::from(y));
        [self.rgb[at], self.rgb[at + 1], self.rgb[at + 2]]
    }

    /// How many pixels the server has painted.
    pub fn painted_pixels(&self) -> u64 {
        self.coverage.painted()
    }

    /// Whether the server has painted every pixel.
    pub fn is_covered(&self) -> bool {
        self.coverage.painted() == u64::from(self.width) * u64::from(self.height)
    }

    /// The screen as a PNG (8-bit RGB).
    ///
    /// # Errors
    /// [`ClientError::Png`] when the encoder fails (an empty screen).
    pub fn to_png(&self) -> Result<Vec<u8>, ClientError> {
        let png_error = |e: png::EncodingError| ClientError::Png(e.to_string());
        let mut out = Vec::new();
        let mut encoder = png::Encoder::new(&mut out, self.width.into(), self.height.into());
        encoder.set_color(png::ColorType::Rgb);
        encoder.set_depth(png::BitDepth::Eight);
        let mut writer = encoder.write_header().map_err(png_error)?;
        writer.write_image_data(&self.rgb).map_err(png_error)?;
        writer.finish().map_err(png_error)?;
        Ok(out)
    }

    /// Starts over at another size, black and unpainted.
    ///
    /// # Errors
    /// As [`Framebuffer::new`].
    pub(crate) fn resize(&mut self, width: u16, height: u16) -> Result<(), ClientError> {
        *self = Framebuffer::new(width, height)?;
        Ok(())
    }

    /// Checks that a rectangle lies inside the screen.
    ///
    /// # Errors
    /// [`ClientError::Protocol`] naming the rectangle when it does not.
    pub(crate) fn check_rect(&self, rect: Rect) -> Result<(), ClientError> {
        let fits = |at: u16, len: u16, size: u16| u32::from(at) + u32::from(len) <= size.into();
        if fits(rect.x, rect.w, self.width) && fits(rect.y, rect.h, self.height) {
            Ok(())
        } else {
            Err(ClientError::Protocol(format!(
                "sent a rectangle {}x{} at ({}, {}) outside its {}x{} screen",
                rect.w, rect.h, rect.x, rect.y, self.width, self.height
            )))
        }
    }

    /// Paints `rect` (inside the screen) from `rgb`, its pixels row by row.
    pub(crate) fn put(&mut self, rect: Rect, rgb: &[u8]) {
        let (x, y, w, h) = rect.usizes();
        debug_assert_eq!(rgb.len(), w * h * 3);
        for row in 0..h {
            let at = self.offset(x, y + row);
            self.rgb[at..at + w * 3].copy_from_slice(&rgb[row * w * 3..(row + 1) * w * 3]);
        }
        self.coverage.paint(x, y, w, h);
    }

    /// Paints `rect` (inside the screen) one colour.
    pub(crate) fn fill(&mut self, rect: Rect, colour: [u8; 3]) {
        let (x, y, w, h) = rect.usizes();
        for row in y..y + h {
            let at = self.offset(x, row);
            for pixel in self.rgb[at..at + w * 3].chunks_exact_mut(3) {
                pixel.copy_from_slice(&colour);
            }
        }
        self.coverage.paint(x, y, w, h);
    }

    /// Copies the pixels at (`src_x`, `src_y`) to `rect`, both inside the
    /// screen (CopyRect). The copy counts as painted: the server vouches
    /// for the source.
    pub(crate) fn copy(&mut self, rect: Rect, src_x: u16, src_y: u16) {
        let (x, y, w, h) = rect.usizes();
        let (sx, sy) = (usize::from(src_x), usize::from(src_y));
        // Rows in the order that never reads a row already overwritten.
        let rows: Box<dyn Iterator<Item = usize>> = if sy < y {
            Box::new((0..h).rev())
        } else {
            Box::new(0..h)
        };
        for row in rows {
            let from = self.offset(sx, sy + row);
            let to = self.offset(x, y + row);
            self.rgb.copy_within(from..from + w * 3, to);
        }
        self.coverage.paint(x, y, w, h);
    }

    fn offset(&self, x: usize, y: usize) -> usize {
        (y * usize::from(self.width) + x) * 3
    }
}

/// A rectangle of the screen, as a FramebufferUpdate names it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Rect {
    pub(crate) x: u16,
    pub(crate) y: u16,
    pub(crate) w: u16,
    pub(crate) h: u16,
}

impl Rect {
    /// How many pixels it holds.
    pub(crate) fn pixels(&self) -> usize {
        usize::from(self.w) * usize::from(self.h)
    }

    fn usizes(&self) -> (usize, usize, usize, usize) {
        (self.x.into(), self.y.into(), self.w.into(), self.h.into())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rect(x: u16, y: u16, w: u16, h: u16) -> Rect {
        Rect { x, y, w, h }
    }

    #[test]
    fn screens_over_the_limit_are_refused() {
        let err = Framebuffer::new(8193, 10).unwrap_err();
        assert!(
            matches!(err, ClientError::TooLarge { width: 8193, .. }),
            "{err}"
        );
        assert!(err.to_string().contains("8192x8192"), "{err}");
        assert!(Framebuffer::new(10, 8193).is_err());
        let mut fb = Framebuffer::new(2, 2).unwrap();
        assert!(fb.resize(9000, 9000).is_err());
        assert!(Framebuffer::new(MAX_DIMENSION, 1).is_ok());
    }

    #[test]
    fn painting_covers_the_screen() {
        let mut fb = Framebuffer::new(4, 2).unwrap();
        assert!(!fb.is_covered());
        fb.put(rect(1, 0, 2, 1), &[1, 2, 3, 4, 5, 6]);
        assert_eq!(fb.pixel(1, 0), [1, 2, 3]);
        assert_eq!(fb.pixel(2, 0), [4, 5, 6]);
        assert_eq!(fb.painted_pixels(), 2);
        fb.fill(rect(0, 0, 4, 2), [9, 9, 9]);
        assert!(fb.is_covered());
        fb.resize(3, 3).unwrap();
        assert!(!fb.is_covered());
        assert_eq!(fb.pixel(2, 2), [0, 0, 0]);
    }

    #[test]
    fn rectangles_outside_are_refused() {
        let fb = Framebuffer::new(4, 4).unwrap();
        assert!(fb.check_rect(rect(0, 0, 4, 4)).is_ok());
        assert!(fb.check_rect(rect(4, 0, 0, 0)).is_ok());
        let err = fb.check_rect(rect(3, 0, 2, 1)).unwrap_err();
        assert!(err.to_string().contains("2x1 at (3, 0)"), "{err}");
        assert!(fb.check_rect(rect(0, 65535, 1, 65535)).is_err());
    }

    #[test]
    fn copies_may_overlap() {
        let mut fb = Framebuffer::new(1, 3).unwrap();
        fb.put(rect(0, 0, 1, 3), &[1, 1, 1, 2, 2, 2, 3, 3, 3]);
        fb.copy(rect(0, 1, 1, 2), 0, 0);
        assert_eq!([fb.pixel(0, 1), fb.pixel(0, 2)], [[1, 1, 1], [2, 2, 2]]);
        fb.copy(rect(0, 0, 1, 2), 0, 1);
        assert_eq!([fb.pixel(0, 0), fb.pixel(0, 1)], [[1, 1, 1], [2, 2, 2]]);
    }

    #[test]
    fn the_png_holds_the_pixels() {
        let mut fb = Framebuffer::new(2, 1).unwrap();
        fb.put(rect(0, 0, 2, 1), &[255, 0, 0, 0, 0, 255]);
        let png = fb.to_png().unwrap();
        let decoder = png::Decoder::new(png.as_slice());
        let mut reader = decoder.read_info().unwrap();
        let mut buf = vec![0; reader.output_buffer_size()];
        let info = reader.next_frame(&mut buf).unwrap();
        assert_eq!((info.width, info.height), (2, 1));
        assert_eq!(info.color_type, png::ColorType::Rgb);
        assert_eq!(&buf[..6], &[255, 0, 0, 0, 0, 255]);
    }
}
