//! A SPICE endpoint that completes the link stage, then echoes.

use std::io;
use std::net::SocketAddr;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

use super::connect_path::invalid;
use super::listener::Listener;

/// `"REDQ"` read as a little-endian u32: SPICE's link magic.
pub(crate) const SPICE_MAGIC: [u8; 4] = *b"REDQ";
/// The protocol version this endpoint speaks.
pub(crate) const SPICE_VERSION: (u32, u32) = (2, 2);
/// `SPICE_LINK_ERR_VERSION_MISMATCH`.
const LINK_ERR_VERSION_MISMATCH: u32 = 4;
/// The fixed part of a `SpiceLinkMess`: connection id, channel type and id,
/// two capability counts and the capability offset.
const LINK_MESS_FIXED: u32 = 18;
/// The most a link message may be before the endpoint calls it malformed.
const MAX_LINK_MESS: u32 = 64 * 1024;
/// The size of the RSA public key field of a `SpiceLinkReply`.
pub(crate) const SPICE_TICKET_PUBKEY_BYTES: usize = 162;

/// A SPICE endpoint: reads a `SpiceLinkMess`, answers a `SpiceLinkReply`
/// with `SPICE_LINK_ERR_OK`, a zeroed public key and no capabilities, then
/// echoes every further byte. A wrong magic closes the connection; another
/// major version gets `SPICE_LINK_ERR_VERSION_MISMATCH`.
pub struct SpiceEndpoint {
    listener: Listener,
}

impl SpiceEndpoint {
    /// Starts the endpoint.
    ///
    /// # Errors
    /// When 127.0.0.1 cannot be bound.
    pub async fn start() -> io::Result<SpiceEndpoint> {
        let listener = Listener::spawn("spice", session).await?;
        Ok(SpiceEndpoint { listener })
    }

    /// Where it listens.
    pub fn addr(&self) -> SocketAddr {
        self.listener.addr()
    }

    /// TCP connections accepted so far.
    pub fn connections(&self) -> usize {
        self.listener.connections()
    }
}

async fn session(mut stream: TcpStream) -> io::Result<()> {
    let mut header = [0u8; 16];
    stream.read_exact(&mut header).await?;
    if header[..4] != SPICE_MAGIC {
        return Err(invalid("not a SPICE link header".into()));
    }
    let word =
        |i: usize| u32::from_le_bytes([header[i], header[i + 1], header[i + 2], header[i + 3]]);
    let (major, size) = (word(4), word(12));
    if major != SPICE_VERSION.0 {
        stream
            .write_all(&link_reply(LINK_ERR_VERSION_MISMATCH))
            .await?;
        return Err(invalid(format!("SPICE major version {major}")));
    }
    if !(LINK_MESS_FIXED..=MAX_LINK_MESS).contains(&size) {
        return Err(invalid(format!("SPICE link message of {size} bytes")));
    }
    let mut message = vec![0u8; size as usize];
    stream.read_exact(&mut message).await?;
    let field =
        |i: usize| u32::from_le_bytes([message[i], message[i + 1], message[i + 2], message[i + 3]]);
    let caps = u64::from(field(6)) + u64::from(field(10));
    let caps_offset = u64::from(field(14));
    if caps_offset < u64::from(LINK_MESS_FIXED) || caps_offset + caps * 4 > u64::from(size) {
        return Err(invalid(
            "SPICE link message capabilities out of bounds".into(),
        ));
    }
    stream.write_all(&link_reply(0)).await?;
    let (mut reader, mut writer) = stream.split();
    tokio::io::copy(&mut reader, &mut writer).await?;
    writer.shutdown().await
}

/// A link header and `SpiceLinkReply` carrying `error`.
fn link_reply(error: u32) -> Vec<u8> {
    let body_len = 4 + SPICE_TICKET_PUBKEY_BYTES + 12;
    let mut out = Vec::with_capacity(16 + body_len);
    out.extend_from_slice(&SPICE_MAGIC);
    out.extend_from_slice(&SPICE_VERSION.0.to_le_bytes());
    out.extend_from_slice(&SPICE_VERSION.1.to_le_bytes());
    out.extend_from_slice(&(body_len as u32).to_le_bytes());
    out.extend_from_slice(&error.to_le_bytes());
    out.extend_from_slice(&[0u8; SPICE_TICKET_PUBKEY_BYTES]);
    out.extend_from_slice(&0u32.to_le_bytes());
    out.extend_from_slice(&0u32.to_le_bytes());
    // With no capabilities they would start where the reply ends.
    out.extend_from_slice(&(body_len as u32).to_le_bytes());
    out
}
