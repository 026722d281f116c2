//! VNC sessions as their two RFB byte streams with timestamps (`.rfbrec`).
//!
//! The file is one JSON header line ([`RecordingHeader`], ending in `\n`),
//! then records, each
//!
//! ```text
//! kind u8 | micros u64 BE | len u32 BE | len bytes
//! ```
//!
//! where `kind` is `s` (server to client: what the VNC server sent), `c`
//! (client to server) or `x` (a gap: the recording could not keep up and
//! dropped bytes there; its 16 bytes are the counts dropped, server to
//! client then client to server, each u64 BE), and `micros` counts from
//! the session's start. The `s` records, concatenated, are the stream a
//! viewer decodes, from `RFB 003.008\n` on; after an `x` record they
//! are not whole.

use std::io::{self, BufRead};
use std::time::Duration;

use serde::{Deserialize, Serialize};

use super::audit::SessionAudit;
use super::writer::Encoder;
use super::{Direction, Lost};

/// The header's `format`.
pub const FORMAT: &str = "consoled-rfb-recording";
/// The header's `version`.
pub const VERSION: u32 = 1;
/// The largest record a reader accepts; the writer splits longer chunks.
pub const MAX_RECORD_BYTES: usize = 16 * 1024 * 1024;
/// The longest header line a reader accepts.
const MAX_HEADER_BYTES: u64 = 64 * 1024;

/// The first line of a `.rfbrec` file.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RecordingHeader {
    /// Always [`FORMAT`].
    pub format: String,
    /// [`VERSION`].
    pub version: u32,
    /// The session's start, seconds since the Unix epoch.
    pub timestamp: u64,
    /// The session's audit fields.
    pub consoled: SessionAudit,
}

/// One record of a `.rfbrec` file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Record {
    /// Since the session's start.
    pub at: Duration,
    /// What it holds.
    pub kind: RecordKind,
}

/// What a record holds.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RecordKind {
    /// Bytes the VNC server sent to the client (`s`).
    ServerToClient(Vec<u8>),
    /// Bytes the client sent to the VNC server (`c`).
    ClientToServer(Vec<u8>),
    /// Bytes the recording dropped here (`x`): the streams are not whole
    /// from this point.
    Gap {
        /// Server-to-client bytes dropped.
        server_to_client: u64,
        /// Client-to-server bytes dropped.
        client_to_server: u64,
    },
}

/// Why a `.rfbrec` file cannot be read on.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ReadError {
    /// Reading failed.
    #[error("cannot read the recording: {0}")]
    Io(#[from] io::Error),
    /// The first line is not a header of this format.
    #[error("not a consoled RFB recording: {0}")]
    Header(String),
    /// The file ends inside a record (the recorder was cut off there).
    #[error("the recording ends inside a record")]
    Truncated,
    /// A record of a kind this version does not know.
    #[error("unknown record kind {0:#04x}")]
    Kind(u8),
    /// A record longer than [`MAX_RECORD_BYTES`], or a gap record that is
    /// not 16 bytes.
    #[error("record of {0} bytes is malformed")]
    Length(u32),
}

/// Reads a `.rfbrec` file: its header, then its records as an iterator.
///
/// ```no_run
/// use consoled_proxy::recording::{RecordKind, RfbRecording};
///
/// let file = std::io::BufReader::new(std::fs::File::open("vm-novnc.rfbrec")?);
/// let recording = RfbRecording::read(file)?;
/// println!("session {}", recording.header().consoled.session);
/// for record in recording {
///     if let RecordKind::ServerToClient(bytes) = record?.kind {
///         // feed a decoder
///         # let _ = bytes;
///     }
/// }
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug)]
pub struct RfbRecording<R> {
    header: RecordingHeader,
    input: R,
    broken: bool,
}

