//! The load client: raw TCP, or a WebSocket client lean enough that it is
//! never the bottleneck (its frames are masked once, up front; it parses
//! only frame headers and counts payload).

use std::net::SocketAddr;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

use crate::pattern::Checker;

/// The fixed masking key: masking protects browsers from cache poisoning,
/// which a benchmark client on loopback need not fear.
const MASK: [u8; 4] = [0x37, 0xfa, 0x21, 0x3d];

/// How a client reaches the backend through a subject.
#[derive(Debug, Clone)]
pub enum Wire {
    /// Bytes as they are (direct TCP, the plain relay).
    Raw,
    /// A WebSocket upgrade of this request target (`/?token=...`).
    WebSocket(String),
}

/// An open client connection, past any handshake.
pub struct Client {
    stream: TcpStream,
    leftover: Vec<u8>,
    websocket: bool,
    /// For [`Client::read_payload`]: frames parsed so far, and payload
    /// received past what was asked for.
    frames: FrameReader,
    surplus: Vec<u8>,
}

/// What a download received.
#[derive(Debug)]
pub struct Downloaded {
    /// Payload bytes.
    pub bytes: u64,
    /// The first offset that broke the pattern, when checked.
    pub first_bad: Option<u64>,
}

impl Client {
    /// Connects to `addr` and does `wire`'s handshake.
    ///
    /// # Errors
    /// When the connection or the upgrade fails.
    pub async fn connect(addr: SocketAddr, wire: &Wire) -> Result<Client, String> {
        let mut stream = TcpStream::connect(addr)
            .await
            .map_err(|e| format!("connect {addr}: {e}"))?;
        let _ = stream.set_nodelay(true);
        let Wire::WebSocket(target) = wire else {
            return Ok(Client {
                stream,
                leftover: Vec::new(),
                websocket: false,
                frames: FrameReader::default(),
                surplus: Vec::new(),
            });
        };
        let request = format!(
            "GET {target} HTTP/1.1\r\nHost: {addr}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\
             Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n"
        );
        stream
            .write_all(request.as_bytes())
            .await
            .map_err(|e| format!("upgrade request: {e}"))?;
        let mut head = Vec::with_capacity(512);
        let end = loop {
            if let Some(i) = head.windows(4).position(|w| w == b"\r\n\r\n") {
                break i + 4;
            }
            if head.len() > 16 * 1024 {
                return Err("upgrade response head too long".into());
            }
            let mut buf = [0u8; 1024];
            match stream.read(&mut buf).await {
                Ok(0) => return Err("closed during the upgrade".into()),
                Ok(n) => head.extend_from_slice(&buf[..n]),
                Err(e) => return Err(format!("upgrade response: {e}")),
            }
        };
        if !head.starts_with(b"HTTP/1.1 101 ") {
            let line = String::from_utf8_lossy(&head[..end]);
            return Err(format!(
                "upgrade refused: {}",
                line.lines().next().unwrap_or("")
            ));
        }
        Ok(Client {
            stream,
            leftover: head.split_off(end),
            websocket: true,
            frames: FrameReader::default(),
            surplus: Vec::new(),
        })
    }

    /// What goes on the wire to send `payload`: one masked binary frame on
    /// a WebSocket, the bytes themselves otherwise. Build it once, send it
    /// often.
    pub fn prepare(&self, payload: &[u8]) -> Vec<u8> {
        if self.websocket {
            masked_frame(payload)
        } else {
            payload.to_vec()
        }
    }

    /// Writes bytes from [`Client::prepare`].
    ///
    /// # Errors
    /// A write error.
    pub async fn send(&mut self, wire: &[u8]) -> Result<(), String> {
        self.stream
            .write_all(wire)
            .await
            .map_err(|e| format!("send: {e}"))
    }

