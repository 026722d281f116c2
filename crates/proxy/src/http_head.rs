//! Reading an HTTP/1.x request head, and not one byte more than we keep.
//!
//! The parser is a pure function over bytes ([`parse_head`]) so that it can
//! be fuzzed; [`read_head`] feeds it from a stream and leaves whatever
//! followed the head in the caller's buffer, for the WebSocket or the raw
//! TCP relay to pick up.

use tokio::io::{AsyncRead, AsyncReadExt};

/// The largest request head we read. Console URLs are short; a browser's
/// cookies are the bulk of a head.
pub const MAX_HEAD: usize = 16 * 1024;

/// The most header lines we accept.
const MAX_HEADERS: usize = 100;

/// Why a head is unusable.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum HeadError {
    /// The head did not end within [`MAX_HEAD`] bytes or has too many lines.
    #[error("request head too large")]
    TooLarge,
    /// The head is not an HTTP/1.x request.
    #[error("malformed request head: {0}")]
    Malformed(&'static str),
}

/// A parsed request head.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RequestHead {
    /// The method, as sent (`GET`).
    pub method: String,
    /// The request target, as sent (`/vnc_auto.html?path=...`).
    pub target: String,
    /// The minor HTTP version (`1` for HTTP/1.1).
    pub minor_version: u8,
    /// Header lines in order, names as sent, values trimmed.
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
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    /// Every header `name` value, comma lists split and trimmed, empty
    /// items skipped.
    pub fn header_items<'a>(&'a self, name: &'a str) -> impl Iterator<Item = &'a str> + 'a {
        self.headers
            .iter()
            .filter(move |(n, _)| n.eq_ignore_ascii_case(name))
            .flat_map(|(_, v)| v.split(','))
            .map(str::trim)
            .filter(|item| !item.is_empty())
    }

    /// Whether header `name` lists `item` (case-insensitive).
    pub fn header_has(&self, name: &str, item: &str) -> bool {
        self.header_items(name)
            .any(|i| i.eq_ignore_ascii_case(item))
    }

    /// Whether the request announces a body (which the proxy never reads).
    pub fn has_body(&self) -> bool {
        self.header("transfer-encoding").is_some()
            || self
                .header("content-length")
                .is_some_and(|len| len.trim() != "0")
    }

    /// Whether the connection may serve another request after this one:
    /// the client allows it, and no unread body sits in the way.
    pub fn keep_alive(&self) -> bool {
        if self.header_has("connection", "close") || self.has_body() {
            return false;
        }
        self.minor_version >= 1 || self.header_has("connection", "keep-alive")
    }
}

/// Parses a request head at the start of `buf`.
///
/// Returns `Ok(None)` while the head is incomplete, and the head with its
/// length in bytes once its blank line has arrived; bytes past that length
/// belong to whatever follows the head.
///
/// # Errors
/// [`HeadError`] when the bytes cannot become a request head.
pub fn parse_head(buf: &[u8]) -> Result<Option<(RequestHead, usize)>, HeadError> {
    match head_end(buf, 0, 0) {
        Ok(len) => parse_complete(&buf[..len]).map(|head| Some((head, len))),
        Err(_) if buf.len() > MAX_HEAD => Err(HeadError::TooLarge),
        Err(_) => Ok(None),
    }
}

/// Parses a head that ends with its blank line.
fn parse_complete(head: &[u8]) -> Result<RequestHead, HeadError> {
    if head.len() > MAX_HEAD {
        return Err(HeadError::TooLarge);
    }
    let text = std::str::from_utf8(head).map_err(|_| HeadError::Malformed("not UTF-8"))?;
    let mut lines = text.split('\n').map(|l| l.strip_suffix('\r').unwrap_or(l));
    let request_line = lines.next().unwrap_or_default();
    let (method, target, minor_version) = parse_request_line(request_line)?;
    let mut headers = Vec::new();
    for line in lines.take_while(|l| !l.is_empty()) {
        if headers.len() == MAX_HEADERS {
            return Err(HeadError::TooLarge);
        }
        headers.push(parse_header_line(line)?);
    }
    Ok(RequestHead {
        method: method.to_owned(),
        target: target.to_owned(),
        minor_version,
        headers,
    })
}

