//! Compute API microversions (`2.6`, `2.99`, `latest`).

use std::fmt;
use std::str::FromStr;

/// A compute API microversion such as `2.6`.
///
/// Ordered numerically, so `2.10 > 2.9`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Microversion {
    major: u16,
    minor: u16,
}

impl Microversion {
    /// The oldest microversion consoled serves.
    pub const MIN: Microversion = Microversion::new(2, 1);
    /// The newest microversion consoled serves: the last one that changed
    /// console behaviour (spice-direct, and `tls_port` in console auth tokens).
    pub const MAX: Microversion = Microversion::new(2, 99);

    /// Builds a microversion from its two numbers.
    pub const fn new(major: u16, minor: u16) -> Self {
        Microversion { major, minor }
    }

    /// The major number (`2`).
    pub const fn major(self) -> u16 {
        self.major
    }

    /// The minor number (`6` in `2.6`).
    pub const fn minor(self) -> u16 {
        self.minor
    }

    /// Parses what a client sent: `X.Y`, or `latest` meaning `max`.
    ///
    /// # Errors
    /// [`MicroversionError`] when the text is neither.
    pub fn parse_requested(text: &str, max: Microversion) -> Result<Self, MicroversionError> {
        let text = text.trim();
        if text.eq_ignore_ascii_case("latest") {
            return Ok(max);
        }
        text.parse()
    }

    /// Whether `self` lies in `[min, max]`.
    pub fn within(self, min: Microversion, max: Microversion) -> bool {
        min <= self && self <= max
    }
}

/// A microversion that is not of the form `X.Y`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("Invalid microversion format '{0}'")]
pub struct MicroversionError(pub String);

impl FromStr for Microversion {
    type Err = MicroversionError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let bad = || MicroversionError(s.to_owned());
        let (major, minor) = s.trim().split_once('.').ok_or_else(bad)?;
        let number = |part: &str| -> Result<u16, MicroversionError> {
            if part.is_empty() || !part.bytes().all(|b| b.is_ascii_digit()) {
                return Err(bad());
            }
            part.parse().map_err(|_| bad())
        };
        Ok(Microversion::new(number(major)?, number(minor)?))
    }
}

impl fmt::Display for Microversion {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}.{}", self.major, self.minor)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_and_orders_numerically() {
        let v: Microversion = "2.10".parse().unwrap();
        assert!(v > "2.9".parse().unwrap());
        assert_eq!(v.to_string(), "2.10");
        assert_eq!(Microversion::MAX.to_string(), "2.99");
    }

    #[test]
    fn latest_means_max() {
        let v = Microversion::parse_requested(" Latest ", Microversion::MAX).unwrap();
        assert_eq!(v, Microversion::MAX);
    }

    #[test]
    fn rejects_malformed() {
        for bad in [
            "", "2", "2.", ".1", "2.x", "2.1.1", "a.b", "-2.1", "2.+1", "99999.1",
        ] {
            assert!(bad.parse::<Microversion>().is_err(), "{bad:?} parsed");
        }
    }

    #[test]
    fn within_range() {
        let v = Microversion::new(2, 6);
        assert!(v.within(Microversion::MIN, Microversion::MAX));
        assert!(!Microversion::new(3, 0).within(Microversion::MIN, Microversion::MAX));
        assert!(!Microversion::new(2, 0).within(Microversion::MIN, Microversion::MAX));
    }
}
