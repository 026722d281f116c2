//! Microversion negotiation and the version headers of every response.

use std::borrow::Cow;
use std::future::Future;
use std::sync::LazyLock;

use axum::extract::{FromRequestParts, Request};
use axum::http::request::Parts;
use axum::http::{header, HeaderMap, HeaderName, HeaderValue};
use axum::response::{IntoResponse, Response};
use consoled_core::{ConsoleError, Microversion};

use crate::errors::ApiError;

const NEW_HEADER: &str = "openstack-api-version";
const LEGACY_HEADER: &str = "x-openstack-nova-api-version";
const SERVICE: &str = "compute";

/// Where consoled's own routes live, apart from Nova's: a compute
/// microversion means nothing to them, so they neither negotiate one nor
/// echo one.
const OWN_ROUTES: &str = "/consoled/";

/// The microversion a request was negotiated to, as an extractor
/// (`2.1` when the client asked for none).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ApiVersion(pub Microversion);

impl ApiVersion {
    /// Whether the request's microversion is at least `major.minor`.
    pub fn at_least(self, major: u16, minor: u16) -> bool {
        self.0 >= Microversion::new(major, minor)
    }
}

impl<S: Send + Sync> FromRequestParts<S> for ApiVersion {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        Ok(parts
            .extensions
            .get::<ApiVersion>()
            .copied()
            .unwrap_or(ApiVersion(Microversion::MIN)))
    }
}

/// Picks the request's microversion (400 when malformed, 406 when out of
/// range), runs `inner` on the request, and stamps the version headers on
/// the response; for consoled's own routes, only runs `inner`.
pub(crate) async fn negotiated<F, Fut>(mut request: Request, inner: F) -> Response
where
    F: FnOnce(Request) -> Fut,
    Fut: Future<Output = Response>,
{
    if request.uri().path().starts_with(OWN_ROUTES) {
        return inner(request).await;
    }
    match requested(request.headers()) {
        Ok(version) => {
            request.extensions_mut().insert(ApiVersion(version));
            let mut response = inner(request).await;
            stamp(response.headers_mut(), version);
            response
        }
        Err(e) => {
            // Not served at any version: the headers name the default, so
            // that a client still learns how to read them.
            let mut response = ApiError(e).into_response();
            stamp(response.headers_mut(), Microversion::MIN);
            response
        }
    }
}

/// The microversion the headers ask for: the `compute` entry of
/// `OpenStack-API-Version`, else `X-OpenStack-Nova-API-Version`, else 2.1.
fn requested(headers: &HeaderMap) -> Result<Microversion, ConsoleError> {
    let text = compute_entry(headers)?.map(Cow::Borrowed).or_else(|| {
        let values: Vec<&str> = headers
            .get_all(LEGACY_HEADER)
            .iter()
            .filter_map(|v| v.to_str().ok())
            .collect();
        match values[..] {
            [] => None,
            [one] => Some(Cow::Borrowed(one)),
            _ => Some(Cow::Owned(values.join(","))),
        }
    });
    let Some(text) = text else {
        return Ok(Microversion::MIN);
    };
    let version = match Microversion::parse_requested(&text, Microversion::MAX) {
        Ok(version) => version,
        // Well-formed but too large for our numbers (`2.65536`): far out
        // of range, not malformed.
        Err(_) if is_number_pair(&text) => return Err(out_of_range(text.trim())),
        Err(_) => return Err(malformed(&text)),
    };
    if !version.within(Microversion::MIN, Microversion::MAX) {
        return Err(out_of_range(&version.to_string()));
    }
    Ok(version)
}

/// Whether `text` has the form `X.Y` with decimal digits only.
fn is_number_pair(text: &str) -> bool {
    let digits = |part: &str| !part.is_empty() && part.bytes().all(|b| b.is_ascii_digit());
    text.trim()
        .split_once('.')
        .is_some_and(|(major, minor)| digits(major) && digits(minor))
}

fn out_of_range(version: &str) -> ConsoleError {
    ConsoleError::NotAcceptable(format!(
        "Version {version} is not supported by the API. Minimum is {} and maximum is {}.",
        Microversion::MIN,
        Microversion::MAX
    ))
}