/// The length of the head including its blank line (CRLF or bare LF, as
/// lenient servers accept), if it is complete; else where its unfinished
/// last line starts. The scan resumes at `from`: the blank line is not
/// before `line_start`, and no line ends between `line_start` and `from`.
fn head_end(buf: &[u8], mut line_start: usize, from: usize) -> Result<usize, usize> {
    for (i, &b) in buf.iter().enumerate().skip(from) {
        if b != b'\n' {
            continue;
        }
        let line = &buf[line_start..i];
        if (line.is_empty() || line == b"\r") && line_start > 0 {
            return Ok(i + 1);
        }
        line_start = i + 1;
    }
    Err(line_start)
}

fn parse_request_line(line: &str) -> Result<(&str, &str, u8), HeadError> {
    let mut parts = line.split(' ');
    let (Some(method), Some(target), Some(version), None) =
        (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return Err(HeadError::Malformed(
            "request line is not METHOD TARGET VERSION",
        ));
    };
    if method.is_empty() || !method.bytes().all(is_token_byte) {
        return Err(HeadError::Malformed("invalid method"));
    }
    if target.is_empty() || target.bytes().any(|b| b.is_ascii_control()) {
        return Err(HeadError::Malformed("invalid request target"));
    }
    let minor_version = match version {
        "HTTP/1.1" => 1,
        "HTTP/1.0" => 0,
        _ => return Err(HeadError::Malformed("not HTTP/1.0 or HTTP/1.1")),
    };
    Ok((method, target, minor_version))
}

fn parse_header_line(line: &str) -> Result<(String, String), HeadError> {
    let Some((name, value)) = line.split_once(':') else {
        return Err(HeadError::Malformed("header line without a colon"));
    };
    // A folded line or a space before the colon is a smuggling vector:
    // refuse rather than guess.
    if name.is_empty() || !name.bytes().all(is_token_byte) {
        return Err(HeadError::Malformed("invalid header name"));
    }
    let value = value.trim_matches(|c| c == ' ' || c == '\t');
    if value.bytes().any(|b| b.is_ascii_control() && b != b'\t') {
        return Err(HeadError::Malformed("control character in a header value"));
    }
    Ok((name.to_owned(), value.to_owned()))
}

/// RFC 9110 `tchar`.
fn is_token_byte(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&b)
}

