//! The one reader of HTTP-shaped bytes outside an HTTP server: xvpvnc's
//! raw front (a request line, then the console protocol on the same
//! socket) and a backend's answer to `CONNECT <path>` (a status line, then
//! the console protocol). Both are parsed with `httparse`, the parser
//! hyper uses.
//!
//! [`parse_request`] and [`parse_response`] are pure functions over bytes,
//! for tests and fuzzing; [`read_request`], [`read_request_exactly`] and
//! [`read_response`] feed them from a stream.

use tokio::io::{AsyncRead, AsyncReadExt};

/// The largest head we read. Console URLs are short; a browser's cookies
/// are the bulk of a request head.
pub const MAX_HEAD: usize = 16 * 1024;

/// The most header lines we accept.
pub(crate) const MAX_HEADERS: usize = 100;

/// Why a head is unusable.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum HeadError {
    /// The head did not end within [`MAX_HEAD`] bytes, or has more than
    /// 100 header lines.
    #[error("head larger than {MAX_HEAD} bytes or {MAX_HEADERS} header lines")]
    TooLarge,
    /// The bytes are not an HTTP/1.x head.
    #[error("malformed head: {0}")]
    Malformed(&'static str),
}

impl From<httparse::Error> for HeadError {
    fn from(e: httparse::Error) -> Self {
        match e {
            httparse::Error::TooManyHeaders => HeadError::TooLarge,
            httparse::Error::HeaderName => HeadError::Malformed("invalid header name"),
            httparse::Error::HeaderValue => HeadError::Malformed("invalid header value"),
            httparse::Error::NewLine => HeadError::Malformed("invalid new line"),
            httparse::Error::Status => HeadError::Malformed("invalid status"),
            httparse::Error::Token => HeadError::Malformed("invalid token"),
            httparse::Error::Version => HeadError::Malformed("not HTTP/1.0 or HTTP/1.1"),
        }
    }
}

/// A parsed request head.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RequestHead {
    /// The method, as sent (`GET`).
    pub method: String,
    /// The request target, as sent (`/console?token=...`).
    pub target: String,
    /// The minor HTTP version (`1` for HTTP/1.1).
    pub minor_version: u8,
    /// Header lines in order: names as sent, values without surrounding
    /// blanks.
    pub headers: Vec<(String, String)>,
}

impl RequestHead {
    /// The target's path (before `?`).
    pub fn path(&self) -> &str {
        self.target.split_once('?').map_or(&self.target, |(p, _)| p)
    }

    /// The target's query (after `?`, without a `#fragment`), if any.
    pub fn query(&self) -> Option<&str> {
        let (_, q) = self.target.split_once('?')?;
        Some(q.split_once('#').map_or(q, |(q, _)| q))
    }

    /// The first value of header `name` (case-insensitive).
    pub fn header(&self, name: &str) -> Option<&str> {
        header(&self.headers, name)
    }
}

/// A parsed response head.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ResponseHead {
    /// The minor HTTP version (`1` for HTTP/1.1).
    pub minor_version: u8,
    /// The status code.
    pub code: u16,
    /// The reason phrase, as sent (may be empty).
    pub reason: String,
    /// Header lines in order: names as sent, values without surrounding
    /// blanks.
    pub headers: Vec<(String, String)>,
}

impl ResponseHead {
    /// The first value of header `name` (case-insensitive).
    pub fn header(&self, name: &str) -> Option<&str> {
        header(&self.headers, name)
    }
}

fn header<'a>(headers: &'a [(String, String)], name: &str) -> Option<&'a str> {
    headers
        .iter()
        .find(|(n, _)| n.eq_ignore_ascii_case(name))
        .map(|(_, v)| v.as_str())
}

/// Parses a request head at the start of `buf`.
///
/// Returns `Ok(None)` while the head is incomplete, and the head with its
/// length in bytes once its blank line has arrived; bytes past that length
/// belong to whatever follows the head. Empty lines before the request
/// line are skipped, as RFC 9112 asks of servers.
///
/// # Errors
/// [`HeadError`] when the bytes cannot become a request head.
pub fn parse_request(buf: &[u8]) -> Result<Option<(RequestHead, usize)>, HeadError> {
    let mut slots = [httparse::EMPTY_HEADER; MAX_HEADERS];
    let mut request = httparse::Request::new(&mut slots);
    let len = match request.parse(buf)? {
        httparse::Status::Partial => return incomplete(buf),
        httparse::Status::Complete(len) => within_limit(len)?,
    };
    let (Some(method), Some(target), Some(minor_version)) =
        (request.method, request.path, request.version)
    else {
        return Err(HeadError::Malformed("incomplete request line"));
    };
    if target.is_empty() {
        return Err(HeadError::Malformed("empty request target"));
    }
    let head = RequestHead {
        method: method.to_owned(),
        target: target.to_owned(),
        minor_version,
        headers: owned_headers(request.headers)?,
    };
    Ok(Some((head, len)))
}

