//! The server's side of RFC 6455 framing, streamed: client frames are
//! parsed and unmasked in place in whatever buffer the bytes were read
//! into, and a server frame is only a header written in front of its
//! payload. Nothing here holds a payload: a frame's bytes pass through the
//! caller's buffer as they arrive, so a session needs no buffer of its own
//! while it is idle.
//!
//! The WebSocket crates at hand could not do that: tungstenite allocates
//! its read buffer up front (128 KiB by default) and keeps its write
//! buffer at its largest; fastwebsockets' `read_frame` is not cancel safe
//! and keeps its grown `BytesMut`; tokio-websockets reads through a
//! `FramedRead` whose 8 KiB buffer is allocated up front and grows to the
//! largest frame, which it buffers whole before handing it on.

use std::ops::Range;

/// Continues a fragmented message.
pub(crate) const CONTINUATION: u8 = 0x0;
/// A text frame.
pub(crate) const TEXT: u8 = 0x1;
/// A binary frame.
pub(crate) const BINARY: u8 = 0x2;
/// A close frame.
pub(crate) const CLOSE: u8 = 0x8;
/// A ping.
pub(crate) const PING: u8 = 0x9;
/// A pong.
pub(crate) const PONG: u8 = 0xA;

/// The longest server frame header: unmasked, 64-bit length.
pub(crate) const MAX_HEADER: usize = 10;
/// The longest client frame header: masked, 64-bit length.
const MAX_CLIENT_HEADER: usize = 14;
/// The most a control frame carries.
pub(crate) const MAX_CONTROL: usize = 125;
/// A control frame on the wire (a server's: header of two bytes).
pub(crate) const MAX_CONTROL_FRAME: usize = 2 + MAX_CONTROL;

/// Close codes we send.
pub(crate) mod close_code {
    /// Normal closure.
    pub(crate) const NORMAL: u16 = 1000;
    /// Going away (the proxy shuts down).
    pub(crate) const AWAY: u16 = 1001;
    /// The client broke the protocol.
    pub(crate) const PROTOCOL: u16 = 1002;
    /// A frame over the size limit.
    pub(crate) const SIZE: u16 = 1009;
    /// The server failed (the console connection did).
    pub(crate) const ERROR: u16 = 1011;
    /// A newer session of the console took over (an application code, as
    /// RFC 6455 leaves 4000-4999 to applications).
    pub(crate) const TAKEN_OVER: u16 = 4001;
}

/// Why the client's bytes cannot be read on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum FrameError {
    /// A frame (or message) over the size limit: close 1009.
    #[error("frame over the size limit")]
    TooLarge,
    /// Any other breach of RFC 6455: close 1002.
    #[error("{0}")]
    Protocol(&'static str),
}

/// Writes the header of a final, unmasked frame of `opcode` carrying
/// `len` bytes into the end of `room`, so that it lies right before a
/// payload that follows `room`; returns its length.
///
/// # Panics
/// When `room` is shorter than the header ([`MAX_HEADER`] always fits).
pub(crate) fn put_header(opcode: u8, len: usize, room: &mut [u8]) -> usize {
    let mut header = [0u8; MAX_HEADER];
    header[0] = 0x80 | opcode;
    let used = match len {
        0..=125 => {
            header[1] = len as u8;
            2
        }
        126..=0xffff => {
            header[1] = 126;
            header[2..4].copy_from_slice(&(len as u16).to_be_bytes());
            4
        }
        _ => {
            header[1] = 127;
            header[2..10].copy_from_slice(&(len as u64).to_be_bytes());
            10
        }
    };
    let at = room.len() - used;
    room[at..].copy_from_slice(&header[..used]);
    used
}

/// XORs `data` with `mask`, `data` starting `offset` bytes into the
/// frame's payload.
pub(crate) fn unmask(data: &mut [u8], mask: [u8; 4], offset: usize) {
    // Whole blocks of a fixed size, which the compiler turns into vector
    // instructions: unmasking must cost next to nothing beside the copy.
    const BLOCK: usize = 32;
    let mut key = [0u8; BLOCK];
    for (i, b) in key.iter_mut().enumerate() {
        *b = mask[(offset + i) % 4];
    }
    let mut blocks = data.chunks_exact_mut(BLOCK);
    for block in &mut blocks {
        for (b, k) in block.iter_mut().zip(key) {
            *b ^= k;
        }
    }
    // The tail starts a whole number of blocks in, where `key` starts too.
    for (b, k) in blocks.into_remainder().iter_mut().zip(key) {
        *b ^= k;
    }
}

/// How many separate pieces of data one read keeps apart before it moves
/// the rest together.
pub(crate) const MAX_PIECES: usize = 8;