/// The version text of the `compute` entry of `OpenStack-API-Version`
/// (`compute 2.6, volume 3.0`), if there is one.
fn compute_entry(headers: &HeaderMap) -> Result<Option<&str>, ConsoleError> {
    for value in headers.get_all(NEW_HEADER) {
        let value = value
            .to_str()
            .map_err(|_| malformed("<non-ASCII header>"))?;
        for entry in value.split(',').map(str::trim).filter(|e| !e.is_empty()) {
            let mut words = entry.split_whitespace();
            if words
                .next()
                .is_some_and(|s| s.eq_ignore_ascii_case(SERVICE))
            {
                let version = words.next().ok_or_else(|| malformed(entry))?;
                if words.next().is_some() {
                    return Err(malformed(entry));
                }
                return Ok(Some(version));
            }
        }
    }
    Ok(None)
}

fn malformed(text: &str) -> ConsoleError {
    ConsoleError::BadRequest(format!(
        "API Version String {text} is of invalid format. Must be of format MajorNum.MinorNum."
    ))
}

const NEW_NAME: HeaderName = HeaderName::from_static(NEW_HEADER);
const LEGACY_NAME: HeaderName = HeaderName::from_static(LEGACY_HEADER);
const VARY: HeaderValue =
    HeaderValue::from_static("OpenStack-API-Version, X-OpenStack-Nova-API-Version");

/// The two version headers' values of every microversion we serve, made
/// once: cloning one shares its bytes, where formatting it would allocate
/// twice per response.
static SERVED: LazyLock<Vec<(HeaderValue, HeaderValue)>> = LazyLock::new(|| {
    (Microversion::MIN.minor()..=Microversion::MAX.minor())
        .filter_map(|minor| version_values(Microversion::new(Microversion::MIN.major(), minor)))
        .collect()
});

/// `compute X.Y` and `X.Y`.
fn version_values(version: Microversion) -> Option<(HeaderValue, HeaderValue)> {
    let new = HeaderValue::try_from(format!("{SERVICE} {version}")).ok()?;
    let legacy = HeaderValue::try_from(version.to_string()).ok()?;
    Some((new, legacy))
}

fn stamp(headers: &mut HeaderMap, version: Microversion) {
    let served = (version.major() == Microversion::MIN.major())
        .then(|| version.minor().checked_sub(Microversion::MIN.minor()))
        .flatten()
        .and_then(|at| SERVED.get(usize::from(at)));
    let values = match served {
        Some(values) => Some(values.clone()),
        None => version_values(version),
    };
    if let Some((new, legacy)) = values {
        headers.insert(NEW_NAME, new);
        headers.insert(LEGACY_NAME, legacy);
    }
    headers.insert(header::VARY, VARY);
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(pairs: &[(&'static str, &str)]) -> HeaderMap {
        let mut h = HeaderMap::new();
        for (k, v) in pairs {
            h.append(*k, v.parse().unwrap());
        }
        h
    }

    #[test]
    fn default_is_min() {
        assert_eq!(requested(&HeaderMap::new()).unwrap(), Microversion::MIN);
        let other_service = headers(&[("openstack-api-version", "volume 3.0")]);
        assert_eq!(requested(&other_service).unwrap(), Microversion::MIN);
    }

    #[test]
    fn new_header_wins_over_legacy() {
        let h = headers(&[
            ("openstack-api-version", "volume 3.5, compute 2.8"),
            ("x-openstack-nova-api-version", "2.3"),
        ]);
        assert_eq!(requested(&h).unwrap(), Microversion::new(2, 8));
        let legacy = headers(&[("x-openstack-nova-api-version", "latest")]);
        assert_eq!(requested(&legacy).unwrap(), Microversion::MAX);
    }

    #[test]
    fn every_served_version_is_stamped_as_it_reads() {
        for minor in 1..=99 {
            let version = Microversion::new(2, minor);
            let mut h = HeaderMap::new();
            stamp(&mut h, version);
            assert_eq!(h[NEW_HEADER], format!("compute 2.{minor}").as_str());
            assert_eq!(h[LEGACY_HEADER], format!("2.{minor}").as_str());
            assert_eq!(h[header::VARY], VARY);
        }
    }

    #[test]
    fn malformed_is_400_and_out_of_range_406() {
        for bad in ["compute", "compute 2", "compute two.one", "compute 2.6 2.7"] {
            let h = headers(&[("openstack-api-version", bad)]);
            assert_eq!(requested(&h).unwrap_err().status(), 400, "{bad}");
        }
        for far in [
            "compute 2.100",
            "compute 2.0",
            "compute 3.0",
            "compute 2.65536",
            "compute 99999.1",
        ] {
            let e = requested(&headers(&[("openstack-api-version", far)])).unwrap_err();
            assert_eq!(e.status(), 406, "{far}");
            assert!(e.to_string().contains("Minimum is 2.1 and maximum is 2.99"));
        }
    }
}
