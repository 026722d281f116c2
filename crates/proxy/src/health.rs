//! The health endpoint load balancers poll: `GET /healthz`, no token.

use http::header::{CACHE_CONTROL, CONTENT_TYPE};
use http::{HeaderValue, Method, Request, Response};

use crate::reply::{fixed, Body};

/// The path of the health endpoint.
pub const HEALTH_PATH: &str = "/healthz";

/// Whether `request` asks for the health endpoint.
pub(crate) fn is_health_check<B>(request: &Request<B>) -> bool {
    request.uri().path() == HEALTH_PATH && matches!(*request.method(), Method::GET | Method::HEAD)
}

/// The answer to a health check: the listener is accepting and serving,
/// which is what a load balancer needs to know. The connection may serve
/// more requests.
pub(crate) fn response() -> Response<Body> {
    let mut response = Response::new(fixed(b"ok\n"));
    let headers = response.headers_mut();
    headers.insert(
        CONTENT_TYPE,
        HeaderValue::from_static("text/plain; charset=utf-8"),
    );
    headers.insert(CACHE_CONTROL, HeaderValue::from_static("no-store"));
    response
}
