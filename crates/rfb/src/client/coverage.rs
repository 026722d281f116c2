//! Which pixels of the screen the server has painted: a bit per pixel,
//! so that overlapping and repeated rectangles count once.

/// A width x height bitmap of painted pixels with a running count.
#[derive(Debug, Clone)]
pub(crate) struct Coverage {
    width: usize,
    words_per_row: usize,
    bits: Vec<u64>,
    painted: u64,
}

impl Coverage {
    /// Nothing painted yet.
    pub(crate) fn new(width: u16, height: u16) -> Coverage {
        let width = usize::from(width);
        let words_per_row = width.div_ceil(64);
        Coverage {
            width,
            words_per_row,
            bits: vec![0; words_per_row * usize::from(height)],
            painted: 0,
        }
    }

    /// Marks the rectangle painted; it must lie inside the screen.
    pub(crate) fn paint(&mut self, x: usize, y: usize, w: usize, h: usize) {
        if w == 0 {
            return;
        }
        debug_assert!(x + w <= self.width);
        for row in y..y + h {
            let base = row * self.words_per_row;
            let (first, last) = (x, x + w - 1);
            for word in first / 64..=last / 64 {
                let lo = if word == first / 64 { first % 64 } else { 0 };
                let hi = if word == last / 64 { last % 64 } else { 63 };
                let mask = (u64::MAX >> (63 - hi)) & (u64::MAX << lo);
                let cell = &mut self.bits[base + word];
                self.painted += u64::from((mask & !*cell).count_ones());
                *cell |= mask;
            }
        }
    }

    /// How many pixels are painted.
    pub(crate) fn painted(&self) -> u64 {
        self.painted
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn overlaps_count_once() {
        let mut c = Coverage::new(130, 3);
        c.paint(0, 0, 100, 1);
        assert_eq!(c.painted(), 100);
        c.paint(50, 0, 80, 2);
        assert_eq!(c.painted(), 130 + 80);
        c.paint(0, 0, 130, 3);
        assert_eq!(c.painted(), 390);
        c.paint(129, 2, 1, 1);
        assert_eq!(c.painted(), 390);
    }

    #[test]
    fn word_edges_are_exact() {
        for (x, w) in [(0, 64), (63, 1), (63, 2), (64, 64), (1, 127), (127, 1)] {
            let mut c = Coverage::new(128, 1);
            c.paint(x, 0, w, 1);
            assert_eq!(c.painted(), w as u64, "{x}+{w}");
            c.paint(0, 0, 128, 1);
            assert_eq!(c.painted(), 128, "{x}+{w}");
        }
    }

    #[test]
    fn empty_rectangles_paint_nothing() {
        let mut c = Coverage::new(10, 10);
        c.paint(3, 3, 0, 5);
        c.paint(3, 3, 5, 0);
        assert_eq!(c.painted(), 0);
    }
}
