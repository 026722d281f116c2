//! The web root a console listener serves (noVNC's or spice-html5's
//! pages), so that the console URL opens a working page in a browser.
//! tower-http's `ServeDir` does the serving: content types, conditional
//! requests (`Last-Modified`, `304`), ranges, and `.gz` siblings for
//! clients that accept gzip.

use std::path::{Path, PathBuf};

use http::header::{ALLOW, CACHE_CONTROL, X_CONTENT_TYPE_OPTIONS};
use http::{HeaderMap, HeaderValue, Method, Request, Response, StatusCode};
use http_body_util::BodyExt;
use percent_encoding::percent_decode_str;
use tower_http::services::ServeDir;

use crate::reply::{close_empty, empty, Body};

/// Where distributions install the browser clients, by console type: the
/// defaults Nova uses.
pub const DEFAULT_WEB_ROOTS: &[(&str, &str)] = &[
    ("novnc", "/usr/share/novnc"),
    ("spice-html5", "/usr/share/spice-html5"),
];

/// The default web root of a listener serving `types`: the first one that
/// is installed.
pub(crate) fn default_web_root(types: &[String]) -> Option<PathBuf> {
    types.iter().find_map(|t| {
        DEFAULT_WEB_ROOTS
            .iter()
            .find(|(ty, _)| ty == t)
            .map(|(_, dir)| PathBuf::from(dir))
            .filter(|dir| dir.is_dir())
    })
}

/// `//host/...`: a browser may take it for another site (open redirect),
/// so such a path is refused outright, on every listener.
pub(crate) fn is_open_redirect(path: &str) -> bool {
    path.starts_with("//")
}

/// Why a request path is refused before it reaches the web root.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum PathError {
    /// See [`is_open_redirect`].
    DoubleSlash,
    /// Not absolute, a `..` or `.` segment, a backslash, a NUL, bad
    /// percent-encoding.
    Invalid,
}

/// Refuses a path that could leave the root or that no file has a name
/// for. `ServeDir` would answer such a path 404; a client that sends one
/// gets 400, as it always has. Pure, for unit tests and fuzzing.
pub(crate) fn check_path(raw_path: &str) -> Result<(), PathError> {
    if is_open_redirect(raw_path) {
        return Err(PathError::DoubleSlash);
    }
    if !raw_path.starts_with('/') || !escapes_are_whole(raw_path) {
        return Err(PathError::Invalid);
    }
    let decoded = percent_decode_str(raw_path)
        .decode_utf8()
        .map_err(|_| PathError::Invalid)?;
    if decoded.contains(['\\', '\0']) || decoded.split('/').any(|s| s == "." || s == "..") {
        return Err(PathError::Invalid);
    }
    Ok(())
}

/// Whether every `%` starts a two-digit hex escape.
fn escapes_are_whole(raw_path: &str) -> bool {
    raw_path
        .split('%')
        .skip(1)
        .all(|rest| rest.len() >= 2 && rest.as_bytes()[..2].iter().all(u8::is_ascii_hexdigit))
}

/// One listener's web root.
#[derive(Debug, Clone)]
pub(crate) struct Pages {
    root: PathBuf,
    dir: ServeDir,
}

impl Pages {
    /// The pages under `root`.
    pub(crate) fn new(root: PathBuf) -> Self {
        Pages {
            dir: ServeDir::new(&root).precompressed_gzip(),
            root,
        }
    }

    /// The directory served.
    pub(crate) fn root(&self) -> &Path {
        &self.root
    }

    /// Answers `request` from the web root. A refusal or a missing file is
    /// empty-bodied and ends the connection; a page may share it with the
    /// next request.
    pub(crate) async fn serve<B: Send + 'static>(&self, request: Request<B>) -> Response<Body> {
        if !matches!(*request.method(), Method::GET | Method::HEAD) {
            let mut allow = HeaderMap::new();
            allow.insert(ALLOW, HeaderValue::from_static("GET, HEAD"));
            return empty(StatusCode::METHOD_NOT_ALLOWED, allow);
        }
        if let Err(reason) = check_path(request.uri().path()) {
            tracing::info!(path = request.uri().path(), ?reason, "page request refused");
            return empty(StatusCode::BAD_REQUEST, HeaderMap::new());
        }
        match self.dir.clone().try_call(request).await {
            Ok(response) => {
                let (mut parts, body) = response.into_parts();
                if parts.status.is_client_error() || parts.status.is_server_error() {
                    close_empty(&mut parts.headers);
                    return Response::from_parts(parts, Body::default());
                }
                let headers = &mut parts.headers;
                headers.insert(X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff"));
                // Pages change with the distribution's package: revalidate
                // (a 304 at most) rather than keep a stale noVNC.
                headers.insert(CACHE_CONTROL, HeaderValue::from_static("no-cache"));
                Response::from_parts(parts, body.boxed_unsync())
            }
            Err(e) => {
                tracing::warn!(root = %self.root.display(), error = %e, "cannot serve a page");
                empty(StatusCode::INTERNAL_SERVER_ERROR, HeaderMap::new())
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_under_the_root_pass() {
        for good in [
            "/vnc_auto.html",
            "/app/ui.js",
            "/",
            "/app/",
            "/a%20b.html",
            "/a..b/c.js",
        ] {
            assert_eq!(check_path(good), Ok(()), "{good}");
        }
    }

    #[test]
    fn double_slash_is_an_open_redirect() {
        assert_eq!(check_path("//evil.example/"), Err(PathError::DoubleSlash));
        assert_eq!(check_path("//"), Err(PathError::DoubleSlash));
        assert!(is_open_redirect("//evil.example/"));
        assert!(!is_open_redirect("/a//b"));
    }

    #[test]
    fn never_leaves_the_root() {
        for bad in [
            "/../etc/passwd",
            "/app/../../etc/passwd",
            "/%2e%2e/etc/passwd",
            "/app/%2E%2E/%2e%2e/x",
            "/./x",
            "/a\\..\\b",
            "/a%00b",
            "/%zz",
            "/%2",
            "relative",
            "",
            "/%ff",
        ] {
            assert_eq!(check_path(bad), Err(PathError::Invalid), "{bad}");
        }
    }

    #[test]
    fn default_root_only_for_types_that_have_one() {
        assert_eq!(default_web_root(&["serial".to_owned()]), None);
    }
}
