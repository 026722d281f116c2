//! CRLF line I/O for the text protocols (VMware authd).

use std::io;

use tokio::io::{AsyncRead, AsyncReadExt};

/// The longest line either side accepts.
const MAX_LINE: usize = 4096;

/// Reads one line ending in `\n` (a `\r` before it is dropped), one byte at
/// a time so that nothing after it is consumed: a TLS handshake may follow.
pub(crate) async fn read_line<S: AsyncRead + Unpin>(stream: &mut S) -> io::Result<String> {
    let mut line = Vec::with_capacity(64);
    loop {
        let byte = stream.read_u8().await?;
        if byte == b'\n' {
            break;
        }
        if line.len() >= MAX_LINE {
            return Err(io::Error::new(io::ErrorKind::InvalidData, "line too long"));
        }
        line.push(byte);
    }
    if line.last() == Some(&b'\r') {
        line.pop();
    }
    String::from_utf8(line)
        .map_err(|_| io::Error::new(io::ErrorKind::InvalidData, "line is not UTF-8"))
}
