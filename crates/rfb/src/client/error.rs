//! [`ClientError`]: why a screenshot (or a decode) failed.

use std::io;
use std::time::Duration;

use consoled_core::ConsoleError;

/// Why the RFB client could not read the screen. Each message's subject
/// is the VNC server or its data, so that a caller can prefix it with
/// where the server is.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ClientError {
    /// The connection failed or closed early; `what` was being read.
    #[error("closed the connection instead of sending {what}")]
    Closed {
        /// What the client was waiting for.
        what: &'static str,
    },
    /// Reading or writing failed.
    #[error("failed while sending {what}: {source}")]
    Io {
        /// What the client was reading or writing.
        what: &'static str,
        /// The I/O error.
        source: io::Error,
    },
    /// The server broke the protocol or sent what the client does not
    /// decode.
    #[error("{0}")]
    Protocol(String),
    /// The server refused the connection or the security handshake, or
    /// offers no security the client speaks.
    #[error("{0}")]
    Refused(String),
    /// The screen is larger than the client decodes.
    #[error("has a screen of {width}x{height}, larger than the {max}x{max} a screenshot may be")]
    TooLarge {
        /// The screen's width.
        width: u16,
        /// The screen's height.
        height: u16,
        /// The largest width and height accepted.
        max: u16,
    },
    /// The whole exchange did not finish in time.
    #[error("did not send its whole screen within {} ms", .0.as_millis())]
    Timeout(Duration),
    /// The PNG could not be written.
    #[error("PNG encoding failed: {0}")]
    Png(String),
}

impl ClientError {
    /// An I/O error while reading `what`, end of stream told apart.
    pub(crate) fn read(what: &'static str, source: io::Error) -> ClientError {
        if source.kind() == io::ErrorKind::UnexpectedEof {
            ClientError::Closed { what }
        } else {
            ClientError::Io { what, source }
        }
    }

    /// This failure as the API answers it: the VNC server is out of
    /// reach for now (503), `place` naming it.
    pub fn into_console_error(self, place: &str) -> ConsoleError {
        ConsoleError::ServiceUnavailable(format!("VNC server {place} {self}"))
    }
}
