//! ZRLE (encoding 16, RFC 6143 7.7.6): 64x64 tiles, each raw, solid,
//! packed palette, plain RLE or palette RLE, inside one zlib stream per
//! connection. This module reads a rectangle's inflated bytes.

use crate::client::error::ClientError;
use crate::client::framebuffer::{Framebuffer, Rect};
use crate::client::pixel_format::PixelFormat;

/// ZRLE tiles are 64 pixels square (the last row and column smaller).
const TILE: u16 = 64;

/// The most a palette holds.
const MAX_PALETTE: usize = 127;

/// The most a rectangle's inflated ZRLE data can be: per tile its
/// subencoding byte and a full palette, per pixel a CPIXEL and a run
/// length byte (plain RLE of runs of one is the longest form).
pub(crate) fn max_inflated(rect: Rect, format: &PixelFormat) -> usize {
    let cpixel = format.cpixel_bytes();
    let tiles = usize::from(rect.w.div_ceil(TILE)) * usize::from(rect.h.div_ceil(TILE));
    tiles * (1 + MAX_PALETTE * cpixel) + rect.pixels() * (cpixel + 1)
}

/// Paints `rect` (inside the screen) from its inflated ZRLE `data`.
///
/// # Errors
/// [`ClientError::Protocol`] when the data is short, long, uses an
/// unassigned subencoding, an index outside its palette or a run past its
/// tile.
pub(crate) fn decode(
    data: &[u8],
    rect: Rect,
    format: &PixelFormat,
    fb: &mut Framebuffer,
) -> Result<(), ClientError> {
    let mut input = Input { data, at: 0 };
    let mut tile_rgb = Vec::with_capacity(usize::from(TILE) * usize::from(TILE) * 3);
    for ty in (0..rect.h).step_by(TILE.into()) {
        for tx in (0..rect.w).step_by(TILE.into()) {
            let tile = Rect {
                x: rect.x + tx,
                y: rect.y + ty,
                w: TILE.min(rect.w - tx),
                h: TILE.min(rect.h - ty),
            };
            tile_rgb.clear();
            match decode_tile(&mut input, tile, format, &mut tile_rgb)? {
                Painted::Solid(colour) => fb.fill(tile, colour),
                Painted::Pixels => fb.put(tile, &tile_rgb),
            }
        }
    }
    if input.at != data.len() {
        return Err(ClientError::Protocol(format!(
            "sent {} bytes of ZRLE data past the last tile of a {}x{} rectangle",
            data.len() - input.at,
            rect.w,
            rect.h
        )));
    }
    Ok(())
}

enum Painted {
    Solid([u8; 3]),
    Pixels,
}

fn decode_tile(
    input: &mut Input<'_>,
    tile: Rect,
    format: &PixelFormat,
    rgb: &mut Vec<u8>,
) -> Result<Painted, ClientError> {
    let pixels = tile.pixels();
    let subencoding = input.u8()?;
    match subencoding {
        0 => {
            for _ in 0..pixels {
                rgb.extend_from_slice(&input.cpixel(format)?);
            }
        }
        1 => return Ok(Painted::Solid(input.cpixel(format)?)),
        2..=16 => {
            let palette = input.palette(usize::from(subencoding), format)?;
            let bits = match palette.len() {
                2 => 1,
                3..=4 => 2,
                _ => 4,
            };
            let row_bytes = (usize::from(tile.w) * bits).div_ceil(8);
            for _ in 0..tile.h {
                let row = input.take(row_bytes)?;
                for x in 0..usize::from(tile.w) {
                    let bit = x * bits;
                    let byte = row[bit / 8];
                    let index = usize::from((byte >> (8 - bits - bit % 8)) & ((1 << bits) - 1));
                    rgb.extend_from_slice(colour_at(&palette, index)?);
                }
            }
        }
        128 => {
            while rgb.len() < pixels * 3 {
                let colour = input.cpixel(format)?;
                let run = input.run_length(pixels - rgb.len() / 3)?;
                for _ in 0..run {
                    rgb.extend_from_slice(&colour);
                }
            }
        }
        130..=255 => {
            let palette = input.palette(usize::from(subencoding - 128), format)?;
            while rgb.len() < pixels * 3 {
                let index = input.u8()?;
                let colour = *colour_at(&palette, usize::from(index & 0x7f))?;
                let run = if index & 0x80 == 0 {
                    1
                } else {
                    input.run_length(pixels - rgb.len() / 3)?
                };
                for _ in 0..run {
                    rgb.extend_from_slice(&colour);
                }
            }
        }
        17..=127 | 129 => {
            return Err(ClientError::Protocol(format!(
                "sent a ZRLE tile with the unassigned subencoding {subencoding}"
            )))
        }
    }
    Ok(Painted::Pixels)
}

