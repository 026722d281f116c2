//! Every framing rule, on hand-built frames cut at every boundary.

use super::*;

const MASK: [u8; 4] = [0x12, 0x34, 0x56, 0x78];

/// A client frame: `first` is its first byte (FIN, RSV, opcode).
fn client_frame(first: u8, payload: &[u8]) -> Vec<u8> {
    let mut frame = vec![first];
    match payload.len() {
        n @ 0..=125 => frame.push(0x80 | n as u8),
        n @ 126..=0xffff => {
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

fn fin(opcode: u8, payload: &[u8]) -> Vec<u8> {
    client_frame(0x80 | opcode, payload)
}

#[derive(Debug, Default, PartialEq, Eq)]
struct Fed {
    data: Vec<u8>,
    pings: Vec<Vec<u8>>,
    pongs: usize,
    close: Option<Vec<u8>>,
}

/// Feeds `stream` to a reader in pieces of `piece` bytes.
fn feed(stream: &[u8], piece: usize, max: usize) -> Result<Fed, FrameError> {
    let mut reader = FrameReader::new(max);
    let mut fed = Fed::default();
    let mut copy = stream.to_vec();
    for chunk in copy.chunks_mut(piece) {
        let pieces = reader.feed(chunk, |c| match c {
            Control::Ping(p) => fed.pings.push(p.to_vec()),
            Control::Pong => fed.pongs += 1,
            Control::Close(p) => fed.close = Some(p.to_vec()),
        })?;
        let mut data = Vec::new();
        for piece in pieces.ranges() {
            data.extend_from_slice(&chunk[piece]);
        }
        assert_eq!(data.len(), pieces.total());
        // Gathered after any prefix, the same bytes lie together.
        for written in [0, 1.min(data.len()), data.len() / 2, data.len()] {
            let mut moved = chunk.to_vec();
            let gathered = pieces.gather_from(&mut moved, written);
            assert_eq!(moved[gathered], data[written..]);
        }
        fed.data.extend(data);
    }
    assert_eq!(fed.close.is_some(), reader.closed());
    Ok(fed)
}

/// Feeds `stream` whole and in every piece size up to 17, expecting the
/// same outcome each time.
fn feed_all_ways(stream: &[u8], max: usize) -> Result<Fed, FrameError> {
    let whole = feed(stream, stream.len().max(1), max);
    for piece in 1..=17 {
        assert_eq!(feed(stream, piece, max), whole, "pieces of {piece}");
    }
    whole
}

#[test]
fn server_headers_take_the_shortest_length() {
    let mut room = [0u8; MAX_HEADER];
    assert_eq!(put_header(BINARY, 0, &mut room), 2);
    assert_eq!(room[8..], [0x82, 0]);
    assert_eq!(put_header(BINARY, 125, &mut room), 2);
    assert_eq!(room[8..], [0x82, 125]);
    assert_eq!(put_header(BINARY, 126, &mut room), 4);
    assert_eq!(room[6..], [0x82, 126, 0, 126]);
    assert_eq!(put_header(PING, 0xffff, &mut room), 4);
    assert_eq!(room[6..], [0x89, 126, 0xff, 0xff]);
    assert_eq!(put_header(BINARY, 0x10000, &mut room), 10);
    assert_eq!(room, [0x82, 127, 0, 0, 0, 0, 0, 1, 0, 0]);
}

#[test]
fn unmasking_at_any_offset_matches_the_definition() {
    let data: Vec<u8> = (0..100u8).collect();
    for offset in 0..8 {
        for len in [0, 1, 7, 8, 9, 31, 100] {
            let mut got = data[..len].to_vec();
            unmask(&mut got, MASK, offset);
            let want: Vec<u8> = data[..len]
                .iter()
                .enumerate()
                .map(|(i, b)| b ^ MASK[(offset + i) % 4])
                .collect();
            assert_eq!(got, want, "offset {offset}, len {len}");
        }
    }
}

#[test]
fn binary_and_text_payloads_arrive_in_order_however_cut() {
    let big: Vec<u8> = (0..70_000u32).map(|i| (i % 251) as u8).collect();
    let mut stream = fin(BINARY, b"\x01\x02");
    stream.extend(fin(TEXT, "ls\r\u{e9}".as_bytes()));
    stream.extend(fin(BINARY, &[]));
    stream.extend(fin(BINARY, &big));
    stream.extend(fin(BINARY, &[0xff; 200]));
    let fed = feed_all_ways(&stream, 1 << 20).unwrap();
    let mut want = b"\x01\x02ls\r\xc3\xa9".to_vec();
    want.extend(&big);
    want.extend([0xff; 200]);
    assert_eq!(fed.data, want);
}

#[test]
fn fragments_with_control_frames_between_them() {
    let mut stream = client_frame(TEXT, "caf".as_bytes());
    stream.extend(fin(PING, b"are you there"));
    // The e-acute is cut between two fragments.
    stream.extend(client_frame(CONTINUATION, &[b'e', 0xc3]));
    stream.extend(fin(PONG, b""));
    stream.extend(fin(CONTINUATION, &[0xa9, b'!']));
    stream.extend(client_frame(BINARY, b"a"));
    stream.extend(fin(CONTINUATION, b"b"));
    let fed = feed_all_ways(&stream, 1 << 20).unwrap();
    assert_eq!(fed.data, "cafe\u{e9}!ab".as_bytes());
    assert_eq!(fed.pings, vec![b"are you there".to_vec()]);
    assert_eq!(fed.pongs, 1);
}

#[test]
fn text_that_is_not_utf8_is_refused() {
    let bad = FrameError::Protocol("text frame is not UTF-8");
    assert_eq!(feed_all_ways(&fin(TEXT, &[0xff]), 1024), Err(bad));
    // A message cut inside a character.
    assert_eq!(
        feed(&fin(TEXT, &[b'a', 0xc3]), 64, 1024),
        Err(FrameError::Protocol("text message is not UTF-8"))
    );
    let mut split = client_frame(TEXT, &[0xe2, 0x82]);
    split.extend(fin(CONTINUATION, &[0x28]));
    assert_eq!(feed_all_ways(&split, 1024), Err(bad));
    // Binary frames carry any bytes.
    assert_eq!(
        feed_all_ways(&fin(BINARY, &[0xff]), 1024).unwrap().data,
        [0xff]
    );
}

#[test]
fn message_sequence_rules() {
    assert_eq!(
        feed_all_ways(&fin(CONTINUATION, b"x"), 1024),
        Err(FrameError::Protocol("continuation without a message"))
    );
    let mut two = client_frame(BINARY, b"a");
    two.extend(fin(BINARY, b"b"));
    assert_eq!(
        feed_all_ways(&two, 1024),
        Err(FrameError::Protocol("new message inside a fragmented one"))
    );
}

#[test]
fn header_rules() {
    let protocol = |why| Err(FrameError::Protocol(why));
    for rsv in [0x40, 0x20, 0x10] {
        assert_eq!(
            feed_all_ways(&client_frame(0x80 | rsv | BINARY, b"x"), 1024),
            protocol("reserved bits set")
        );
    }
    for opcode in [3, 7, 0xb, 0xf] {
        assert_eq!(
            feed_all_ways(&fin(opcode, b""), 1024),
            protocol("reserved opcode")
        );
    }
    let mut unmasked = fin(BINARY, b"");
    unmasked[1] = 0;
    assert_eq!(
        feed_all_ways(&unmasked, 1024),
        protocol("unmasked client frame")
    );
    assert_eq!(
        feed_all_ways(&client_frame(PING, b""), 1024),
        protocol("fragmented control frame")
    );
    assert_eq!(
        feed_all_ways(&fin(PING, &[0; 126]), 1024),
        protocol("control frame over 125 bytes")
    );
    let mut huge = vec![0x82, 0x80 | 127, 0x80, 0, 0, 0, 0, 0, 0, 0];
    huge.extend_from_slice(&MASK);
    assert_eq!(
        feed_all_ways(&huge, 1024),
        protocol("frame length over 2^63")
    );
}

#[test]
fn size_limits_cover_frames_and_messages() {
    assert_eq!(
        feed_all_ways(&fin(BINARY, &[1; 1024]), 1024)
            .unwrap()
            .data
            .len(),
        1024
    );
    assert_eq!(
        feed_all_ways(&fin(BINARY, &[1; 1025]), 1024),
        Err(FrameError::TooLarge)
    );
    let mut fragmented = client_frame(BINARY, &[1; 600]);
    fragmented.extend(fin(CONTINUATION, &[1; 600]));
    assert_eq!(feed_all_ways(&fragmented, 1024), Err(FrameError::TooLarge));
    // The limit is checked at the header, before the payload is waited for.
    let header = &fin(BINARY, &[1; 5000])[..8];
    assert_eq!(feed(header, 8, 1024), Err(FrameError::TooLarge));
}

#[test]
fn close_frames_are_checked_and_end_the_stream() {
    let mut stream = fin(BINARY, b"last");
    stream.extend(fin(CLOSE, &[0x03, 0xe8, b'b', b'y', b'e']));
    // Nothing after a close frame is read.
    stream.extend(fin(BINARY, b"ignored"));
    let fed = feed_all_ways(&stream, 1024).unwrap();
    assert_eq!(fed.data, b"last");
    assert_eq!(fed.close, Some(b"\x03\xe8bye".to_vec()));
    assert_eq!(
        feed_all_ways(&fin(CLOSE, b""), 1024).unwrap().close,
        Some(vec![])
    );
    assert_eq!(
        feed_all_ways(&fin(CLOSE, &[0x03]), 1024),
        Err(FrameError::Protocol("close frame of one byte"))
    );
    assert_eq!(
        feed_all_ways(&fin(CLOSE, &[0x03, 0xe8, 0xff]), 1024),
        Err(FrameError::Protocol("close reason is not UTF-8"))
    );
}

#[test]
fn close_codes_a_client_may_send() {
    for code in [
        1000, 1001, 1002, 1003, 1007, 1008, 1009, 1010, 1011, 3000, 3999, 4000, 4999,
    ] {
        assert_eq!(check_close(&u16::to_be_bytes(code)), Ok(()), "{code}");
    }
    for code in [
        0, 999, 1004, 1005, 1006, 1015, 1016, 1100, 2000, 2999, 5000, 65535,
    ] {
        assert_eq!(
            check_close(&u16::to_be_bytes(code)),
            Err(FrameError::Protocol("invalid close code")),
            "{code}"
        );
    }
}

#[test]
fn control_payloads_fit_a_control_frame() {
    let mut out = [0u8; MAX_CONTROL_FRAME];
    let close = ControlPayload::close(1000, "console closed");
    assert_eq!(close.as_slice(), b"\x03\xe8console closed");
    let len = close.frame(CLOSE, &mut out);
    assert_eq!(&out[..len], b"\x88\x10\x03\xe8console closed");
    // A long reason is cut at a character boundary.
    let long = "\u{e9}".repeat(100);
    let cut = ControlPayload::close(1000, &long);
    assert_eq!(cut.as_slice().len(), 124);
    assert!(std::str::from_utf8(&cut.as_slice()[2..]).is_ok());
    let len = ControlPayload::new(b"hi").frame(PONG, &mut out);
    assert_eq!(&out[..len], b"\x8a\x02hi");
}

#[test]
fn many_small_frames_in_one_read_stay_in_few_pieces() {
    let mut stream = Vec::new();
    let mut want = Vec::new();
    for i in 0..40u8 {
        stream.extend(fin(BINARY, &[i; 3]));
        want.extend([i; 3]);
    }
    let mut reader = FrameReader::new(1024);
    let pieces = reader.feed(&mut stream, |_| {}).unwrap();
    assert_eq!(pieces.len(), MAX_PIECES);
    let got: Vec<u8> = pieces.ranges().flat_map(|r| stream[r].to_vec()).collect();
    assert_eq!(got, want);
}