/// Parses a response head at the start of `buf`, as [`parse_request`]
/// parses a request.
///
/// # Errors
/// [`HeadError`] when the bytes cannot become a response head.
pub fn parse_response(buf: &[u8]) -> Result<Option<(ResponseHead, usize)>, HeadError> {
    let mut slots = [httparse::EMPTY_HEADER; MAX_HEADERS];
    let mut response = httparse::Response::new(&mut slots);
    let len = match response.parse(buf)? {
        httparse::Status::Partial => return incomplete(buf),
        httparse::Status::Complete(len) => within_limit(len)?,
    };
    let (Some(minor_version), Some(code)) = (response.version, response.code) else {
        return Err(HeadError::Malformed("incomplete status line"));
    };
    let head = ResponseHead {
        minor_version,
        code,
        reason: response.reason.unwrap_or_default().to_owned(),
        headers: owned_headers(response.headers)?,
    };
    Ok(Some((head, len)))
}

fn incomplete<T>(buf: &[u8]) -> Result<Option<T>, HeadError> {
    if buf.len() >= MAX_HEAD {
        Err(HeadError::TooLarge)
    } else {
        Ok(None)
    }
}

fn within_limit(len: usize) -> Result<usize, HeadError> {
    if len > MAX_HEAD {
        Err(HeadError::TooLarge)
    } else {
        Ok(len)
    }
}

