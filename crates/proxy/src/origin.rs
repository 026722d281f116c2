//! The Origin check of Nova's WebSocket proxies (API.md section 7).
//!
//! A pure function over header values, so that each row of the contract
//! is a unit test and the parser can be fuzzed.

/// Why an Origin was refused. The reason goes to our log, never to the
/// client.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum OriginError {
    /// The Origin has no host or no scheme (`null`, garbage).
    #[error("Origin header not valid")]
    Invalid,
    /// The Origin's host is neither the request's Host nor allowed.
    #[error("Origin header does not match this host")]
    HostMismatch,
    /// The Origin's scheme (or `X-Forwarded-Proto`) is not the console
    /// URL's.
    #[error("Origin header protocol does not match this host")]
    SchemeMismatch,
}

/// The request headers and configuration the check looks at.
#[derive(Debug, Clone, Copy)]
pub struct OriginCheck<'a> {
    /// The `Origin` header; `None` for a non-browser client.
    pub origin: Option<&'a str>,
    /// The `Host` header.
    pub host: Option<&'a str>,
    /// The `X-Forwarded-Proto` header of a TLS-terminating proxy.
    pub forwarded_proto: Option<&'a str>,
    /// Hosts accepted besides `Host` (`allowed_origins`).
    pub allowed_origins: &'a [String],
    /// The access URL base of the token's record (`http://h:6080/...`,
    /// `ws://h:6083/`).
    pub access_url_base: &'a str,
}

impl OriginCheck<'_> {
    /// Applies Nova's rules: no Origin is fine; otherwise its host and
    /// scheme must be non-empty, the host must equal Host's (port ignored)
    /// or be allowed, and the scheme must be the base URL's (`ws` counts as
    /// `http`, `wss` as `https`).
    ///
    /// # Errors
    /// The [`OriginError`] of the first rule that fails.
    pub fn verify(&self) -> Result<(), OriginError> {
        let Some(origin) = self.origin else {
            return Ok(());
        };
        let (origin_scheme, origin_host) = split_origin(origin).ok_or(OriginError::Invalid)?;
        let scheme = match self.forwarded_proto {
            // Behind several proxies the first entry is the client's.
            Some(proto) => proto
                .split(',')
                .next()
                .unwrap_or_default()
                .trim()
                .to_ascii_lowercase(),
            None => origin_scheme,
        };
        if origin_host.is_empty() || scheme.is_empty() {
            return Err(OriginError::Invalid);
        }
        let host_matches = self
            .host
            .map(authority_host)
            .is_some_and(|h| h == origin_host);
        let allowed = self
            .allowed_origins
            .iter()
            .any(|a| a.eq_ignore_ascii_case(&origin_host));
        if !host_matches && !allowed {
            return Err(OriginError::HostMismatch);
        }
        let expected = split_scheme(self.access_url_base).unwrap_or_default();
        let scheme_ok = scheme == expected
            || (expected == "ws" && scheme == "http")
            || (expected == "wss" && scheme == "https");
        if !scheme_ok {
            return Err(OriginError::SchemeMismatch);
        }
        Ok(())
    }
}

/// The lower-cased scheme of a URL, if it has one.
fn split_scheme(url: &str) -> Option<String> {
    let (scheme, _) = url.split_once("://")?;
    let valid = scheme.starts_with(|c: char| c.is_ascii_alphabetic())
        && scheme
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "+-.".contains(c));
    valid.then(|| scheme.to_ascii_lowercase())
}

/// The lower-cased scheme and host of an Origin (`scheme://host[:port]`);
/// `None` when it has neither (`null`).
fn split_origin(origin: &str) -> Option<(String, String)> {
    let scheme = split_scheme(origin)?;
    let (_, rest) = origin.split_once("://")?;
    let authority = rest.split(['/', '?', '#']).next().unwrap_or_default();
    let authority = authority.rsplit_once('@').map_or(authority, |(_, a)| a);
    Some((scheme, authority_host(authority)))
}

