//! Pictures of screens: PNGs decoded to RGB pixels, and how two differ.

/// A decoded picture: its size and RGB pixels, row by row.
#[derive(Clone, PartialEq, Eq)]
pub struct Rgb {
    /// Width.
    pub width: u32,
    /// Height.
    pub height: u32,
    /// Three bytes a pixel.
    pub pixels: Vec<u8>,
}

impl std::fmt::Debug for Rgb {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}x{} RGB", self.width, self.height)
    }
}

impl Rgb {
    /// Decodes an 8-bit RGB or RGBA PNG (alpha dropped).
    ///
    /// # Panics
    /// When `png` is not such a PNG.
    pub fn from_png(png: &[u8]) -> Rgb {
        let mut reader = png::Decoder::new(png).read_info().expect("a PNG");
        let mut buf = vec![0; reader.output_buffer_size()];
        let info = reader.next_frame(&mut buf).expect("a PNG frame");
        buf.truncate(info.buffer_size());
        assert_eq!(info.bit_depth, png::BitDepth::Eight, "8-bit channels");
        let pixels = match info.color_type {
            png::ColorType::Rgb => buf,
            png::ColorType::Rgba => buf
                .chunks_exact(4)
                .flat_map(|p| [p[0], p[1], p[2]])
                .collect(),
            other => panic!("a PNG of {other:?}, not RGB"),
        };
        Rgb {
            width: info.width,
            height: info.height,
            pixels,
        }
    }

    /// How many pixels differ from `other`'s (all of them when the sizes
    /// differ).
    pub fn differing_pixels(&self, other: &Rgb) -> usize {
        if (self.width, self.height) != (other.width, other.height) {
            return (self.width * self.height).max(other.width * other.height) as usize;
        }
        self.pixels
            .chunks_exact(3)
            .zip(other.pixels.chunks_exact(3))
            .filter(|(a, b)| a != b)
            .count()
    }

    /// How many distinct colours it has.
    pub fn colours(&self) -> usize {
        let mut seen: Vec<&[u8]> = self.pixels.chunks_exact(3).collect();
        seen.sort_unstable();
        seen.dedup();
        seen.len()
    }
}
