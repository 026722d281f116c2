//! What an [`RfbServer`](super::RfbServer) shows.

use std::sync::atomic::{AtomicU32, Ordering};

/// Draws the pictures an [`RfbServer`](super::RfbServer) sends.
///
/// Pixels are in the server's default format: 4 bytes per pixel,
/// little-endian `0x00RRGGBB` (so the bytes are blue, green, red, 0), rows
/// top to bottom.
pub trait FrameSource: Send + Sync + 'static {
    /// Replaces `out`'s contents with one `width` x `height` frame
    /// (`width * height * 4` bytes).
    fn render(&self, width: u16, height: u16, out: &mut Vec<u8>);
}

/// A diagonal gradient that moves a step on every render, so that two
/// frames in a row always differ and a viewer sees a live picture.
#[derive(Debug, Clone, Copy, Default)]
pub struct GradientFrames;

/// The gradient's phase. A unit struct keeps `GradientFrames` trivially
/// constructible; a process-wide counter is enough to make frames differ.
static GRADIENT_PHASE: AtomicU32 = AtomicU32::new(0);

impl FrameSource for GradientFrames {
    fn render(&self, width: u16, height: u16, out: &mut Vec<u8>) {
        let phase = GRADIENT_PHASE
            .fetch_add(1, Ordering::Relaxed)
            .wrapping_mul(8);
        out.clear();
        out.reserve(usize::from(width) * usize::from(height) * 4);
        for y in 0..u32::from(height) {
            for x in 0..u32::from(width) {
                let red = (x.wrapping_add(phase) & 0xff) as u8;
                let green = (y.wrapping_add(phase / 2) & 0xff) as u8;
                let blue = (((x + y) / 2) & 0xff) as u8;
                out.extend_from_slice(&[blue, green, red, 0]);
            }
        }
    }
}

/// Fills `out` with one colour (`0xRRGGBB`): a building block for sources
/// and a predictable picture for tests.
pub fn fill(width: u16, height: u16, rgb: u32, out: &mut Vec<u8>) {
    out.clear();
    let pixel = (rgb & 0x00ff_ffff).to_le_bytes();
    for _ in 0..usize::from(width) * usize::from(height) {
        out.extend_from_slice(&pixel);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn gradient_fills_the_frame_and_moves() {
        let (mut a, mut b) = (Vec::new(), Vec::new());
        GradientFrames.render(16, 8, &mut a);
        GradientFrames.render(16, 8, &mut b);
        assert_eq!(a.len(), 16 * 8 * 4);
        assert_eq!(b.len(), a.len());
        assert_ne!(a, b);
    }

    #[test]
    fn fill_is_little_endian_bgrx() {
        let mut out = vec![9; 3];
        fill(2, 1, 0x112233, &mut out);
        assert_eq!(out, [0x33, 0x22, 0x11, 0, 0x33, 0x22, 0x11, 0]);
    }
}