impl<R: BufRead> RfbRecording<R> {
    /// Reads the header line.
    ///
    /// # Errors
    /// [`ReadError::Header`] when the first line is not this format's
    /// header; [`ReadError::Io`] when reading fails.
    pub fn read(mut input: R) -> Result<Self, ReadError> {
        let mut line = Vec::new();
        <&mut R as io::Read>::take(&mut input, MAX_HEADER_BYTES).read_until(b'\n', &mut line)?;
        if line.last() != Some(&b'\n') {
            return Err(ReadError::Header("no header line".into()));
        }
        let header: RecordingHeader =
            serde_json::from_slice(&line).map_err(|e| ReadError::Header(e.to_string()))?;
        if header.format != FORMAT || header.version != VERSION {
            return Err(ReadError::Header(format!(
                "format {:?} version {}, expected {FORMAT:?} version {VERSION}",
                header.format, header.version
            )));
        }
        Ok(RfbRecording {
            header,
            input,
            broken: false,
        })
    }

    /// The header.
    pub fn header(&self) -> &RecordingHeader {
        &self.header
    }

    fn next_record(&mut self) -> Result<Option<Record>, ReadError> {
        if self.input.fill_buf()?.is_empty() {
            return Ok(None);
        }
        let mut head = [0u8; 13];
        read_exact(&mut self.input, &mut head)?;
        let micros = u64::from_be_bytes(head[1..9].try_into().unwrap_or_default());
        let len = u32::from_be_bytes(head[9..13].try_into().unwrap_or_default());
        if len as usize > MAX_RECORD_BYTES {
            return Err(ReadError::Length(len));
        }
        let mut bytes = vec![0; len as usize];
        read_exact(&mut self.input, &mut bytes)?;
        let kind = match head[0] {
            b's' => RecordKind::ServerToClient(bytes),
            b'c' => RecordKind::ClientToServer(bytes),
            b'x' if len == 16 => RecordKind::Gap {
                server_to_client: u64::from_be_bytes(bytes[..8].try_into().unwrap_or_default()),
                client_to_server: u64::from_be_bytes(bytes[8..].try_into().unwrap_or_default()),
            },
            b'x' => return Err(ReadError::Length(len)),
            other => return Err(ReadError::Kind(other)),
        };
        Ok(Some(Record {
            at: Duration::from_micros(micros),
            kind,
        }))
    }
}

fn read_exact(input: &mut impl BufRead, buf: &mut [u8]) -> Result<(), ReadError> {
    input.read_exact(buf).map_err(|e| match e.kind() {
        io::ErrorKind::UnexpectedEof => ReadError::Truncated,
        _ => ReadError::Io(e),
    })
}

impl<R: BufRead> Iterator for RfbRecording<R> {
    type Item = Result<Record, ReadError>;

    /// The next record; after an error, `None` (nothing sensible follows
    /// a broken record).
    fn next(&mut self) -> Option<Self::Item> {
        if self.broken {
            return None;
        }
        let next = self.next_record();
        self.broken = next.is_err();
        next.transpose()
    }
}

/// Writes a session as `.rfbrec` records.
pub(crate) struct RfbRecorder;

fn push_record(out: &mut Vec<u8>, kind: u8, at: Duration, bytes: &[u8]) {
    let micros = u64::try_from(at.as_micros()).unwrap_or(u64::MAX);
    out.push(kind);
    out.extend_from_slice(&micros.to_be_bytes());
    // Chunks are a relay buffer at most, far below the bound.
    out.extend_from_slice(&(bytes.len() as u32).to_be_bytes());
    out.extend_from_slice(bytes);
}