/// The lower-cased host of `host[:port]` or `[v6]:port`, brackets removed.
fn authority_host(authority: &str) -> String {
    let authority = authority.trim();
    let host = match authority.strip_prefix('[') {
        Some(v6) => v6.split(']').next().unwrap_or_default(),
        None => authority.split(':').next().unwrap_or_default(),
    };
    host.to_ascii_lowercase()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check<'a>(origin: Option<&'a str>, host: Option<&'a str>, base: &'a str) -> OriginCheck<'a> {
        OriginCheck {
            origin,
            host,
            forwarded_proto: None,
            allowed_origins: &[],
            access_url_base: base,
        }
    }

    const NOVNC: &str = "http://127.0.0.1:6080/vnc_auto.html";
    const SERIAL: &str = "ws://127.0.0.1:6083/";

    #[test]
    fn no_origin_is_a_non_browser_client() {
        assert_eq!(check(None, None, NOVNC).verify(), Ok(()));
        assert_eq!(check(None, Some("h:6080"), NOVNC).verify(), Ok(()));
    }

    #[test]
    fn origin_needs_a_host_and_a_scheme() {
        for bad in ["null", "", "http://", "//h:6080", "h:6080", "1http://h"] {
            assert_eq!(
                check(Some(bad), Some("h:6080"), NOVNC).verify(),
                Err(OriginError::Invalid),
                "{bad}"
            );
        }
    }

    #[test]
    fn host_must_match_with_the_port_ignored() {
        assert_eq!(
            check(Some("http://h:6080"), Some("h:6080"), NOVNC).verify(),
            Ok(())
        );
        assert_eq!(
            check(Some("http://h"), Some("h:6080"), NOVNC).verify(),
            Ok(())
        );
        assert_eq!(check(Some("http://H:1"), Some("h"), NOVNC).verify(), Ok(()));
        assert_eq!(
            check(Some("http://[::1]:6080"), Some("[::1]:6080"), NOVNC).verify(),
            Ok(())
        );
        assert_eq!(
            check(Some("http://u@h/"), Some("h"), NOVNC).verify(),
            Ok(())
        );
        assert_eq!(
            check(Some("http://evil.example"), Some("h:6080"), NOVNC).verify(),
            Err(OriginError::HostMismatch)
        );
        assert_eq!(
            check(Some("http://h"), None, NOVNC).verify(),
            Err(OriginError::HostMismatch)
        );
    }

    #[test]
    fn allowed_origins_extend_the_host() {
        let allowed = vec!["dashboard.example".to_owned()];
        let mut c = check(
            Some("https://dashboard.example"),
            Some("proxy:6080"),
            "https://proxy:6080/",
        );
        c.allowed_origins = &allowed;
        assert_eq!(c.verify(), Ok(()));
        c.origin = Some("https://other.example");
        assert_eq!(c.verify(), Err(OriginError::HostMismatch));
    }

    #[test]
    fn scheme_must_match_the_base_url() {
        assert_eq!(
            check(Some("https://h"), Some("h"), NOVNC).verify(),
            Err(OriginError::SchemeMismatch)
        );
        assert_eq!(
            check(Some("https://h"), Some("h"), "https://h:6080/").verify(),
            Ok(())
        );
        assert_eq!(
            check(Some("http://h"), Some("h"), "https://h:6080/").verify(),
            Err(OriginError::SchemeMismatch)
        );
    }

    #[test]
    fn ws_counts_as_http_and_wss_as_https() {
        assert_eq!(check(Some("http://h"), Some("h"), SERIAL).verify(), Ok(()));
        assert_eq!(check(Some("ws://h"), Some("h"), SERIAL).verify(), Ok(()));
        assert_eq!(
            check(Some("https://h"), Some("h"), "wss://h:6083/").verify(),
            Ok(())
        );
        assert_eq!(
            check(Some("https://h"), Some("h"), SERIAL).verify(),
            Err(OriginError::SchemeMismatch)
        );
        assert_eq!(
            check(Some("http://h"), Some("h"), "wss://h/").verify(),
            Err(OriginError::SchemeMismatch)
        );
    }

    #[test]
    fn forwarded_proto_overrides_the_origin_scheme() {
        let mut c = check(Some("http://h"), Some("h"), "https://h:6080/");
        c.forwarded_proto = Some("https");
        assert_eq!(c.verify(), Ok(()));
        c.forwarded_proto = Some("HTTPS, http");
        assert_eq!(c.verify(), Ok(()));
        c.forwarded_proto = Some("http");
        assert_eq!(c.verify(), Err(OriginError::SchemeMismatch));
        c.forwarded_proto = Some("");
        assert_eq!(c.verify(), Err(OriginError::Invalid));
    }
}
