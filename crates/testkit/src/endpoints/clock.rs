//! A frame source that shows a title and the time: the demo's picture.

use std::time::SystemTime;

use super::font::{text_width, Canvas, CELL_WIDTH, GLYPH_HEIGHT};
use super::frames::FrameSource;
use crate::civil_time::Civil;

const TITLE_RGB: u32 = 0xffd75f;
const CLOCK_RGB: u32 = 0xffffff;
const CAPTION_RGB: u32 = 0x9ecbff;

/// Draws `title` and the current UTC time (`HH:MM:SS`) in big pixels on a
/// blue-to-teal background, so that a viewer sees a live, readable console.
/// Used by `consoled demo`.
#[derive(Debug, Clone, Default)]
pub struct ClockFrames {
    /// The line above the clock (a server name, say).
    pub title: String,
}

impl FrameSource for ClockFrames {
    fn render(&self, width: u16, height: u16, out: &mut Vec<u8>) {
        let (width, height) = (usize::from(width), usize::from(height));
        out.clear();
        out.resize(width * height * 4, 0);
        let mut canvas = Canvas {
            pixels: out,
            width,
            height,
        };
        for y in 0..height {
            let shade = (y * 96 / height.max(1)) as u32;
            let rgb = (0x10 << 16) | ((0x30 + shade) << 8) | (0x70 + shade / 2);
            for x in 0..width {
                canvas.put(x, y, rgb);
            }
        }
        let time = Civil::at(SystemTime::now()).hms();
        let clock_scale = fit(&time, width, height / 3);
        let clock_height = GLYPH_HEIGHT * clock_scale;
        let clock_y = height.saturating_sub(clock_height) / 2;
        centred(&mut canvas, &time, clock_y, clock_scale, CLOCK_RGB);

        let title_scale = fit(&self.title, width, height / 8).min(clock_scale.div_ceil(2).max(1));
        let title_y = clock_y.saturating_sub(GLYPH_HEIGHT * title_scale * 2);
        centred(&mut canvas, &self.title, title_y, title_scale, TITLE_RGB);

        let caption_y = clock_y + clock_height + GLYPH_HEIGHT * title_scale;
        centred(&mut canvas, "UTC", caption_y, title_scale, CAPTION_RGB);
    }
}

/// The largest scale at which `text` fits in 90% of `width` and in
/// `max_height`, at least 1.
fn fit(text: &str, width: usize, max_height: usize) -> usize {
    let columns = (text.chars().count() * CELL_WIDTH).max(1);
    let by_width = width * 9 / 10 / columns;
    let by_height = max_height / GLYPH_HEIGHT;
    by_width.min(by_height).max(1)
}

fn centred(canvas: &mut Canvas<'_>, text: &str, y: usize, scale: usize, rgb: u32) {
    let x = canvas.width.saturating_sub(text_width(text, scale)) / 2;
    canvas.text(x, y, scale, text, rgb);
}

#[cfg(test)]
mod tests {
    use super::*;

    fn count(frame: &[u8], rgb: u32) -> usize {
        let want = rgb.to_le_bytes();
        frame
            .chunks_exact(4)
            .filter(|px| px[..3] == want[..3])
            .count()
    }

    #[test]
    fn draws_title_and_clock_in_the_frame() {
        let source = ClockFrames {
            title: "web-1".into(),
        };
        let mut frame = Vec::new();
        source.render(640, 400, &mut frame);
        assert_eq!(frame.len(), 640 * 400 * 4);
        assert!(count(&frame, CLOCK_RGB) > 1000, "the clock is big");
        assert!(count(&frame, TITLE_RGB) > 100, "the title is drawn");
        assert!(count(&frame, CAPTION_RGB) > 0);
    }

    #[test]
    fn tiny_and_empty_frames_do_not_panic() {
        let source = ClockFrames {
            title: "a very long title that cannot possibly fit in a tiny frame ÄÖÜ".into(),
        };
        let mut frame = Vec::new();
        source.render(3, 2, &mut frame);
        assert_eq!(frame.len(), 3 * 2 * 4);
        source.render(0, 0, &mut frame);
        assert!(frame.is_empty());
    }
}