/// Where a read's data payloads lie in its buffer, in order: apart, so
/// that one vectored write sends them without moving them together.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Pieces {
    ranges: [(usize, usize); MAX_PIECES],
    len: usize,
}

impl Default for Pieces {
    fn default() -> Self {
        Pieces {
            ranges: [(0, 0); MAX_PIECES],
            len: 0,
        }
    }
}

impl Pieces {
    /// The pieces.
    pub fn ranges(&self) -> impl Iterator<Item = Range<usize>> + '_ {
        self.ranges[..self.len].iter().map(|&(a, b)| a..b)
    }

    /// How many there are.
    pub(crate) fn len(&self) -> usize {
        self.len
    }

    /// Their bytes, in all.
    pub(crate) fn total(&self) -> usize {
        self.ranges().map(|r| r.len()).sum()
    }

    fn push(&mut self, buf: &mut [u8], piece: Range<usize>) {
        if piece.is_empty() {
            return;
        }
        if let Some(last) = self.len.checked_sub(1).map(|i| &mut self.ranges[i]) {
            if last.1 == piece.start {
                last.1 = piece.end;
                return;
            }
            if self.len == MAX_PIECES {
                let n = piece.len();
                buf.copy_within(piece, last.1);
                last.1 += n;
                return;
            }
        }
        self.ranges[self.len] = (piece.start, piece.end);
        self.len += 1;
    }

    /// Moves the bytes after the first `written` together in `buf` and
    /// says where they now lie.
    pub(crate) fn gather_from(&self, buf: &mut [u8], mut written: usize) -> Range<usize> {
        let mut gathered: Option<Range<usize>> = None;
        for piece in self.ranges() {
            if written >= piece.len() {
                written -= piece.len();
                continue;
            }
            let piece = piece.start + written..piece.end;
            written = 0;
            gathered = Some(match gathered {
                None => piece,
                Some(g) => {
                    let n = piece.len();
                    buf.copy_within(piece, g.end);
                    g.start..g.end + n
                }
            });
        }
        gathered.unwrap_or(0..0)
    }
}

/// Whether a client may send close code `code` (RFC 6455 section 7.4).
fn close_code_allowed(code: u16) -> bool {
    matches!(code, 1000..=1003 | 1007..=1014 | 3000..=4999)
}

/// Checks the payload of a client's close frame: empty, or a code we may
/// receive and a UTF-8 reason.
///
/// # Errors
/// [`FrameError::Protocol`] naming the breach.
pub(crate) fn check_close(payload: &[u8]) -> Result<(), FrameError> {
    match payload {
        [] => Ok(()),
        [_] => Err(FrameError::Protocol("close frame of one byte")),
        [hi, lo, reason @ ..] => {
            if !close_code_allowed(u16::from_be_bytes([*hi, *lo])) {
                return Err(FrameError::Protocol("invalid close code"));
            }
            std::str::from_utf8(reason)
                .map(|_| ())
                .map_err(|_| FrameError::Protocol("close reason is not UTF-8"))
        }
    }
}

/// The payload of a control frame, held inline.
#[derive(Clone, Copy)]
pub(crate) struct ControlPayload {
    bytes: [u8; MAX_CONTROL],
    len: u8,
}

impl ControlPayload {
    /// The first [`MAX_CONTROL`] bytes of `data`.
    pub(crate) fn new(data: &[u8]) -> Self {
        let len = data.len().min(MAX_CONTROL);
        let mut bytes = [0u8; MAX_CONTROL];
        bytes[..len].copy_from_slice(&data[..len]);
        ControlPayload {
            bytes,
            len: len as u8,
        }
    }

    /// A close frame's payload: `code`, then as much of `reason` as fits.
    pub(crate) fn close(code: u16, reason: &str) -> Self {
        let mut data = [0u8; MAX_CONTROL];
        data[..2].copy_from_slice(&code.to_be_bytes());
        let mut cut = reason.len().min(MAX_CONTROL - 2);
        while !reason.is_char_boundary(cut) {
            cut -= 1;
        }
        data[2..2 + cut].copy_from_slice(&reason.as_bytes()[..cut]);
        ControlPayload::new(&data[..2 + cut])
    }

    /// The bytes.
    pub(crate) fn as_slice(&self) -> &[u8] {
        &self.bytes[..usize::from(self.len)]
    }

    /// The whole frame of `opcode` carrying these bytes into `out`; returns
    /// its length.
    pub(crate) fn frame(&self, opcode: u8, out: &mut [u8; MAX_CONTROL_FRAME]) -> usize {
        let payload = self.as_slice();
        put_header(opcode, payload.len(), &mut out[..2]);
        out[2..2 + payload.len()].copy_from_slice(payload);
        2 + payload.len()
    }
}

