//! RFB pixel formats: the 16 bytes of ServerInit and SetPixelFormat, and
//! turning a pixel of one into 8-bit RGB.

use crate::client::error::ClientError;

/// An RFB pixel format (RFC 6143, 7.4).
///
/// The decoder reads true-colour formats of 8, 16 or 32 bits per pixel,
/// either byte order, any channel layout; colour-map formats are refused
/// ([`PixelFormat::check`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PixelFormat {
    /// Bits per pixel on the wire: 8, 16 or 32.
    pub bits_per_pixel: u8,
    /// Useful bits per pixel.
    pub depth: u8,
    /// Whether multi-byte pixels are big endian.
    pub big_endian: bool,
    /// Whether pixels are colours (true) or colour-map indices (false).
    pub true_colour: bool,
    /// Largest red value.
    pub red_max: u16,
    /// Largest green value.
    pub green_max: u16,
    /// Largest blue value.
    pub blue_max: u16,
    /// Bits to shift a pixel right to reach red.
    pub red_shift: u8,
    /// Bits to shift a pixel right to reach green.
    pub green_shift: u8,
    /// Bits to shift a pixel right to reach blue.
    pub blue_shift: u8,
}

impl PixelFormat {
    /// What the screenshot client asks for, and noVNC too: 32 bits, depth
    /// 24, little endian, red in the lowest byte, then green, then blue.
    /// On the wire a pixel is `R G B x`, and ZRLE sends `R G B`.
    pub const RGBX: PixelFormat = PixelFormat {
        bits_per_pixel: 32,
        depth: 24,
        big_endian: false,
        true_colour: true,
        red_max: 255,
        green_max: 255,
        blue_max: 255,
        red_shift: 0,
        green_shift: 8,
        blue_shift: 16,
    };

    /// The format in its 16 wire bytes.
    pub fn from_wire(bytes: &[u8; 16]) -> PixelFormat {
        let u16_at = |i: usize| u16::from_be_bytes([bytes[i], bytes[i + 1]]);
        PixelFormat {
            bits_per_pixel: bytes[0],
            depth: bytes[1],
            big_endian: bytes[2] != 0,
            true_colour: bytes[3] != 0,
            red_max: u16_at(4),
            green_max: u16_at(6),
            blue_max: u16_at(8),
            red_shift: bytes[10],
            green_shift: bytes[11],
            blue_shift: bytes[12],
        }
    }

    /// The 16 wire bytes of the format (three bytes of padding last).
    pub fn to_wire(&self) -> [u8; 16] {
        let mut out = [0u8; 16];
        out[0] = self.bits_per_pixel;
        out[1] = self.depth;
        out[2] = u8::from(self.big_endian);
        out[3] = u8::from(self.true_colour);
        out[4..6].copy_from_slice(&self.red_max.to_be_bytes());
        out[6..8].copy_from_slice(&self.green_max.to_be_bytes());
        out[8..10].copy_from_slice(&self.blue_max.to_be_bytes());
        out[10] = self.red_shift;
        out[11] = self.green_shift;
        out[12] = self.blue_shift;
        out
    }

    /// Checks that the decoder can turn pixels of this format into RGB.
    ///
    /// # Errors
    /// [`ClientError::Protocol`] for a colour-map format, a pixel size
    /// other than 8, 16 or 32 bits, or a channel of no bits or outside the
    /// pixel.
    pub fn check(&self) -> Result<(), ClientError> {
        if !self.true_colour {
            return Err(ClientError::Protocol(
                "colour-map pixel formats are not supported".into(),
            ));
        }
        if !matches!(self.bits_per_pixel, 8 | 16 | 32) {
            return Err(ClientError::Protocol(format!(
                "pixels of {} bits are not supported (8, 16 or 32)",
                self.bits_per_pixel
            )));
        }
        for (max, shift) in self.channels() {
            let top = u64::from(max) << shift;
            if max == 0 || top >= 1u64 << self.bits_per_pixel {
                return Err(ClientError::Protocol(format!(
                    "a colour channel of maximum {max} shifted by {shift} does not fit a \
                     {}-bit pixel",
                    self.bits_per_pixel
                )));
            }
        }
        Ok(())
    }

    /// Bytes per pixel on the wire.
    pub fn bytes_per_pixel(&self) -> usize {
        usize::from(self.bits_per_pixel / 8)
    }

    /// The (max, shift) of red, green and blue.
    fn channels(&self) -> [(u16, u8); 3] {
        [
            (self.red_max, self.red_shift),
            (self.green_max, self.green_shift),
            (self.blue_max, self.blue_shift),
        ]
    }

