//! Absolute links, built from how the client reached us.

use axum::http::HeaderMap;

/// `scheme://host` as the client sees us: `X-Forwarded-Proto` (when a
/// TLS-terminating proxy sits in front) or `http`, and the `Host` header.
pub(crate) fn base_url(headers: &HeaderMap) -> String {
    let scheme = headers
        .get("x-forwarded-proto")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split(',').next())
        .map(str::trim)
        .filter(|s| matches!(s.to_ascii_lowercase().as_str(), "http" | "https"))
        .map(str::to_ascii_lowercase)
        .unwrap_or_else(|| "http".to_owned());
    // A Host that would break the link's syntax is not echoed back.
    let host = headers
        .get(axum::http::header::HOST)
        .and_then(|v| v.to_str().ok())
        .filter(|h| !h.is_empty() && h.parse::<axum::http::uri::Authority>().is_ok())
        .unwrap_or("localhost");
    format!("{scheme}://{host}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn uses_host_and_forwarded_proto() {
        let mut h = HeaderMap::new();
        assert_eq!(base_url(&h), "http://localhost");
        h.insert("host", "api.example:8774".parse().unwrap());
        assert_eq!(base_url(&h), "http://api.example:8774");
        h.insert("x-forwarded-proto", "HTTPS, http".parse().unwrap());
        assert_eq!(base_url(&h), "https://api.example:8774");
        h.insert("x-forwarded-proto", "gopher".parse().unwrap());
        h.insert("host", "a b/c".parse().unwrap());
        assert_eq!(base_url(&h), "http://localhost");
    }
}