impl std::fmt::Debug for ControlPayload {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_tuple("ControlPayload")
            .field(&self.as_slice())
            .finish()
    }
}

/// A complete control frame from the client.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Control<'a> {
    /// A ping: answer with a pong of the same payload.
    Ping(&'a [u8]),
    /// A pong.
    Pong,
    /// A (checked) close frame: the client is done.
    Close(&'a [u8]),
}

/// UTF-8 checked across frames and reads: up to three bytes of a
/// character cut by a boundary wait for the rest.
#[derive(Debug, Default)]
struct Utf8Check {
    carry: [u8; 4],
    len: usize,
}

impl Utf8Check {
    /// Takes the next bytes; false once they cannot be UTF-8.
    fn feed(&mut self, mut bytes: &[u8]) -> bool {
        if self.len > 0 {
            let width = match self.carry[0] {
                0xc2..=0xdf => 2,
                0xe0..=0xef => 3,
                _ => 4,
            };
            let take = (width - self.len).min(bytes.len());
            self.carry[self.len..self.len + take].copy_from_slice(&bytes[..take]);
            self.len += take;
            bytes = &bytes[take..];
            match std::str::from_utf8(&self.carry[..self.len]) {
                Ok(_) => self.len = 0,
                Err(e) if e.error_len().is_none() && self.len < width => return true,
                Err(_) => return false,
            }
        }
        match std::str::from_utf8(bytes) {
            Ok(_) => true,
            Err(e) if e.error_len().is_none() => {
                let rest = &bytes[e.valid_up_to()..];
                self.carry[..rest.len()].copy_from_slice(rest);
                self.len = rest.len();
                true
            }
            Err(_) => false,
        }
    }

    /// Whether the message ended on a character boundary.
    fn finish(&mut self) -> bool {
        std::mem::take(&mut self.len) == 0
    }
}

/// Where the reader is in the client's byte stream.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Part {
    /// Between frames: the next bytes are a header.
    Header,
    /// In the payload of a data frame.
    Data,
    /// In the payload of a control frame of this opcode.
    Control(u8),
}

/// The client's frames, read as the bytes come: data payloads are
/// unmasked and gathered in place, control frames handed on whole.
#[derive(Debug)]
pub struct FrameReader {
    max_frame_size: usize,
    part: Part,
    header: [u8; MAX_CLIENT_HEADER],
    header_len: usize,
    fin: bool,
    mask: [u8; 4],
    /// Payload bytes of the current frame still to come, and already read.
    left: u64,
    offset: usize,
    control: [u8; MAX_CONTROL],
    /// The data message under way: whether it is text, and its size so far.
    message: Option<(bool, u64)>,
    utf8: Utf8Check,
    closed: bool,
}

impl FrameReader {
    /// A reader that refuses frames and messages over `max_frame_size`.
    pub fn new(max_frame_size: usize) -> Self {
        FrameReader {
            max_frame_size,
            part: Part::Header,
            header: [0; MAX_CLIENT_HEADER],
            header_len: 0,
            fin: false,
            mask: [0; 4],
            left: 0,
            offset: 0,
            control: [0; MAX_CONTROL],
            message: None,
            utf8: Utf8Check::default(),
            closed: false,
        }
    }

    /// Whether the client's close frame has been read (what follows it is
    /// ignored).
    pub fn closed(&self) -> bool {
        self.closed
    }