    /// A pixel's value from its wire bytes (`bytes_per_pixel` of them).
    pub(crate) fn value(&self, bytes: &[u8]) -> u32 {
        let fold = |acc: u32, b: &u8| (acc << 8) | u32::from(*b);
        if self.big_endian {
            bytes.iter().fold(0, fold)
        } else {
            bytes.iter().rev().fold(0, fold)
        }
    }

    /// A pixel value as 8-bit red, green and blue.
    pub(crate) fn rgb(&self, value: u32) -> [u8; 3] {
        self.channels().map(|(max, shift)| {
            let max = u32::from(max);
            let channel = (value >> shift) & max;
            // Rounded scaling to 0..=255; exact for 8-bit channels.
            ((channel * 255 + max / 2) / max) as u8
        })
    }

    /// The size of ZRLE's compressed pixel (CPIXEL): 3 bytes where a
    /// 32-bit true-colour pixel's colours fit in its lowest or highest
    /// three bytes, else a whole pixel (RFC 6143, 7.7.6).
    pub(crate) fn cpixel_bytes(&self) -> usize {
        match self.cpixel_place() {
            Some(_) => 3,
            None => self.bytes_per_pixel(),
        }
    }

    /// A CPIXEL's value as a pixel value.
    pub(crate) fn cpixel_value(&self, bytes: &[u8]) -> u32 {
        let value = self.value(bytes);
        match self.cpixel_place() {
            Some(Place::High) => value << 8,
            _ => value,
        }
    }

    /// Which three bytes of a 32-bit pixel ZRLE sends, if it sends three.
    fn cpixel_place(&self) -> Option<Place> {
        if !self.true_colour || self.bits_per_pixel != 32 || self.depth > 24 {
            return None;
        }
        let mask = self
            .channels()
            .iter()
            .fold(0u64, |m, (max, shift)| m | (u64::from(*max) << shift));
        if mask & 0xff00_0000 == 0 {
            Some(Place::Low)
        } else if mask & 0xff == 0 {
            Some(Place::High)
        } else {
            None
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Place {
    Low,
    High,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_wire_form_round_trips() {
        let wire = PixelFormat::RGBX.to_wire();
        assert_eq!(
            wire,
            [32, 24, 0, 1, 0, 255, 0, 255, 0, 255, 0, 8, 16, 0, 0, 0]
        );
        assert_eq!(PixelFormat::from_wire(&wire), PixelFormat::RGBX);
    }

    #[test]
    fn rgbx_pixels_are_their_first_three_bytes() {
        let f = PixelFormat::RGBX;
        assert_eq!(f.rgb(f.value(&[10, 20, 30, 99])), [10, 20, 30]);
        assert_eq!(f.cpixel_bytes(), 3);
        assert_eq!(f.rgb(f.cpixel_value(&[10, 20, 30])), [10, 20, 30]);
    }

    #[test]
    fn other_layouts_convert_too() {
        // QEMU's own: big endian x R G B.
        let xrgb = PixelFormat {
            big_endian: true,
            red_shift: 16,
            green_shift: 8,
            blue_shift: 0,
            ..PixelFormat::RGBX
        };
        assert_eq!(xrgb.rgb(xrgb.value(&[0, 1, 2, 3])), [1, 2, 3]);
        assert_eq!(xrgb.rgb(xrgb.cpixel_value(&[1, 2, 3])), [1, 2, 3]);
        // Colours in the high bytes: ZRLE sends those three.
        let high = PixelFormat {
            red_shift: 8,
            green_shift: 16,
            blue_shift: 24,
            ..PixelFormat::RGBX
        };
        assert_eq!(high.rgb(high.cpixel_value(&[1, 2, 3])), [1, 2, 3]);
        // 16-bit RGB565, little endian: full channels scale to 255.
        let rgb565 = PixelFormat {
            bits_per_pixel: 16,
            depth: 16,
            red_max: 31,
            green_max: 63,
            blue_max: 31,
            red_shift: 11,
            green_shift: 5,
            blue_shift: 0,
            ..PixelFormat::RGBX
        };
        rgb565.check().unwrap();
        assert_eq!(rgb565.cpixel_bytes(), 2);
        assert_eq!(rgb565.rgb(rgb565.value(&[0xff, 0xff])), [255, 255, 255]);
        assert_eq!(rgb565.rgb(rgb565.value(&[0x00, 0xf8])), [255, 0, 0]);
    }

    #[test]
    fn unusable_formats_are_refused() {
        let map = PixelFormat {
            true_colour: false,
            ..PixelFormat::RGBX
        };
        assert!(map.check().is_err());
        let odd = PixelFormat {
            bits_per_pixel: 24,
            ..PixelFormat::RGBX
        };
        assert!(odd.check().is_err());
        let outside = PixelFormat {
            blue_shift: 30,
            ..PixelFormat::RGBX
        };
        assert!(outside.check().is_err());
        PixelFormat::RGBX.check().unwrap();
    }
}