/// Why [`read_head`] gave up.
#[derive(Debug, thiserror::Error)]
pub enum ReadHeadError {
    /// The bytes are not a usable head.
    #[error(transparent)]
    Head(#[from] HeadError),
    /// The peer closed the connection in the middle of a head.
    #[error("connection closed inside the request head")]
    Truncated,
    /// Reading failed.
    #[error("reading the request head: {0}")]
    Io(#[from] std::io::Error),
}

/// Reads one request head from `stream`. `buf` holds bytes already read
/// (left over from a previous request) and, on return, the bytes read past
/// the head.
///
/// Returns `Ok(None)` when the peer closed the connection before sending
/// a byte (a probe, or the end of a kept-alive connection).
///
/// # Errors
/// [`ReadHeadError`] for a malformed, oversized or truncated head, or a
/// read error.
pub async fn read_head<S>(
    stream: &mut S,
    buf: &mut Vec<u8>,
) -> Result<Option<RequestHead>, ReadHeadError>
where
    S: AsyncRead + Unpin,
{
    // Resume the search for the blank line where the last one stopped: a
    // head trickling in a byte at a time must not be rescanned per read.
    let (mut line_start, mut scanned) = (0, 0);
    loop {
        match head_end(buf, line_start, scanned) {
            Ok(len) => {
                let head = parse_complete(&buf[..len])?;
                buf.drain(..len);
                return Ok(Some(head));
            }
            Err(_) if buf.len() > MAX_HEAD => return Err(HeadError::TooLarge.into()),
            Err(start) => (line_start, scanned) = (start, buf.len()),
        }
        buf.reserve(2048);
        if stream.read_buf(buf).await? == 0 {
            return if buf.is_empty() {
                Ok(None)
            } else {
                Err(ReadHeadError::Truncated)
            };
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &[u8]) -> (RequestHead, usize) {
        parse_head(text).expect("valid").expect("complete")
    }

    #[test]
    fn parses_a_websocket_upgrade_and_keeps_the_rest() {
        let raw = b"GET /?token=abc HTTP/1.1\r\nHost: h:6080\r\nUpgrade: websocket\r\n\
                    Connection: keep-alive, Upgrade\r\n\r\n\x81\x05hello";
        let (head, len) = parse(raw);
        assert_eq!(&raw[len..], b"\x81\x05hello");
        assert_eq!(head.method, "GET");
        assert_eq!(head.path(), "/");
        assert_eq!(head.query(), Some("token=abc"));
        assert_eq!(head.header("HOST"), Some("h:6080"));
        assert!(head.header_has("connection", "upgrade"));
        assert!(head.keep_alive());
    }

    #[test]
    fn incomplete_until_the_blank_line() {
        let raw = b"GET / HTTP/1.1\r\nHost: h\r\n\r\n";
        for cut in 0..raw.len() {
            assert_eq!(parse_head(&raw[..cut]), Ok(None), "cut at {cut}");
        }
        assert!(parse_head(raw).unwrap().is_some());
    }

    #[test]
    fn resuming_the_scan_finds_the_same_end() {
        for raw in [
            &b"GET / HTTP/1.1\r\nHost: h\r\n\r\nRFB"[..],
            b"GET /console?token=t HTTP/1.0\n\nRFB",
            b"\r\n\r\nGET / HTTP/1.1\r\n\r\n",
        ] {
            let whole = head_end(raw, 0, 0);
            assert!(whole.is_ok(), "{raw:?}");
            for cut in 0..raw.len() {
                match head_end(&raw[..cut], 0, 0) {
                    Ok(len) => assert_eq!(Ok(len), whole, "{raw:?} cut at {cut}"),
                    Err(start) => {
                        assert_eq!(head_end(raw, start, cut), whole, "{raw:?} cut at {cut}")
                    }
                }
            }
        }
    }

    #[test]
    fn bare_lf_is_accepted() {
        let raw = b"GET /console?token=t HTTP/1.0\n\nRFB";
        let (head, len) = parse(raw);
        assert_eq!(&raw[len..], b"RFB");
        assert_eq!(head.minor_version, 0);
        assert!(!head.keep_alive());
    }

    #[test]
    fn refuses_what_is_not_a_request() {
        for raw in [
            &b"\r\n\r\n"[..],
            b"GET /\r\n\r\n",
            b"GET / HTTP/2.0\r\n\r\n",
            b"GET  / HTTP/1.1\r\n\r\n",
            b"G(T / HTTP/1.1\r\n\r\n",
            b"GET / HTTP/1.1\r\nNo colon\r\n\r\n",
            b"GET / HTTP/1.1\r\nBad Name: x\r\n\r\n",
            b"GET / HTTP/1.1\r\n folded\r\n\r\n",
            b"GET / HTTP/1.1\r\nX: a\x00b\r\n\r\n",
            b"GET /\xff HTTP/1.1\r\n\r\n",
        ] {
            assert!(
                matches!(parse_head(raw), Err(HeadError::Malformed(_))),
                "{raw:?}"
            );
        }
    }

    #[test]
    fn caps_the_size() {
        let mut raw = b"GET / HTTP/1.1\r\nX: ".to_vec();
        raw.resize(MAX_HEAD + 1, b'a');
        assert_eq!(parse_head(&raw), Err(HeadError::TooLarge));
        let many: String = (0..=MAX_HEADERS).map(|i| format!("X{i}: v\r\n")).collect();
        let raw = format!("GET / HTTP/1.1\r\n{many}\r\n");
        assert_eq!(parse_head(raw.as_bytes()), Err(HeadError::TooLarge));
    }

    #[test]
    fn header_items_split_lists_across_lines() {
        let (head, _) = parse(
            b"GET / HTTP/1.1\r\nSec-WebSocket-Protocol: base64, binary\r\nsec-websocket-protocol: x\r\n\r\n",
        );
        let items: Vec<&str> = head.header_items("Sec-WebSocket-Protocol").collect();
        assert_eq!(items, ["base64", "binary", "x"]);
        assert_eq!(head.query(), None);
    }

    #[test]
    fn a_body_ends_keep_alive() {
        let (head, _) = parse(b"GET /healthz HTTP/1.1\r\nContent-Length: 3\r\n\r\n");
        assert!(head.has_body() && !head.keep_alive());
        let (head, _) = parse(b"GET /healthz HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n");
        assert!(!head.keep_alive());
        let (head, _) = parse(b"GET /healthz HTTP/1.1\r\nContent-Length: 0\r\n\r\n");
        assert!(head.keep_alive());
    }

    #[test]
    fn query_drops_a_fragment() {
        let (head, _) = parse(b"GET /a?token=x#frag HTTP/1.1\r\n\r\n");
        assert_eq!(head.query(), Some("token=x"));
    }

    #[tokio::test]
    async fn read_head_leaves_the_rest_in_the_buffer() {
        use tokio::io::AsyncWriteExt;
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
        let head = read_head(&mut server, &mut buf).await.unwrap().unwrap();
        writer.await.unwrap();
        assert_eq!(head.header("host"), Some("h"));
        let mut rest = buf.clone();
        let mut tail = Vec::new();
        server.read_to_end(&mut tail).await.unwrap();
        rest.extend_from_slice(&tail);
        assert_eq!(rest, b"RFB 003.008\n");
    }

    #[tokio::test]
    async fn read_head_byte_by_byte() {
        use tokio::io::AsyncWriteExt;
        let raw = b"GET /x HTTP/1.1\r\nHost: h\r\nCookie: token=c\r\n\r\nRFB";
        let (mut client, mut server) = tokio::io::duplex(1);
        // The rest of the bytes stays in the pipe: nobody reads them.
        tokio::spawn(async move {
            let _ = client.write_all(raw).await;
        });
        let mut buf = Vec::new();
        let head = read_head(&mut server, &mut buf).await.unwrap().unwrap();
        assert_eq!(head.header("cookie"), Some("token=c"));
        assert!(b"RFB".starts_with(&buf));

        let (mut client, mut server) = tokio::io::duplex(1);
        tokio::spawn(async move {
            let endless = vec![b'a'; MAX_HEAD * 2];
            let _ = client.write_all(b"GET / HTTP/1.1\r\nX: ").await;
            let _ = client.write_all(&endless).await;
        });
        assert!(matches!(
            read_head(&mut server, &mut Vec::new()).await,
            Err(ReadHeadError::Head(HeadError::TooLarge))
        ));
    }

    #[tokio::test]
    async fn read_head_tells_a_probe_from_a_truncated_head() {
        let (client, mut server) = tokio::io::duplex(64);
        drop(client);
        assert!(read_head(&mut server, &mut Vec::new())
            .await
            .unwrap()
            .is_none());

        let (mut client, mut server) = tokio::io::duplex(64);
        tokio::io::AsyncWriteExt::write_all(&mut client, b"GET / HT")
            .await
            .unwrap();
        drop(client);
        assert!(matches!(
            read_head(&mut server, &mut Vec::new()).await,
            Err(ReadHeadError::Truncated)
        ));
    }
}
