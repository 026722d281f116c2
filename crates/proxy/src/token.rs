//! Where a client puts its token: the `token` query parameter, else a
//! `token` cookie (noVNC and spice-html5 send it as a cookie), as Nova's
//! proxies look for it.

use crate::http_head::RequestHead;

/// The token of a request: the query's `token` first, then a `token`
/// cookie. Empty values count as absent.
pub fn token_from_request(head: &RequestHead) -> Option<String> {
    head.query().and_then(token_from_query).or_else(|| {
        head.headers
            .iter()
            .filter(|(n, _)| n.eq_ignore_ascii_case("cookie"))
            .find_map(|(_, v)| token_from_cookie(v))
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
    use crate::http_head::parse_head;

    fn head(raw: &str) -> RequestHead {
        parse_head(raw.as_bytes()).unwrap().unwrap().0
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
        let h = head("GET /?token=t-1 HTTP/1.1\r\nHost: h\r\n\r\n");
        assert_eq!(token_from_request(&h).as_deref(), Some("t-1"));
    }

    #[test]
    fn the_query_wins_over_the_cookie() {
        let h = head("GET /websockify?token=q HTTP/1.1\r\nCookie: token=c\r\n\r\n");
        assert_eq!(token_from_request(&h).as_deref(), Some("q"));
    }

    #[test]
    fn spice_html5_sends_only_a_cookie() {
        let h = head("GET / HTTP/1.1\r\nCookie: lang=en\r\nCookie: token=c-7; x=y\r\n\r\n");
        assert_eq!(token_from_request(&h).as_deref(), Some("c-7"));
        let h = head("GET /?token= HTTP/1.1\r\nCookie: token=c\r\n\r\n");
        assert_eq!(token_from_request(&h).as_deref(), Some("c"));
    }

    #[test]
    fn no_token_anywhere() {
        let h = head("GET /vnc_auto.html?path=%3Ftoken%3Dabc HTTP/1.1\r\nCookie: a=b\r\n\r\n");
        assert_eq!(token_from_request(&h), None);
    }
}
