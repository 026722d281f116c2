//! The encodings the client decodes, by their RFB numbers and names.

use std::fmt;
use std::str::FromStr;

/// The DesktopSize pseudo-encoding: a rectangle whose size is the
/// screen's new size.
pub const DESKTOP_SIZE: i32 = -223;

/// A rectangle encoding the decoder paints.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[non_exhaustive]
pub enum Encoding {
    /// Raw (0): every pixel as it is. 8 MB for a 1920x1080 screen.
    Raw,
    /// CopyRect (1): a copy of another part of the screen.
    CopyRect,
    /// zlib (6): Raw through one zlib stream per connection.
    Zlib,
    /// ZRLE (16): 64x64 tiles of palettes and runs, through one zlib
    /// stream per connection; QEMU's and most servers' best.
    Zrle,
}

impl Encoding {
    /// Every encoding the decoder paints, by RFB number.
    pub const ALL: [Encoding; 4] = [
        Encoding::Raw,
        Encoding::CopyRect,
        Encoding::Zlib,
        Encoding::Zrle,
    ];

    /// The RFB encoding number.
    pub const fn code(self) -> i32 {
        match self {
            Encoding::Raw => 0,
            Encoding::CopyRect => 1,
            Encoding::Zlib => 6,
            Encoding::Zrle => 16,
        }
    }

    /// The encoding of an RFB number, if the decoder paints it.
    pub fn from_code(code: i32) -> Option<Encoding> {
        Encoding::ALL.into_iter().find(|e| e.code() == code)
    }

    /// Its name, as `--encodings` takes it: `raw`, `copyrect`, `zlib`,
    /// `zrle`.
    pub const fn name(self) -> &'static str {
        match self {
            Encoding::Raw => "raw",
            Encoding::CopyRect => "copyrect",
            Encoding::Zlib => "zlib",
            Encoding::Zrle => "zrle",
        }
    }

    pub(crate) const fn index(self) -> usize {
        match self {
            Encoding::Raw => 0,
            Encoding::CopyRect => 1,
            Encoding::Zlib => 2,
            Encoding::Zrle => 3,
        }
    }
}

impl fmt::Display for Encoding {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl FromStr for Encoding {
    type Err = String;

    /// An encoding by its name, in any case.
    fn from_str(s: &str) -> Result<Encoding, String> {
        Encoding::ALL
            .into_iter()
            .find(|e| e.name().eq_ignore_ascii_case(s))
            .ok_or_else(|| {
                let names: Vec<&str> = Encoding::ALL.iter().map(|e| e.name()).collect();
                format!("unknown encoding {s:?}; known: {}", names.join(", "))
            })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_and_codes_round_trip() {
        for (i, e) in Encoding::ALL.into_iter().enumerate() {
            assert_eq!(e.index(), i);
            assert_eq!(Encoding::from_code(e.code()), Some(e));
            assert_eq!(e.name().parse::<Encoding>(), Ok(e));
        }
        assert_eq!("ZRLE".parse::<Encoding>(), Ok(Encoding::Zrle));
        let err = "tight".parse::<Encoding>().unwrap_err();
        assert!(err.contains("raw, copyrect, zlib, zrle"), "{err}");
        assert_eq!(Encoding::from_code(7), None);
    }
}