    /// Reads until `n` payload bytes have arrived, and returns them.
    ///
    /// # Errors
    /// A read error, or the subject closing first.
    pub async fn read_payload(&mut self, n: usize) -> Result<Vec<u8>, String> {
        let leftover = std::mem::take(&mut self.leftover);
        self.take_payload(&leftover)?;
        let mut buf = [0u8; 16 * 1024];
        while self.surplus.len() < n {
            let got = self
                .stream
                .read(&mut buf)
                .await
                .map_err(|e| format!("read: {e}"))?;
            if got == 0 {
                return Err("closed before the payload arrived".into());
            }
            self.take_payload(&buf[..got])?;
        }
        let rest = self.surplus.split_off(n);
        Ok(std::mem::replace(&mut self.surplus, rest))
    }

    fn take_payload(&mut self, data: &[u8]) -> Result<(), String> {
        if !self.websocket {
            self.surplus.extend_from_slice(data);
            return Ok(());
        }
        let surplus = &mut self.surplus;
        if self.frames.feed(data, |p| surplus.extend_from_slice(p))? {
            return Err("closed before the payload arrived".into());
        }
        Ok(())
    }

    /// Reads until the subject closes, counting payload (and checking it
    /// against the pattern when `verify`).
    ///
    /// # Errors
    /// A read error, or a frame we do not expect.
    pub async fn download(mut self, verify: bool) -> Result<Downloaded, String> {
        let mut checker = verify.then(Checker::default);
        let mut frames = FrameReader::default();
        let mut buf = vec![0u8; 256 * 1024];
        let mut bytes = 0u64;
        let mut take = |data: &[u8], frames: &mut FrameReader| -> Result<bool, String> {
            if !self.websocket {
                bytes += data.len() as u64;
                if let Some(c) = checker.as_mut() {
                    c.feed(data);
                }
                return Ok(false);
            }
            frames.feed(data, |payload| {
                bytes += payload.len() as u64;
                if let Some(c) = checker.as_mut() {
                    c.feed(payload);
                }
            })
        };
        let leftover = std::mem::take(&mut self.leftover);
        if take(&leftover, &mut frames)? {
            return Ok(Downloaded {
                bytes,
                first_bad: checker.and_then(|c| c.first_bad()),
            });
        }
        loop {
            let n = self
                .stream
                .read(&mut buf)
                .await
                .map_err(|e| format!("download: {e}"))?;
            if n == 0 || take(&buf[..n], &mut frames)? {
                break;
            }
        }
        Ok(Downloaded {
            bytes,
            first_bad: checker.and_then(|c| c.first_bad()),
        })
    }

    /// Sends `bytes` of the pattern (`chunk` repeated), as binary frames
    /// on a WebSocket. Returns the connection, which the caller keeps open
    /// until the backend has everything.
    ///
    /// # Errors
    /// A write error.
    pub async fn upload(mut self, bytes: u64, chunk: &[u8]) -> Result<Client, String> {
        let full = if self.websocket {
            masked_frame(chunk)
        } else {
            chunk.to_vec()
        };
        let rest = (bytes % chunk.len() as u64) as usize;
        let last = if self.websocket {
            masked_frame(&chunk[..rest])
        } else {
            chunk[..rest].to_vec()
        };
        for _ in 0..bytes / chunk.len() as u64 {
            self.stream
                .write_all(&full)
                .await
                .map_err(|e| format!("upload: {e}"))?;
        }
        if rest > 0 {
            self.stream
                .write_all(&last)
                .await
                .map_err(|e| format!("upload: {e}"))?;
        }
        Ok(self)
    }
}

/// A client-to-server binary frame of `payload`, masked with [`MASK`].
fn masked_frame(payload: &[u8]) -> Vec<u8> {
    let mut frame = Vec::with_capacity(payload.len() + 14);
    frame.push(0x82);
    match payload.len() {
        n @ 0..=125 => frame.push(0x80 | n as u8),
        n @ 126..=65535 => {
            frame.push(0x80 | 126);
            frame.extend_from_slice(&(n as u16).to_be_bytes());
        }
        n => {
            frame.push(0x80 | 127);
            frame.extend_from_slice(&(n as u64).to_be_bytes());
        }
    }
    frame.extend_from_slice(&MASK);
    frame.extend(payload.iter().enumerate().map(|(i, b)| b ^ MASK[i % 4]));
    frame
}

