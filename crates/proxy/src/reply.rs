//! The body type of every response the proxy gives, and the empty-bodied
//! responses it builds itself.

use std::io;

use bytes::Bytes;
use http::header::{CONNECTION, CONTENT_LENGTH};
use http::{HeaderMap, HeaderValue, Response, StatusCode};
use http_body_util::combinators::UnsyncBoxBody;
use http_body_util::{BodyExt, Full};

/// The body of every response: pages stream from their files, the rest is
/// a few bytes or nothing.
pub(crate) type Body = UnsyncBoxBody<Bytes, io::Error>;

/// A body of fixed bytes.
pub(crate) fn fixed(bytes: &'static [u8]) -> Body {
    Full::new(Bytes::from_static(bytes))
        .map_err(|never| match never {})
        .boxed_unsync()
}

/// A response with an empty body, after which the connection closes.
///
/// Refusals use it: a client must find nothing it could read as data
/// (Tempest reads whatever follows the head as a WebSocket frame).
pub(crate) fn empty(status: StatusCode, headers: HeaderMap) -> Response<Body> {
    let mut response = Response::new(Body::default());
    *response.status_mut() = status;
    *response.headers_mut() = headers;
    close_empty(response.headers_mut());
    response
}

/// Marks a response as empty and the connection's last.
pub(crate) fn close_empty(headers: &mut HeaderMap) {
    headers.insert(CONTENT_LENGTH, HeaderValue::from_static("0"));
    headers.insert(CONNECTION, HeaderValue::from_static("close"));
}
