//! Console URLs as their clients read them: noVNC's `path` parameter, the
//! token, the WebSocket URL a page opens.

use url::Url;

/// The `token` a console URL carries, wherever its client finds it: in
/// noVNC's `path` parameter (`?path=%3Ftoken%3D<t>`) or in the query.
///
/// # Panics
/// When the URL carries none.
pub fn token_of(console_url: &str) -> String {
    let url = Url::parse(console_url).expect("a console URL");
    let from_query = |url: &Url| {
        url.query_pairs()
            .find(|(k, _)| k == "token")
            .map(|(_, v)| v.into_owned())
    };
    if let Some(token) = from_query(&url) {
        return token;
    }
    let path = novnc_path(&url).expect("the console URL has a token or a path parameter");
    let inner = Url::parse("ws://inner/")
        .and_then(|base| base.join(&path))
        .expect("noVNC's path is a relative URL");
    from_query(&inner).expect("noVNC's path parameter carries the token")
}

/// The WebSocket URL noVNC opens for a novnc console URL: the page's own
/// host and port, then `/` and the `path` parameter.
///
/// # Panics
/// When the URL has no `path` parameter.
pub fn novnc_websocket_url(console_url: &str) -> String {
    let url = Url::parse(console_url).expect("a console URL");
    let path = novnc_path(&url).expect("a novnc URL has a path parameter");
    let host = url.host_str().expect("the URL names a host");
    let port = url.port_or_known_default().expect("the URL has a port");
    let scheme = if url.scheme() == "https" { "wss" } else { "ws" };
    format!("{scheme}://{host}:{port}/{}", path.trim_start_matches('/'))
}

fn novnc_path(url: &Url) -> Option<String> {
    url.query_pairs()
        .find(|(k, _)| k == "path")
        .map(|(_, v)| v.into_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn novnc_urls_yield_their_token_and_websocket() {
        let url = "http://127.0.0.1:6080/vnc.html?autoconnect=true&path=%3Ftoken%3Dabc-123";
        assert_eq!(token_of(url), "abc-123");
        assert_eq!(
            novnc_websocket_url(url),
            "ws://127.0.0.1:6080/?token=abc-123"
        );
    }

    #[test]
    fn serial_urls_yield_their_token() {
        assert_eq!(token_of("ws://127.0.0.1:6083/?token=x%2By"), "x+y");
    }

    #[test]
    #[should_panic(expected = "has a token")]
    fn a_url_without_a_token_is_refused() {
        token_of("http://127.0.0.1:6080/vnc_lite.html");
    }
}
