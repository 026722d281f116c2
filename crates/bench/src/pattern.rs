//! The payload every scenario sends: a byte pattern a receiver can check
//! at any offset, so that "bytes arrive intact" needs no copy of them.

/// The pattern's period: a prime, so that it never lines up with frame or
/// buffer sizes and a shifted or dropped chunk shows.
const PERIOD: usize = 251;

/// One write's worth of the pattern: a whole number of periods, so that
/// writing it again and again continues the pattern seamlessly.
pub fn chunk() -> Vec<u8> {
    (0..PERIOD * 261).map(|i| byte_at(i as u64)).collect()
}

/// The byte at `offset` of the stream.
pub fn byte_at(offset: u64) -> u8 {
    (offset % PERIOD as u64) as u8
}

/// Checks received bytes against the pattern as they arrive.
#[derive(Debug, Default)]
pub struct Checker {
    offset: u64,
    bad: Option<u64>,
}

impl Checker {
    /// Takes the next received bytes.
    pub fn feed(&mut self, bytes: &[u8]) {
        if self.bad.is_none() {
            if let Some(i) = bytes
                .iter()
                .enumerate()
                .position(|(i, &b)| b != byte_at(self.offset + i as u64))
            {
                self.bad = Some(self.offset + i as u64);
            }
        }
        self.offset += bytes.len() as u64;
    }

    /// The first offset whose byte was wrong, if any.
    pub fn first_bad(&self) -> Option<u64> {
        self.bad
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn chunks_continue_the_pattern() {
        let c = chunk();
        let mut check = Checker::default();
        check.feed(&c);
        check.feed(&c[..1000]);
        assert_eq!(check.first_bad(), None);
        check.feed(&c[1..2]);
        assert!(check.first_bad().is_some());
    }
}