impl Encoder for RfbRecorder {
    fn extension(&self) -> &'static str {
        "rfbrec"
    }

    fn header(&self, audit: &SessionAudit) -> Vec<u8> {
        let header = RecordingHeader {
            format: FORMAT.into(),
            version: VERSION,
            timestamp: audit.started_at,
            consoled: audit.clone(),
        };
        let mut line = serde_json::to_vec(&header).unwrap_or_default();
        line.push(b'\n');
        line
    }

    fn data(&mut self, out: &mut Vec<u8>, at: Duration, direction: Direction, bytes: &[u8]) {
        let kind = match direction {
            Direction::ToClient => b's',
            Direction::ToBackend => b'c',
        };
        for piece in bytes.chunks(MAX_RECORD_BYTES) {
            push_record(out, kind, at, piece);
        }
    }

    fn gap(&mut self, out: &mut Vec<u8>, at: Duration, lost: Lost) {
        let mut counts = [0u8; 16];
        counts[..8].copy_from_slice(&lost.to_client.to_be_bytes());
        counts[8..].copy_from_slice(&lost.to_backend.to_be_bytes());
        push_record(out, b'x', at, &counts);
    }

    fn finish(&mut self, _out: &mut Vec<u8>, _at: Duration) {}
}

#[cfg(test)]
mod tests {
    use super::*;

    fn audit() -> SessionAudit {
        SessionAudit {
            session: "s1".into(),
            node: "n".into(),
            server: "vm".into(),
            console_type: "novnc".into(),
            protocol: "vnc".into(),
            client: "127.0.0.1:9".into(),
            started_at: 1_700_000_000,
            started: "2023-11-14T22:13:20Z".into(),
            minted_by_user: None,
            minted_by_project: None,
            token_fingerprint: "abcd".into(),
        }
    }

    #[test]
    fn what_is_written_reads_back() {
        let mut rec = RfbRecorder;
        let mut out = rec.header(&audit());
        rec.data(
            &mut out,
            Duration::from_micros(5),
            Direction::ToClient,
            b"RFB 003.008\n",
        );
        rec.data(
            &mut out,
            Duration::from_micros(7),
            Direction::ToBackend,
            b"RFB 003.008\n",
        );
        rec.gap(
            &mut out,
            Duration::from_secs(1),
            Lost {
                to_client: 3,
                to_backend: 1 << 40,
            },
        );
        rec.finish(&mut out, Duration::from_secs(2));
        let recording = RfbRecording::read(&out[..]).unwrap();
        assert_eq!(recording.header().consoled, audit());
        let records: Vec<Record> = recording.map(Result::unwrap).collect();
        assert_eq!(
            records,
            [
                Record {
                    at: Duration::from_micros(5),
                    kind: RecordKind::ServerToClient(b"RFB 003.008\n".to_vec()),
                },
                Record {
                    at: Duration::from_micros(7),
                    kind: RecordKind::ClientToServer(b"RFB 003.008\n".to_vec()),
                },
                Record {
                    at: Duration::from_secs(1),
                    kind: RecordKind::Gap {
                        server_to_client: 3,
                        client_to_server: 1 << 40,
                    },
                },
            ]
        );
        // The layout is the documented one.
        let first = out.iter().position(|b| *b == b'\n').unwrap() + 1;
        assert_eq!(&out[first..first + 13], b"s\0\0\0\0\0\0\0\x05\0\0\0\x0c");
    }

    #[test]
    fn broken_files_say_why_and_stop() {
        assert!(matches!(
            RfbRecording::read(&b"{\"format\":\"x\"}\n"[..]),
            Err(ReadError::Header(_))
        ));
        assert!(matches!(
            RfbRecording::read(&b""[..]),
            Err(ReadError::Header(_))
        ));
        let mut rec = RfbRecorder;
        let mut out = rec.header(&audit());
        rec.data(&mut out, Duration::ZERO, Direction::ToClient, b"abcdef");
        out.truncate(out.len() - 2);
        let mut records = RfbRecording::read(&out[..]).unwrap();
        assert!(matches!(records.next(), Some(Err(ReadError::Truncated))));
        assert!(records.next().is_none());
        let mut out = rec.header(&audit());
        out.extend_from_slice(b"q\0\0\0\0\0\0\0\0\0\0\0\0");
        let mut records = RfbRecording::read(&out[..]).unwrap();
        assert!(matches!(records.next(), Some(Err(ReadError::Kind(b'q')))));
    }
}
