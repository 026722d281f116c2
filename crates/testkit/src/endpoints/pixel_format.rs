//! RFB pixel formats: the server's default and the client's choice.

/// An RFB `PIXEL_FORMAT`, as far as this server honours it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct PixelFormat {
    pub bits_per_pixel: u8,
    pub depth: u8,
    pub big_endian: bool,
    pub true_colour: bool,
    pub max: [u16; 3],
    pub shift: [u8; 3],
}

impl PixelFormat {
    /// 32 bpp, depth 24, little-endian true colour `0x00RRGGBB`: what
    /// [`FrameSource`](super::FrameSource)s render.
    pub const DEFAULT: PixelFormat = PixelFormat {
        bits_per_pixel: 32,
        depth: 24,
        big_endian: false,
        true_colour: true,
        max: [255, 255, 255],
        shift: [16, 8, 0],
    };

    /// The 16 bytes of the wire form.
    pub fn to_bytes(self) -> [u8; 16] {
        let mut b = [0u8; 16];
        b[0] = self.bits_per_pixel;
        b[1] = self.depth;
        b[2] = u8::from(self.big_endian);
        b[3] = u8::from(self.true_colour);
        for (i, max) in self.max.iter().enumerate() {
            b[4 + 2 * i..6 + 2 * i].copy_from_slice(&max.to_be_bytes());
        }
        b[10..13].copy_from_slice(&self.shift);
        b
    }

    /// Parses the wire form.
    pub fn from_bytes(b: &[u8; 16]) -> PixelFormat {
        let max = |i: usize| u16::from_be_bytes([b[4 + 2 * i], b[5 + 2 * i]]);
        PixelFormat {
            bits_per_pixel: b[0],
            depth: b[1],
            big_endian: b[2] != 0,
            true_colour: b[3] != 0,
            max: [max(0), max(1), max(2)],
            shift: [b[10], b[11], b[12]],
        }
    }

    /// Whether this server can encode pixels in this format: 32 bpp true
    /// colour with channels that fit in a pixel.
    pub fn is_supported(self) -> bool {
        self.bits_per_pixel == 32
            && self.true_colour
            && self.max.iter().all(|&m| m > 0)
            && self.shift.iter().all(|&s| s < 32)
    }

    /// Converts default-format pixels into this format, appending to `out`.
    pub fn encode(self, default_pixels: &[u8], out: &mut Vec<u8>) {
        if self == PixelFormat::DEFAULT {
            out.extend_from_slice(default_pixels);
            return;
        }
        // Padding bits are set: clients must ignore them (RFC 6143 7.4),
        // but noVNC 1.3's Raw decoder (Debian's, the demo's) takes the
        // padding byte for alpha in every chunk after the first, and zeros
        // there leave most of its canvas transparent.
        let used = self
            .max
            .iter()
            .zip(self.shift)
            .fold(0u32, |mask, (max, shift)| {
                mask | u32::from(*max).wrapping_shl(u32::from(shift))
            });
        for px in default_pixels.chunks_exact(4) {
            let channels = [px[2], px[1], px[0]];
            let mut value = !used;
            for ((channel, max), shift) in channels.iter().zip(self.max).zip(self.shift) {
                let scaled = u32::from(*channel) * u32::from(max) / 255;
                value |= scaled.wrapping_shl(u32::from(shift));
            }
            let bytes = if self.big_endian {
                value.to_be_bytes()
            } else {
                value.to_le_bytes()
            };
            out.extend_from_slice(&bytes);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wire_form_round_trips() {
        let b = PixelFormat::DEFAULT.to_bytes();
        assert_eq!(b, [32, 24, 0, 1, 0, 255, 0, 255, 0, 255, 16, 8, 0, 0, 0, 0]);
        assert_eq!(PixelFormat::from_bytes(&b), PixelFormat::DEFAULT);
    }

    #[test]
    fn encodes_big_endian_rgb() {
        let format = PixelFormat {
            big_endian: true,
            shift: [0, 8, 16],
            ..PixelFormat::DEFAULT
        };
        let mut out = Vec::new();
        format.encode(&[0x33, 0x22, 0x11, 0], &mut out);
        assert_eq!(out, [0xff, 0x33, 0x22, 0x11], "padding bits set");
        assert!(format.is_supported());
        assert!(!PixelFormat {
            bits_per_pixel: 8,
            ..format
        }
        .is_supported());
    }

    #[test]
    fn only_padding_bits_are_set() {
        let format = PixelFormat {
            shift: [0, 8, 16],
            ..PixelFormat::DEFAULT
        };
        let mut out = Vec::new();
        format.encode(&[0, 0, 0, 0, 0x33, 0x22, 0x11, 0], &mut out);
        assert_eq!(out, [0, 0, 0, 0xff, 0x11, 0x22, 0x33, 0xff]);
        let narrow = PixelFormat {
            max: [31, 63, 31],
            shift: [11, 5, 0],
            ..PixelFormat::DEFAULT
        };
        out.clear();
        narrow.encode(&[0, 0, 0, 0], &mut out);
        assert_eq!(
            u32::from_le_bytes([out[0], out[1], out[2], out[3]]),
            0xffff_0000
        );
    }
}