/// Server frames, parsed incrementally: headers are read, binary payloads
/// handed on, pings and other control frames skipped.
#[derive(Debug, Default)]
struct FrameReader {
    header: Vec<u8>,
    remaining: u64,
    binary: bool,
}

impl FrameReader {
    /// Takes the next bytes; `payload` gets each piece of binary payload.
    /// Returns true once a close frame starts.
    fn feed(&mut self, mut data: &[u8], mut payload: impl FnMut(&[u8])) -> Result<bool, String> {
        while !data.is_empty() {
            if self.remaining > 0 {
                let n = self.remaining.min(data.len() as u64) as usize;
                if self.binary {
                    payload(&data[..n]);
                }
                self.remaining -= n as u64;
                data = &data[n..];
                continue;
            }
            self.header.push(data[0]);
            data = &data[1..];
            if let Some((opcode, len)) = parse_header(&self.header) {
                self.header.clear();
                match opcode {
                    0x8 => return Ok(true),
                    0x0 | 0x2 => self.binary = true,
                    0x9 | 0xA => self.binary = false,
                    other => return Err(format!("unexpected frame opcode {other}")),
                }
                self.remaining = len;
            }
        }
        Ok(false)
    }
}

/// The opcode and payload length of a complete frame header.
fn parse_header(h: &[u8]) -> Option<(u8, u64)> {
    if h.len() < 2 {
        return None;
    }
    let masked = h[1] & 0x80 != 0;
    let (ext, len7) = match h[1] & 0x7f {
        126 => (2, None),
        127 => (8, None),
        n => (0, Some(u64::from(n))),
    };
    let total = 2 + ext + if masked { 4 } else { 0 };
    if h.len() < total {
        return None;
    }
    let len = len7.unwrap_or_else(|| {
        h[2..2 + ext]
            .iter()
            .fold(0u64, |acc, &b| (acc << 8) | u64::from(b))
    });
    Some((h[0] & 0x0f, len))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn frames_split_anywhere_give_the_same_payload() {
        let mut stream = Vec::new();
        for (op, payload) in [
            (0x2u8, vec![7u8; 300]),
            (0x9, vec![]),
            (0x2, vec![9u8; 70000]),
            (0x8, vec![3, 232]),
        ] {
            stream.push(0x80 | op);
            match payload.len() {
                n @ 0..=125 => stream.push(n as u8),
                n @ 126..=65535 => {
                    stream.push(126);
                    stream.extend_from_slice(&(n as u16).to_be_bytes());
                }
                n => {
                    stream.push(127);
                    stream.extend_from_slice(&(n as u64).to_be_bytes());
                }
            }
            stream.extend_from_slice(&payload);
        }
        // Cut anywhere before the close frame (its header and 2-byte code end the stream).
        for cut in [1, 2, 3, 5, 301, 302, 303, 1000, stream.len() - 4] {
            let mut reader = FrameReader::default();
            let mut got = 0;
            let first = reader.feed(&stream[..cut], |p| got += p.len()).unwrap();
            let second = reader.feed(&stream[cut..], |p| got += p.len()).unwrap();
            assert!(!first && second, "cut at {cut}");
            assert_eq!(got, 70300, "cut at {cut}");
        }
    }

    #[test]
    fn masked_frames_unmask_to_the_payload() {
        let frame = masked_frame(&[1, 2, 3, 4, 5]);
        assert_eq!(&frame[..2], &[0x82, 0x85]);
        let unmasked: Vec<u8> = frame[6..]
            .iter()
            .enumerate()
            .map(|(i, b)| b ^ MASK[i % 4])
            .collect();
        assert_eq!(unmasked, [1, 2, 3, 4, 5]);
        assert_eq!(masked_frame(&[0; 70000])[1], 0x80 | 127);
    }
}
