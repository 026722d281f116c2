//! Where a client puts its token: the `token` query parameter, else a
//! `token` cookie (noVNC and spice-html5 send it as a cookie), as Nova's
//! proxies look for it.

use http::header::COOKIE;
use http::Request;

/// The token of a request: the query's `token` first, then a `token`
/// cookie. Empty values count as absent.
pub fn token_from_request<B>(request: &Request<B>) -> Option<String> {
    request
        .uri()
        .query()
        .and_then(token_from_query)
        .or_else(|| {
            request
                .headers()
                .get_all(COOKIE)
                .iter()
                .filter_map(|v| v.to_str().ok())
                .find_map(token_from_cookie)
        })
}

/// The `token` parameter of a query string (form-decoded, as Python's
/// `parse_qs` decodes it). When it repeats, the last one wins, as in Nova.
pub fn token_from_query(query: &str) -> Option<String> {
    url::form_urlencoded::parse(query.as_bytes())
        .filter(|(k, _)| k == "token")
        .last()
        .map(|(_, v)| v.into_owned())
        .filter(|v| !v.is_empty())
}

/// The `token` cookie of a `Cookie` header value. Malformed pairs are
/// skipped rather than fatal, as Nova skips them.
pub fn token_from_cookie(header: &str) -> Option<String> {
    header
        .split(';')
        .filter_map(|pair| pair.trim().split_once('='))
        .filter(|(name, _)| name.trim() == "token")
        .map(|(_, value)| unquote(value.trim()))
        .find(|v| !v.is_empty())
        .map(str::to_owned)
}

fn unquote(value: &str) -> &str {
    value
        .strip_prefix('"')
        .and_then(|v| v.strip_suffix('"'))
        .unwrap_or(value)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn request(target: &str, cookies: &[&str]) -> Request<()> {
        let mut request = Request::builder().uri(target);
        for cookie in cookies {
            request = request.header(COOKIE, *cookie);
        }
        request.body(()).unwrap()
    }

    #[test]
    fn query_forms() {
        assert_eq!(token_from_query("token=abc").as_deref(), Some("abc"));
        assert_eq!(
            token_from_query("a=1&token=abc&b=2").as_deref(),
            Some("abc")
        );
        assert_eq!(token_from_query("token=a%2Db+c").as_deref(), Some("a-b c"));
        assert_eq!(
            token_from_query("token=one&token=two").as_deref(),
            Some("two")
        );
        assert_eq!(token_from_query("token=").as_deref(), None);
        assert_eq!(token_from_query("tokens=abc").as_deref(), None);
        assert_eq!(token_from_query("path=%3Ftoken%3Dabc").as_deref(), None);
        assert_eq!(token_from_query("").as_deref(), None);
    }

    #[test]
    fn cookie_forms() {
        assert_eq!(token_from_cookie("token=abc").as_deref(), Some("abc"));
        assert_eq!(
            token_from_cookie("a=1; token=abc; b=2").as_deref(),
            Some("abc")
        );
        assert_eq!(
            token_from_cookie("garbage; token=\"abc\"").as_deref(),
            Some("abc")
        );
        assert_eq!(token_from_cookie("xtoken=abc").as_deref(), None);
        assert_eq!(token_from_cookie("token=").as_deref(), None);
        assert_eq!(token_from_cookie(";;=;").as_deref(), None);
    }

    #[test]
    fn novnc_asks_for_the_root_with_the_token_in_the_query() {
        let h = request("/?token=t-1", &[]);
        assert_eq!(token_from_request(&h).as_deref(), Some("t-1"));
    }

    #[test]
    fn the_query_wins_over_the_cookie() {
        let h = request("/websockify?token=q", &["token=c"]);
        assert_eq!(token_from_request(&h).as_deref(), Some("q"));
    }

    #[test]
    fn spice_html5_sends_only_a_cookie() {
        let h = request("/", &["lang=en", "token=c-7; x=y"]);
        assert_eq!(token_from_request(&h).as_deref(), Some("c-7"));
        let h = request("/?token=", &["token=c"]);
        assert_eq!(token_from_request(&h).as_deref(), Some("c"));
    }

    #[test]
    fn no_token_anywhere() {
        let h = request("/vnc_auto.html?path=%3Ftoken%3Dabc", &["a=b"]);
        assert_eq!(token_from_request(&h), None);
    }
}
