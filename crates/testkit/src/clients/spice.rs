//! The client side of SPICE's link stage.

use std::io;

use tokio::io::{AsyncRead, AsyncReadExt};

/// The most a link reply may be before the client calls it malformed.
const MAX_LINK_REPLY: u32 = 64 * 1024;

/// A valid link header and `SpiceLinkMess` for the main channel (type 1,
/// id 0, new session), with the common capabilities spice-html5 sends
/// (auth selection, auth SPICE, mini header).
pub fn spice_link_message() -> Vec<u8> {
    let common_caps: u32 = 0b1011;
    let mut body = Vec::with_capacity(22);
    body.extend_from_slice(&0u32.to_le_bytes()); // connection id: new session
    body.push(1); // channel type: main
    body.push(0); // channel id
    body.extend_from_slice(&1u32.to_le_bytes()); // common caps count
    body.extend_from_slice(&0u32.to_le_bytes()); // channel caps count
    body.extend_from_slice(&18u32.to_le_bytes()); // caps offset
    body.extend_from_slice(&common_caps.to_le_bytes());
    let mut out = Vec::with_capacity(16 + body.len());
    out.extend_from_slice(b"REDQ");
    out.extend_from_slice(&2u32.to_le_bytes());
    out.extend_from_slice(&2u32.to_le_bytes());
    out.extend_from_slice(&(body.len() as u32).to_le_bytes());
    out.extend_from_slice(&body);
    out
}

/// Reads a link header and `SpiceLinkReply` and returns the reply's error
/// code (`0` is `SPICE_LINK_ERR_OK`).
///
/// # Errors
/// An I/O error, or [`io::ErrorKind::InvalidData`] for a wrong magic or a
/// reply too short to hold an error code.
pub async fn spice_read_link_reply<S: AsyncRead + Unpin>(stream: &mut S) -> io::Result<u32> {
    let mut header = [0u8; 16];
    stream.read_exact(&mut header).await?;
    if &header[..4] != b"REDQ" {
        return Err(invalid("not a SPICE link reply".into()));
    }
    let size = u32::from_le_bytes([header[12], header[13], header[14], header[15]]);
    if !(4..=MAX_LINK_REPLY).contains(&size) {
        return Err(invalid(format!("SPICE link reply of {size} bytes")));
    }
    let mut body = vec![0u8; size as usize];
    stream.read_exact(&mut body).await?;
    Ok(u32::from_le_bytes([body[0], body[1], body[2], body[3]]))
}

fn invalid(message: String) -> io::Error {
    io::Error::new(io::ErrorKind::InvalidData, message)
}
