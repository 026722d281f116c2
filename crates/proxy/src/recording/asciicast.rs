//! Serial sessions as asciicast v2 (<https://docs.asciinema.org/manual/asciicast/v2/>):
//! a header line, then one JSON array per event, `[seconds, "o", text]`
//! for the console's output and `[seconds, "i", text]` for the client's
//! input.

use std::time::Duration;

use serde_json::json;

use super::audit::SessionAudit;
use super::writer::Encoder;
use super::{Direction, Lost};

/// The terminal size the header claims: a serial console has none, and
/// 80x24 is what a VT100 (and QEMU's firmware) assumes.
const WIDTH: u32 = 80;
const HEIGHT: u32 = 24;

/// The longest UTF-8 sequence that a read can split.
const MAX_CARRY: usize = 3;

/// Turns one direction's bytes into text without mangling a UTF-8
/// sequence that a read split: its start waits for the next read.
#[derive(Default)]
pub(crate) struct Utf8Carry {
    carry: Vec<u8>,
}

impl Utf8Carry {
    /// The text of `carry + bytes` up to an incomplete sequence at the end,
    /// which is kept; invalid bytes become U+FFFD.
    pub(crate) fn push(&mut self, bytes: &[u8]) -> String {
        self.carry.extend_from_slice(bytes);
        let keep = incomplete_tail(&self.carry);
        let tail = self.carry.split_off(self.carry.len() - keep);
        let text = String::from_utf8_lossy(&self.carry).into_owned();
        self.carry = tail;
        text
    }

    /// Whatever is kept, lossily: the stream ended or lost bytes, so the
    /// sequence will never complete.
    pub(crate) fn flush(&mut self) -> String {
        let text = String::from_utf8_lossy(&self.carry).into_owned();
        self.carry.clear();
        text
    }
}

/// How many bytes at the end of `bytes` start a UTF-8 sequence that more
/// bytes could still complete (0 when none).
fn incomplete_tail(bytes: &[u8]) -> usize {
    let start = bytes.len().saturating_sub(MAX_CARRY);
    for i in (start..bytes.len()).rev() {
        let b = bytes[i];
        if b & 0xC0 == 0x80 {
            continue; // a continuation byte: look further back
        }
        let needs = match b {
            0xC2..=0xDF => 2,
            0xE0..=0xEF => 3,
            0xF0..=0xF4 => 4,
            _ => return 0,
        };
        let have = bytes.len() - i;
        // Whether the bytes so far can still be valid is left to the lossy
        // decoding once complete: a wrong continuation shows as U+FFFD then.
        return if have < needs { have } else { 0 };
    }
    0
}

/// Writes a session as asciicast v2.
pub(crate) struct Asciicast {
    output: Utf8Carry,
    input: Utf8Carry,
}

impl Asciicast {
    pub(crate) fn new() -> Self {
        Asciicast {
            output: Utf8Carry::default(),
            input: Utf8Carry::default(),
        }
    }

    fn event(out: &mut Vec<u8>, at: Duration, code: &str, text: &str) {
        if text.is_empty() {
            return;
        }
        let line = json!([seconds(at), code, text]);
        // A JSON value always serializes.
        let _ = serde_json::to_writer(&mut *out, &line);
        out.push(b'\n');
    }
}

/// Seconds with microseconds, as asciicast's times are written.
fn seconds(at: Duration) -> serde_json::Value {
    // Through whole microseconds, so that the shortest form has at most six
    // decimals.
    let micros = at.as_micros() as f64;
    serde_json::Number::from_f64(micros / 1e6)
        .map_or(serde_json::Value::Null, serde_json::Value::Number)
}

