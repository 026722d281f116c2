//! The proxy's reader of a browser's WebSocket frames: whatever the bytes
//! and however they are cut into reads, the reader never panics, every data
//! piece lies within its read, and the outcome (the unmasked data, the
//! control frames, the error, the close) is the same for every cutting;
//! only when the bytes break a rule may a read's data before the breach be
//! lost (the session ends), so fewer reads may hand on less of it.
#![no_main]

use consoled_proxy::fuzzing::{Control, FrameError, FrameReader};
use libfuzzer_sys::fuzz_target;

/// The limit the reader enforces here: small, so that 1009 is reachable.
const MAX_FRAME: usize = 4096;

#[derive(Debug, PartialEq, Eq)]
struct Outcome {
    data: Vec<u8>,
    controls: Vec<(u8, Vec<u8>)>,
    error: Option<FrameError>,
    closed: bool,
}

fn read(stream: &[u8], cut: usize) -> Outcome {
    let mut reader = FrameReader::new(MAX_FRAME);
    let mut outcome = Outcome {
        data: Vec::new(),
        controls: Vec::new(),
        error: None,
        closed: false,
    };
    for chunk in stream.chunks(cut.max(1)) {
        let mut buf = chunk.to_vec();
        let mut controls = Vec::new();
        let fed = reader.feed(&mut buf, |c| {
            controls.push(match c {
                Control::Ping(p) => (0x9, p.to_vec()),
                Control::Pong => (0xA, Vec::new()),
                Control::Close(p) => (0x8, p.to_vec()),
            })
        });
        outcome.controls.extend(controls);
        match fed {
            Ok(pieces) => {
                let mut last_end = 0;
                for range in pieces.ranges() {
                    assert!(
                        range.start >= last_end && range.end <= buf.len(),
                        "{range:?} in {}",
                        buf.len()
                    );
                    last_end = range.end;
                    outcome.data.extend_from_slice(&buf[range]);
                }
            }
            Err(e) => {
                outcome.error = Some(e);
                break;
            }
        }
        if reader.closed() {
            break;
        }
    }
    outcome.closed = reader.closed();
    outcome
}

fuzz_target!(|input: &[u8]| {
    let Some((&cut, stream)) = input.split_first() else {
        return;
    };
    let whole = read(stream, stream.len());
    let cut = read(stream, usize::from(cut % 32) + 1);
    assert_eq!(
        (&whole.controls, whole.error, whole.closed),
        (&cut.controls, cut.error, cut.closed)
    );
    if whole.error.is_none() {
        assert_eq!(whole.data, cut.data);
    } else {
        assert!(cut.data.starts_with(&whole.data));
    }
});