fn owned_headers(headers: &[httparse::Header<'_>]) -> Result<Vec<(String, String)>, HeadError> {
    headers
        .iter()
        .map(|h| {
            let value = std::str::from_utf8(h.value)
                .map_err(|_| HeadError::Malformed("header value is not UTF-8"))?;
            Ok((h.name.to_owned(), value.to_owned()))
        })
        .collect()
}

/// Why [`read_request`] or [`read_response`] gave up.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ReadHeadError {
    /// The bytes are not a usable head.
    #[error(transparent)]
    Head(#[from] HeadError),
    /// The peer closed the connection in the middle of a head.
    #[error("connection closed inside the head")]
    Truncated,
    /// Reading failed.
    #[error("reading the head: {0}")]
    Io(#[from] std::io::Error),
}

/// Reads one request head from `stream` into `buf` (which may already
/// hold bytes read before) and returns it with its length: `buf[..len]` is
/// the head, `buf[len..]` whatever the client sent after it. Reads in
/// chunks, so it may read past the head; those bytes stay in `buf`.
///
/// Returns `Ok(None)` when the peer closed the connection before sending
/// a byte (a probe).
///
/// # Errors
/// [`ReadHeadError`] for a malformed, oversized or truncated head, or a
/// read error.
pub async fn read_request<S>(
    stream: &mut S,
    buf: &mut Vec<u8>,
) -> Result<Option<(RequestHead, usize)>, ReadHeadError>
where
    S: AsyncRead + Unpin,
{
    let mut fresh = 0;
    loop {
        // A head only ends at a newline: a head trickling in without one
        // is not parsed again per read.
        if buf[fresh..].contains(&b'\n') {
            if let Some(done) = parse_request(buf)? {
                return Ok(Some(done));
            }
        }
        if buf.len() >= MAX_HEAD {
            return Err(HeadError::TooLarge.into());
        }
        fresh = buf.len();
        buf.reserve(2048);
        // Never past the limit: the last read is cut to fit.
        let room = MAX_HEAD - buf.len();
        if (&mut *stream).take(room as u64).read_buf(buf).await? == 0 {
            return if buf.is_empty() {
                Ok(None)
            } else {
                Err(ReadHeadError::Truncated)
            };
        }
    }
}

/// Reads one request head from `stream`, and not one byte more, for a
/// peer that may send the next protocol's bytes right behind its head
/// without waiting for our answer. One read per byte: for heads that are
/// a line or two, never for a client-facing server.
///
/// Returns `Ok(None)` when the peer closed the connection before sending
/// a byte.
///
/// # Errors
/// As [`read_request`].
pub async fn read_request_exactly<S>(stream: &mut S) -> Result<Option<RequestHead>, ReadHeadError>
where
    S: AsyncRead + Unpin,
{
    read_exactly(stream, parse_request).await
}

/// Reads one response head from `stream`, and not one byte more: the
/// bytes after its blank line are the console protocol, left in the
/// stream for whoever relays it.
///
/// # Errors
/// [`ReadHeadError`] for a malformed, oversized or truncated head
/// (including none at all), or a read error.
pub async fn read_response<S>(stream: &mut S) -> Result<ResponseHead, ReadHeadError>
where
    S: AsyncRead + Unpin,
{
    read_exactly(stream, parse_response)
        .await?
        .ok_or(ReadHeadError::Truncated)
}

type Parser<T> = fn(&[u8]) -> Result<Option<(T, usize)>, HeadError>;

async fn read_exactly<S, T>(stream: &mut S, parse: Parser<T>) -> Result<Option<T>, ReadHeadError>
where
    S: AsyncRead + Unpin,
{
    let mut head = Vec::with_capacity(128);
    loop {
        let byte = match stream.read_u8().await {
            Ok(byte) => byte,
            Err(e) if e.kind() == std::io::ErrorKind::UnexpectedEof => {
                return if head.is_empty() {
                    Ok(None)
                } else {
                    Err(ReadHeadError::Truncated)
                };
            }
            Err(e) => return Err(e.into()),
        };
        head.push(byte);
        if byte == b'\n' {
            if let Some((done, _)) = parse(&head)? {
                return Ok(Some(done));
            }
        }
        if head.len() >= MAX_HEAD {
            return Err(HeadError::TooLarge.into());
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tokio::io::AsyncWriteExt;

    fn parse(text: &[u8]) -> (RequestHead, usize) {
        parse_request(text).expect("valid").expect("complete")
    }

    #[test]
    fn parses_a_raw_console_request_and_keeps_the_rest() {
        let raw = b"GET /console?token=abc HTTP/1.1\r\nHost: h:6081\r\n\r\nRFB 003.008\n";
        let (head, len) = parse(raw);
        assert_eq!(&raw[len..], b"RFB 003.008\n");
        assert_eq!(head.method, "GET");
        assert_eq!(head.path(), "/console");
        assert_eq!(head.query(), Some("token=abc"));
        assert_eq!(head.header("HOST"), Some("h:6081"));
        assert_eq!(head.minor_version, 1);
    }

    #[test]
    fn incomplete_until_the_blank_line() {
        let raw = b"GET / HTTP/1.1\r\nHost: h\r\n\r\n";
        for cut in 0..raw.len() {
            assert_eq!(parse_request(&raw[..cut]), Ok(None), "cut at {cut}");
        }
        assert!(parse_request(raw).unwrap().is_some());
    }

    #[test]
    fn bare_lf_and_leading_blank_lines_are_accepted() {
        let raw = b"GET /console?token=t HTTP/1.0\n\nRFB";
        let (head, len) = parse(raw);
        assert_eq!(&raw[len..], b"RFB");
        assert_eq!(head.minor_version, 0);
        let (head, _) = parse(b"\r\nGET /x HTTP/1.1\r\n\r\n");
        assert_eq!(head.target, "/x");
    }

    #[test]
    fn refuses_what_is_not_a_request() {
        for raw in [
            &b"GET /\r\n\r\n"[..],
            b"GET / HTTP/2.0\r\n\r\n",
            b"GET  / HTTP/1.1\r\n\r\n",
            b"G(T / HTTP/1.1\r\n\r\n",
            b"GET / HTTP/1.1\r\nNo colon\r\n\r\n",
            b"GET / HTTP/1.1\r\nBad Name: x\r\n\r\n",
            b"GET / HTTP/1.1\r\nX: a\r\n folded\r\n\r\n",
            b"GET / HTTP/1.1\r\nX: a\x00b\r\n\r\n",
            b"GET /\xff HTTP/1.1\r\n\r\n",
        ] {
            assert!(
                matches!(parse_request(raw), Err(HeadError::Malformed(_))),
                "{raw:?}: {:?}",
                parse_request(raw)
            );
        }
    }

    #[test]
    fn caps_the_size() {
        let mut raw = b"GET / HTTP/1.1\r\nX: ".to_vec();
        raw.resize(MAX_HEAD + 1, b'a');
        assert_eq!(parse_request(&raw), Err(HeadError::TooLarge));
        raw.extend_from_slice(b"\r\n\r\n");
        assert_eq!(parse_request(&raw), Err(HeadError::TooLarge));
        let many: String = (0..=MAX_HEADERS).map(|i| format!("X{i}: v\r\n")).collect();
        let raw = format!("GET / HTTP/1.1\r\n{many}\r\n");
        assert_eq!(parse_request(raw.as_bytes()), Err(HeadError::TooLarge));
    }

    #[test]
    fn query_drops_a_fragment() {
        let (head, _) = parse(b"GET /a?token=x#frag HTTP/1.1\r\n\r\n");
        assert_eq!(head.query(), Some("token=x"));
        let (head, _) = parse(b"GET /a HTTP/1.1\r\n\r\n");
        assert_eq!(head.query(), None);
    }

    #[test]
    fn responses_carry_their_status_code() {
        let raw = b"HTTP/1.1 200 OK\r\nX: y\r\n\r\nRFB 003.008\n";
        let (head, len) = parse_response(raw).unwrap().unwrap();
        assert_eq!((head.code, head.reason.as_str()), (200, "OK"));
        assert_eq!(head.header("x"), Some("y"));
        assert_eq!(&raw[len..], b"RFB 003.008\n");
        let (head, _) = parse_response(b"HTTP/1.1 404 not 200\r\n\r\n")
            .unwrap()
            .unwrap();
        assert_eq!(head.code, 404);
        assert!(parse_response(b"HTTP/1.1 2000 OK\r\n\r\n").is_err());
        assert!(parse_response(b"ICY 200 OK\r\n\r\n").is_err());
    }

    #[tokio::test]
    async fn read_request_leaves_the_rest_in_the_buffer() {
        let (mut client, mut server) = tokio::io::duplex(64);
        let writer = tokio::spawn(async move {
            for chunk in [
                &b"GET /x HTTP/1.1\r\nHo"[..],
                b"st: h\r\n",
                b"\r\nRFB 003.008\n",
            ] {
                client.write_all(chunk).await.unwrap();
                tokio::task::yield_now().await;
            }
        });
        let mut buf = Vec::new();
        let (head, len) = read_request(&mut server, &mut buf).await.unwrap().unwrap();
        writer.await.unwrap();
        assert_eq!(head.header("host"), Some("h"));
        let mut rest = buf[len..].to_vec();
        let mut tail = Vec::new();
        server.read_to_end(&mut tail).await.unwrap();
        rest.extend_from_slice(&tail);
        assert_eq!(rest, b"RFB 003.008\n");
    }

    #[tokio::test]
    async fn read_request_byte_by_byte_and_its_limit() {
        let raw = b"GET /x HTTP/1.1\r\nHost: h\r\nCookie: token=c\r\n\r\nRFB";
        let (mut client, mut server) = tokio::io::duplex(1);
        // The rest of the bytes stays in the pipe: nobody reads them.
        tokio::spawn(async move {
            let _ = client.write_all(raw).await;
        });
        let mut buf = Vec::new();
        let (head, len) = read_request(&mut server, &mut buf).await.unwrap().unwrap();
        assert_eq!(head.header("cookie"), Some("token=c"));
        assert!(b"RFB".starts_with(&buf[len..]));

        let (mut client, mut server) = tokio::io::duplex(1024);
        tokio::spawn(async move {
            let endless = vec![b'a'; MAX_HEAD * 2];
            let _ = client.write_all(b"GET / HTTP/1.1\r\nX: ").await;
            let _ = client.write_all(&endless).await;
        });
        let mut buf = Vec::new();
        assert!(matches!(
            read_request(&mut server, &mut buf).await,
            Err(ReadHeadError::Head(HeadError::TooLarge))
        ));
        assert_eq!(buf.len(), MAX_HEAD, "reads no more than the limit");
    }

    #[tokio::test]
    async fn read_request_tells_a_probe_from_a_truncated_head() {
        let (client, mut server) = tokio::io::duplex(64);
        drop(client);
        assert!(read_request(&mut server, &mut Vec::new())
            .await
            .unwrap()
            .is_none());

        let (mut client, mut server) = tokio::io::duplex(64);
        client.write_all(b"GET / HT").await.unwrap();
        drop(client);
        assert!(matches!(
            read_request(&mut server, &mut Vec::new()).await,
            Err(ReadHeadError::Truncated)
        ));
    }

    #[tokio::test]
    async fn read_response_stops_at_the_blank_line() {
        let (mut client, mut server) = tokio::io::duplex(1024);
        client
            .write_all(b"HTTP/1.1 200 OK\r\nX: y\r\n\r\nRFB 003.008\n")
            .await
            .unwrap();
        let head = read_response(&mut server).await.unwrap();
        assert_eq!(head.code, 200);
        let mut rest = [0u8; 12];
        server.read_exact(&mut rest).await.unwrap();
        assert_eq!(&rest, b"RFB 003.008\n");

        drop(client);
        assert!(matches!(
            read_response(&mut server).await,
            Err(ReadHeadError::Truncated)
        ));
    }

    #[tokio::test]
    async fn read_request_exactly_leaves_the_rest_in_the_stream() {
        let (mut client, mut server) = tokio::io::duplex(1024);
        client
            .write_all(b"CONNECT /serial/9 HTTP/1.1\r\n\r\nabc")
            .await
            .unwrap();
        let head = read_request_exactly(&mut server).await.unwrap().unwrap();
        assert_eq!(
            (head.method.as_str(), head.target.as_str()),
            ("CONNECT", "/serial/9")
        );
        let mut rest = [0u8; 3];
        server.read_exact(&mut rest).await.unwrap();
        assert_eq!(&rest, b"abc");
        drop(client);
        assert!(read_request_exactly(&mut server).await.unwrap().is_none());
    }
}