impl Encoder for Asciicast {
    fn extension(&self) -> &'static str {
        "cast"
    }

    fn header(&self, audit: &SessionAudit) -> Vec<u8> {
        let header = json!({
            "version": 2,
            "width": WIDTH,
            "height": HEIGHT,
            "timestamp": audit.started_at,
            "title": format!("{} {} console", audit.server, audit.console_type),
            "consoled": audit,
        });
        let mut line = header.to_string().into_bytes();
        line.push(b'\n');
        line
    }

    fn data(&mut self, out: &mut Vec<u8>, at: Duration, direction: Direction, bytes: &[u8]) {
        let (carry, code) = match direction {
            Direction::ToClient => (&mut self.output, "o"),
            Direction::ToBackend => (&mut self.input, "i"),
        };
        let text = carry.push(bytes);
        Self::event(out, at, code, &text);
    }

    fn gap(&mut self, out: &mut Vec<u8>, at: Duration, lost: Lost) {
        let (output, input) = (self.output.flush(), self.input.flush());
        Self::event(out, at, "o", &output);
        Self::event(out, at, "i", &input);
        let note = format!(
            "recording incomplete: {} bytes of output and {} bytes of input dropped \
             (the disk could not keep up)",
            lost.to_client, lost.to_backend
        );
        Self::event(out, at, "m", &note);
    }

    fn finish(&mut self, out: &mut Vec<u8>, at: Duration) {
        let (output, input) = (self.output.flush(), self.input.flush());
        Self::event(out, at, "o", &output);
        Self::event(out, at, "i", &input);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_sequence_split_across_reads_waits_for_its_end() {
        let mut carry = Utf8Carry::default();
        let text = "é€😀";
        let bytes = text.as_bytes();
        let mut out = String::new();
        for b in bytes {
            out.push_str(&carry.push(std::slice::from_ref(b)));
        }
        assert_eq!(out, text);
        assert_eq!(carry.flush(), "");
    }

    #[test]
    fn invalid_bytes_are_replaced_and_a_cut_tail_is_flushed_lossily() {
        let mut carry = Utf8Carry::default();
        assert_eq!(carry.push(b"a\xffb"), "a\u{fffd}b");
        assert_eq!(carry.push(b"c\xe2\x82"), "c");
        assert_eq!(carry.flush(), "\u{fffd}");
        // A lead byte followed by a non-continuation is not held back.
        assert_eq!(carry.push(b"\xe2x"), "\u{fffd}x");
    }

    #[test]
    fn events_are_asciicast_v2_lines() {
        let audit = SessionAudit {
            session: "s".into(),
            node: "n".into(),
            server: "vm".into(),
            console_type: "serial".into(),
            protocol: "serial".into(),
            client: "127.0.0.1:9".into(),
            started_at: 1_700_000_000,
            started: "2023-11-14T22:13:20Z".into(),
            minted_by_user: Some("alice".into()),
            minted_by_project: Some("demo".into()),
            token_fingerprint: "abcd".into(),
        };
        let mut cast = Asciicast::new();
        let mut out = cast.header(&audit);
        cast.data(
            &mut out,
            Duration::from_micros(1_500_000),
            Direction::ToClient,
            b"boot \xe2\x82",
        );
        cast.data(
            &mut out,
            Duration::from_micros(2_000_001),
            Direction::ToClient,
            b"\xac\r\n",
        );
        cast.data(
            &mut out,
            Duration::from_secs(3),
            Direction::ToBackend,
            b"ls\r",
        );
        cast.gap(
            &mut out,
            Duration::from_secs(4),
            Lost {
                to_client: 5,
                to_backend: 0,
            },
        );
        let lines: Vec<serde_json::Value> = String::from_utf8(out)
            .unwrap()
            .lines()
            .map(|l| serde_json::from_str(l).unwrap())
            .collect();
        assert_eq!(lines[0]["version"], 2);
        assert_eq!(lines[0]["width"], 80);
        assert_eq!(lines[0]["height"], 24);
        assert_eq!(lines[0]["timestamp"], 1_700_000_000);
        assert_eq!(lines[0]["consoled"]["minted_by_user"], "alice");
        assert_eq!(lines[0]["consoled"]["type"], "serial");
        assert_eq!(lines[1], json!([1.5, "o", "boot "]));
        assert_eq!(lines[2], json!([2.000001, "o", "€\r\n"]));
        assert_eq!(lines[3], json!([3.0, "i", "ls\r"]));
        assert_eq!(lines[4][1], "m");
        assert!(lines[4][2].as_str().unwrap().contains("5 bytes of output"));
        assert_eq!(lines.len(), 5);
    }
}