fn colour_at(palette: &[[u8; 3]], index: usize) -> Result<&[u8; 3], ClientError> {
    palette.get(index).ok_or_else(|| {
        ClientError::Protocol(format!(
            "sent a ZRLE palette index {index} in a palette of {}",
            palette.len()
        ))
    })
}

/// The inflated bytes of a rectangle, read in order.
struct Input<'a> {
    data: &'a [u8],
    at: usize,
}

impl<'a> Input<'a> {
    fn take(&mut self, n: usize) -> Result<&'a [u8], ClientError> {
        let end = self.at.checked_add(n).filter(|&e| e <= self.data.len());
        let Some(end) = end else {
            return Err(ClientError::Protocol(
                "sent ZRLE data that ends inside a tile".into(),
            ));
        };
        let bytes = &self.data[self.at..end];
        self.at = end;
        Ok(bytes)
    }

    fn u8(&mut self) -> Result<u8, ClientError> {
        Ok(self.take(1)?[0])
    }

    fn cpixel(&mut self, format: &PixelFormat) -> Result<[u8; 3], ClientError> {
        let bytes = self.take(format.cpixel_bytes())?;
        Ok(format.rgb(format.cpixel_value(bytes)))
    }

    fn palette(&mut self, size: usize, format: &PixelFormat) -> Result<Vec<[u8; 3]>, ClientError> {
        (0..size).map(|_| self.cpixel(format)).collect()
    }

    /// A run length (bytes of 255 then one below it, plus one) of at most
    /// `left` pixels.
    fn run_length(&mut self, left: usize) -> Result<usize, ClientError> {
        let mut run = 1usize;
        loop {
            let b = self.u8()?;
            run += usize::from(b);
            if run > left {
                return Err(ClientError::Protocol(format!(
                    "sent a ZRLE run past the end of its tile ({left} pixels left)"
                )));
            }
            if b != 255 {
                return Ok(run);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const F: PixelFormat = PixelFormat::RGBX;

    fn rect(x: u16, y: u16, w: u16, h: u16) -> Rect {
        Rect { x, y, w, h }
    }

    fn paint(data: &[u8], r: Rect, fb: &mut Framebuffer) -> Result<(), ClientError> {
        fb.check_rect(r)?;
        decode(data, r, &F, fb)
    }

    fn rows(fb: &Framebuffer) -> Vec<Vec<[u8; 3]>> {
        (0..fb.height())
            .map(|y| (0..fb.width()).map(|x| fb.pixel(x, y)).collect())
            .collect()
    }

    const R: [u8; 3] = [255, 0, 0];
    const G: [u8; 3] = [0, 255, 0];
    const B: [u8; 3] = [0, 0, 255];

    #[test]
    fn raw_tiles_are_cpixels() {
        let mut fb = Framebuffer::new(3, 1).unwrap();
        let data = [&[0u8][..], &R, &G, &B].concat();
        paint(&data, rect(0, 0, 3, 1), &mut fb).unwrap();
        assert_eq!(rows(&fb), [[R, G, B]]);
        assert!(fb.is_covered());
    }

    #[test]
    fn solid_tiles_fill() {
        let mut fb = Framebuffer::new(3, 2).unwrap();
        paint(&[1, 0, 0, 255], rect(1, 0, 2, 2), &mut fb).unwrap();
        assert_eq!(rows(&fb), [[[0; 3], B, B], [[0; 3], B, B]]);
        assert_eq!(fb.painted_pixels(), 4);
    }

    #[test]
    fn packed_palettes_pack_rows_to_bytes() {
        // Two colours: one bit an index, each row padded to a byte.
        let mut fb = Framebuffer::new(3, 2).unwrap();
        let data = [&[2u8][..], &R, &G, &[0b0100_0000, 0b1010_0000]].concat();
        paint(&data, rect(0, 0, 3, 2), &mut fb).unwrap();
        assert_eq!(rows(&fb), [[R, G, R], [G, R, G]]);
        // Three colours: two bits an index.
        let data = [&[3u8][..], &R, &G, &B, &[0b0001_1000], &[0b1001_0000]].concat();
        paint(&data, rect(0, 0, 3, 2), &mut fb).unwrap();
        assert_eq!(rows(&fb), [[R, G, B], [B, G, R]]);
        // Five colours: four bits an index.
        let w = [9u8, 9, 9];
        let data = [
            &[5u8][..],
            &R,
            &G,
            &B,
            &w,
            &[1, 2, 3],
            &[0x01, 0x40, 0x32, 0x10],
        ]
        .concat();
        paint(&data, rect(0, 0, 3, 2), &mut fb).unwrap();
        assert_eq!(rows(&fb), [[R, G, [1, 2, 3]], [w, B, G]]);
    }

    #[test]
    fn plain_rle_runs_span_rows() {
        let mut fb = Framebuffer::new(3, 2).unwrap();
        let data = [&[128u8][..], &R, &[3], &G, &[0], &B, &[0]].concat();
        paint(&data, rect(0, 0, 3, 2), &mut fb).unwrap();
        assert_eq!(rows(&fb), [[R, R, R], [R, G, B]]);
    }

    #[test]
    fn long_runs_add_bytes_of_255() {
        let mut fb = Framebuffer::new(64, 5).unwrap();
        // 64 * 5 = 320 = 1 + 255 + 64
        let data = [&[128u8][..], &G, &[255, 64]].concat();
        paint(&data, rect(0, 0, 64, 5), &mut fb).unwrap();
        assert!(fb.is_covered());
        assert_eq!(fb.pixel(63, 4), G);
    }

    #[test]
    fn palette_rle_mixes_runs_and_single_pixels() {
        let mut fb = Framebuffer::new(4, 1).unwrap();
        let data = [&[130u8][..], &R, &B, &[0x81, 2, 0]].concat();
        paint(&data, rect(0, 0, 4, 1), &mut fb).unwrap();
        assert_eq!(rows(&fb), [[B, B, B, R]]);
    }

    #[test]
    fn rectangles_split_into_64_pixel_tiles() {
        let mut fb = Framebuffer::new(70, 66).unwrap();
        // Tiles in order: 64x64, 6x64, 64x2, 6x2.
        let data = [
            [1u8, 255, 0, 0],
            [1, 0, 255, 0],
            [1, 0, 0, 255],
            [1, 9, 9, 9],
        ]
        .concat();
        paint(&data, rect(0, 0, 70, 66), &mut fb).unwrap();
        assert!(fb.is_covered());
        assert_eq!(fb.pixel(63, 63), R);
        assert_eq!(fb.pixel(64, 0), G);
        assert_eq!(fb.pixel(0, 64), B);
        assert_eq!(fb.pixel(69, 65), [9, 9, 9]);
    }

    #[test]
    fn broken_tiles_are_refused() {
        let mut fb = Framebuffer::new(4, 1).unwrap();
        let r = rect(0, 0, 4, 1);
        let cases: [(&[u8], &str); 6] = [
            (&[0, 1, 2, 3], "ends inside a tile"),
            (&[17], "unassigned subencoding 17"),
            (&[129], "unassigned subencoding 129"),
            (&[128, 1, 2, 3, 4], "run past the end"),
            (
                &[130, 1, 1, 1, 2, 2, 2, 5, 0, 0, 0],
                "index 5 in a palette of 2",
            ),
            (&[1, 1, 2, 3, 0], "1 bytes of ZRLE data past the last tile"),
        ];
        for (data, why) in cases {
            let err = paint(data, r, &mut fb).unwrap_err();
            assert!(err.to_string().contains(why), "{why}: {err}");
        }
    }

    #[test]
    fn the_bound_holds_the_longest_encoding() {
        let r = rect(0, 0, 65, 1);
        // Two tiles of plain RLE runs of one.
        let longest = 2 + 65 * 4;
        assert!(max_inflated(r, &F) >= longest);
        assert!(max_inflated(r, &F) < 2 * (1 + 127 * 3) + 65 * 4 + 1);
    }
}
