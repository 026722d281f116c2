//! One zlib stream of a connection: RFB's zlib and ZRLE encodings each
//! keep one for the whole session, each rectangle's data continuing it.

use flate2::{Decompress, FlushDecompress, Status};

use crate::client::error::ClientError;

/// The first output buffer, grown as the data inflates: most rectangles
/// compress far below their bound.
const FIRST_CHUNK: usize = 64 * 1024;

/// A zlib stream that lives as long as the connection.
#[derive(Debug)]
pub(crate) struct Inflater {
    stream: Decompress,
    encoding: &'static str,
}

impl Inflater {
    /// A fresh stream for `encoding`'s rectangles.
    pub(crate) fn new(encoding: &'static str) -> Inflater {
        Inflater {
            stream: Decompress::new(true),
            encoding,
        }
    }

    /// Inflates one rectangle's compressed bytes, all of them, into at
    /// most `limit` bytes.
    ///
    /// # Errors
    /// [`ClientError::Protocol`] when the data is not zlib, ends the
    /// stream early, or inflates beyond `limit` (what the rectangle can
    /// hold at most).
    pub(crate) fn inflate(&mut self, input: &[u8], limit: usize) -> Result<Vec<u8>, ClientError> {
        let mut out = Vec::with_capacity(limit.saturating_add(1).min(FIRST_CHUNK));
        let mut read = 0usize;
        loop {
            if out.len() == out.capacity() {
                // One byte past the limit tells "too much" from "exactly".
                let room = limit.saturating_add(1).saturating_sub(out.len());
                if room == 0 {
                    return Err(self.beyond(limit));
                }
                out.reserve_exact(room.min(out.capacity().max(FIRST_CHUNK)));
            }
            let (in_before, out_before) = (self.stream.total_in(), out.len());
            let status = self
                .stream
                .decompress_vec(&input[read..], &mut out, FlushDecompress::Sync)
                .map_err(|e| {
                    ClientError::Protocol(format!(
                        "sent {} data that is not zlib: {e}",
                        self.encoding
                    ))
                })?;
            read += (self.stream.total_in() - in_before) as usize;
            if out.len() > limit {
                return Err(self.beyond(limit));
            }
            let progressed = self.stream.total_in() != in_before || out.len() != out_before;
            if status == Status::StreamEnd {
                return Err(ClientError::Protocol(format!(
                    "ended its {} stream, which lasts as long as the connection",
                    self.encoding
                )));
            }
            // Done when every byte is in and the output had room to spare:
            // the stream has given all it can.
            if read == input.len() && out.len() < out.capacity() {
                return Ok(out);
            }
            if !progressed && out.len() < out.capacity() {
                return Err(ClientError::Protocol(format!(
                    "sent {} data the stream cannot take",
                    self.encoding
                )));
            }
        }
    }

    fn beyond(&self, limit: usize) -> ClientError {
        ClientError::Protocol(format!(
            "sent {} data that inflates beyond the {limit} bytes its rectangle can hold",
            self.encoding
        ))
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use std::io::Write;

    use flate2::write::ZlibEncoder;
    use flate2::{Compress, Compression, FlushCompress};

    use super::*;

    /// A server's side of one persistent zlib stream: each call is one
    /// rectangle's data, sync-flushed as RFB servers flush it.
    pub(crate) struct Deflater(Compress);

    impl Deflater {
        pub(crate) fn new() -> Deflater {
            Deflater(Compress::new(Compression::default(), true))
        }

        pub(crate) fn rect(&mut self, data: &[u8]) -> Vec<u8> {
            let mut out = Vec::with_capacity(data.len() * 2 + 64);
            self.0
                .compress_vec(data, &mut out, FlushCompress::Sync)
                .unwrap();
            out
        }
    }

    #[test]
    fn one_stream_serves_many_rectangles() {
        let mut server = Deflater::new();
        let mut client = Inflater::new("zlib");
        for n in [0usize, 1, 1000, 200_000] {
            let data: Vec<u8> = (0..n).map(|i| (i % 251) as u8).collect();
            let sent = server.rect(&data);
            assert_eq!(client.inflate(&sent, n).unwrap(), data, "{n}");
        }
    }

    #[test]
    fn output_past_the_limit_is_refused() {
        let mut server = Deflater::new();
        let sent = server.rect(&[7u8; 101]);
        let err = Inflater::new("ZRLE").inflate(&sent, 100).unwrap_err();
        assert!(err.to_string().contains("beyond the 100 bytes"), "{err}");
        // A zip bomb stops at the limit, not at what it would inflate to.
        let bomb = Deflater::new().rect(&vec![0u8; 5_000_000]);
        let err = Inflater::new("ZRLE").inflate(&bomb, 1000).unwrap_err();
        assert!(err.to_string().contains("beyond"), "{err}");
    }

    #[test]
    fn garbage_and_finished_streams_are_refused() {
        let err = Inflater::new("zlib").inflate(b"not zlib", 100).unwrap_err();
        assert!(err.to_string().contains("not zlib"), "{err}");
        let mut whole = ZlibEncoder::new(Vec::new(), Compression::default());
        whole.write_all(b"abc").unwrap();
        let finished = whole.finish().unwrap();
        let err = Inflater::new("zlib").inflate(&finished, 100).unwrap_err();
        assert!(err.to_string().contains("ended its zlib stream"), "{err}");
    }
}
