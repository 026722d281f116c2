//! Reading the VNC server's handshake messages, with a reason for every
//! way it can go wrong.

use std::io;

use tokio::io::{AsyncRead, AsyncReadExt};

/// The longest reason string accepted from a VNC server: reasons are a
/// sentence, and the length comes from the peer.
pub(crate) const MAX_REASON: u32 = 4096;

/// Why the security handshake with a VNC server failed, as a phrase whose
/// subject is the server (`offers security types 1 (None); ...`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Failure(pub(crate) String);

impl Failure {
    pub(crate) fn new(why: impl Into<String>) -> Failure {
        Failure(why.into())
    }
}

/// Fills `buf`, naming `what` was expected when the server closes or fails.
pub(crate) async fn read_exact<S: AsyncRead + Unpin>(
    stream: &mut S,
    buf: &mut [u8],
    what: &str,
) -> Result<(), Failure> {
    match stream.read_exact(buf).await {
        Ok(_) => Ok(()),
        Err(e) if e.kind() == io::ErrorKind::UnexpectedEof => Err(Failure::new(format!(
            "closed the connection instead of sending {what}"
        ))),
        Err(e) => Err(Failure::new(format!("failed while sending {what}: {e}"))),
    }
}

/// An RFB reason string (`u32` length, then the text), lossily decoded.
pub(crate) async fn read_reason<S: AsyncRead + Unpin>(stream: &mut S) -> Result<String, Failure> {
    let mut len = [0u8; 4];
    read_exact(stream, &mut len, "its reason").await?;
    let len = u32::from_be_bytes(len);
    if len > MAX_REASON {
        return Err(Failure::new(format!(
            "sent a reason of {len} bytes (at most {MAX_REASON} are read)"
        )));
    }
    let mut text = vec![0u8; len as usize];
    read_exact(stream, &mut text, "its reason").await?;
    Ok(String::from_utf8_lossy(&text).into_owned())
}