    /// Reads the client bytes in `buf`: unmasks the data payloads in them
    /// in place, and hands each complete control frame to `on_control`.
    /// Returns where in `buf` the data lies, in order.
    ///
    /// # Errors
    /// A [`FrameError`] as soon as the bytes break a rule; the data read
    /// before it is lost with the session.
    pub fn feed(
        &mut self,
        buf: &mut [u8],
        mut on_control: impl FnMut(Control<'_>),
    ) -> Result<Pieces, FrameError> {
        let mut pos = 0;
        let mut data = Pieces::default();
        while pos < buf.len() && !self.closed {
            if self.part == Part::Header {
                pos += self.read_header(&buf[pos..])?;
                if self.part == Part::Header || self.left > 0 {
                    continue;
                }
            } else {
                let n = usize::try_from(self.left)
                    .unwrap_or(usize::MAX)
                    .min(buf.len() - pos);
                let chunk = pos..pos + n;
                unmask(&mut buf[chunk.clone()], self.mask, self.offset);
                match self.part {
                    Part::Data => {
                        if matches!(self.message, Some((true, _)))
                            && !self.utf8.feed(&buf[chunk.clone()])
                        {
                            return Err(FrameError::Protocol("text frame is not UTF-8"));
                        }
                        data.push(buf, chunk);
                    }
                    _ => self.control[self.offset..self.offset + n].copy_from_slice(&buf[chunk]),
                }
                self.left -= n as u64;
                self.offset += n;
                pos += n;
                if self.left > 0 {
                    continue;
                }
            }
            self.end_frame(&mut on_control)?;
        }
        Ok(data)
    }

    /// Takes header bytes from the front of `bytes`; returns how many. Once
    /// the header is whole, sets up its payload.
    fn read_header(&mut self, bytes: &[u8]) -> Result<usize, FrameError> {
        let had = self.header_len;
        let take = (MAX_CLIENT_HEADER - had).min(bytes.len());
        self.header[had..had + take].copy_from_slice(&bytes[..take]);
        let Some((len, header_len)) = self.parse_header(had + take)? else {
            self.header_len = had + take;
            return Ok(take);
        };
        self.header_len = 0;
        let (b0, opcode) = (self.header[0], self.header[0] & 0x0f);
        self.fin = b0 & 0x80 != 0;
        self.mask
            .copy_from_slice(&self.header[header_len - 4..header_len]);
        self.left = len;
        self.offset = 0;
        self.part = if opcode >= CLOSE {
            Part::Control(opcode)
        } else {
            let text = match (opcode, self.message) {
                (CONTINUATION, Some((text, _))) => text,
                (CONTINUATION, None) => {
                    return Err(FrameError::Protocol("continuation without a message"))
                }
                (_, Some(_)) => {
                    return Err(FrameError::Protocol("new message inside a fragmented one"))
                }
                (op, None) => op == TEXT,
            };
            let size = self.message.map_or(0, |(_, size)| size) + len;
            if size > self.max_frame_size as u64 {
                return Err(FrameError::TooLarge);
            }
            self.message = Some((text, size));
            Part::Data
        };
        Ok(header_len - had)
    }

    /// The payload length and header length of the header in the first
    /// `have` bytes of `self.header`, once it is whole.
    fn parse_header(&self, have: usize) -> Result<Option<(u64, usize)>, FrameError> {
        if have < 2 {
            return Ok(None);
        }
        let (b0, b1) = (self.header[0], self.header[1]);
        if b0 & 0x70 != 0 {
            return Err(FrameError::Protocol("reserved bits set"));
        }
        let opcode = b0 & 0x0f;
        if !matches!(opcode, CONTINUATION | TEXT | BINARY | CLOSE | PING | PONG) {
            return Err(FrameError::Protocol("reserved opcode"));
        }
        if b1 & 0x80 == 0 {
            return Err(FrameError::Protocol("unmasked client frame"));
        }
        let short = u64::from(b1 & 0x7f);
        if opcode >= CLOSE {
            if b0 & 0x80 == 0 {
                return Err(FrameError::Protocol("fragmented control frame"));
            }
            if short > MAX_CONTROL as u64 {
                return Err(FrameError::Protocol("control frame over 125 bytes"));
            }
        }
        let extended = match short {
            126 => 2,
            127 => 8,
            _ => 0,
        };
        let header_len = 2 + extended + 4;
        if have < header_len {
            return Ok(None);
        }
        let len = if extended == 0 {
            short
        } else {
            self.header[2..2 + extended]
                .iter()
                .fold(0u64, |acc, &b| (acc << 8) | u64::from(b))
        };
        if len >> 63 != 0 {
            return Err(FrameError::Protocol("frame length over 2^63"));
        }
        if len > self.max_frame_size as u64 {
            return Err(FrameError::TooLarge);
        }
        Ok(Some((len, header_len)))
    }

    /// The current frame's payload is all in.
    fn end_frame(&mut self, on_control: &mut impl FnMut(Control<'_>)) -> Result<(), FrameError> {
        let part = std::mem::replace(&mut self.part, Part::Header);
        match part {
            Part::Header => {}
            Part::Data => {
                if self.fin {
                    let text = matches!(self.message.take(), Some((true, _)));
                    if text && !self.utf8.finish() {
                        return Err(FrameError::Protocol("text message is not UTF-8"));
                    }
                }
            }
            Part::Control(opcode) => {
                let payload = &self.control[..self.offset];
                match opcode {
                    PING => on_control(Control::Ping(payload)),
                    PONG => on_control(Control::Pong),
                    _ => {
                        check_close(payload)?;
                        self.closed = true;
                        on_control(Control::Close(payload));
                    }
                }
            }
        }
        Ok(())
    }
}

#[cfg(test)]
#[path = "ws_frames_tests.rs"]
mod tests;
