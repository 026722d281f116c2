//! Putting the token where noVNC looks for it: inside its `path` parameter.
//!
//! noVNC opens its WebSocket on the value of its `path` query parameter
//! (1.1+ dropped the top-level `token` parameter), so the token must ride
//! inside that value: `?path=%3Ftoken%3D<token>`, and the proxy then sees
//! `/?token=<token>` on the upgrade request.

use consoled_core::{Token, Url};
use url::form_urlencoded;

const PATH: &str = "path";

/// `path=` and `?token=` form-encoded: what precedes the token in a query
/// that had none.
const PATH_WITH_TOKEN: &str = "path=%3Ftoken%3D";

/// The bytes `application/x-www-form-urlencoded` writes as themselves.
fn form_encoding_keeps(byte: u8) -> bool {
    byte.is_ascii_alphanumeric() || matches!(byte, b'*' | b'-' | b'.' | b'_')
}

/// `base` with `token` added to the query inside its `path` parameter.
///
/// With no `path` parameter, one is appended holding `?token=<token>`.
/// With one, its value P becomes P plus `?token=<token>`, or plus
/// `&token=<token>` when P already has a query (any `token` already inside P
/// is replaced). Every other parameter of `base` is kept, in order.
pub fn with_token_in_path(base: &Url, token: &Token) -> Url {
    if base.query().is_none() {
        // What a console URL almost always is: one `path` parameter to
        // append, written in place rather than through a list of pairs.
        // Its value `?token=<token>` is form-encoded inside a form-encoded
        // query, so the token is encoded twice; a token of bytes that form
        // encoding keeps (a UUID is) comes out of both as it went in.
        let token = token.expose();
        let mut query = String::with_capacity(PATH_WITH_TOKEN.len() + token.len());
        query.push_str(PATH_WITH_TOKEN);
        if token.bytes().all(form_encoding_keeps) {
            query.push_str(token);
        } else {
            let once: String = form_urlencoded::byte_serialize(token.as_bytes()).collect();
            query.extend(form_urlencoded::byte_serialize(once.as_bytes()));
        }
        let mut url = base.clone();
        url.set_query(Some(&query));
        return url;
    }
    with_token_in_pairs(base, token)
}

/// [`with_token_in_path`] for a base that has a query: its pairs parsed,
/// the `path` one extended or added, all written back.
fn with_token_in_pairs(base: &Url, token: &Token) -> Url {
    let mut pairs: Vec<(String, String)> = base
        .query_pairs()
        .map(|(k, v)| (k.into_owned(), v.into_owned()))
        .collect();
    match pairs.iter().position(|(k, _)| k == PATH) {
        Some(at) => {
            pairs[at].1 = path_with_token(&pairs[at].1, token);
            // A second `path` would leave noVNC to pick one; keep only ours.
            let mut seen = false;
            pairs.retain(|(k, _)| k != PATH || !std::mem::replace(&mut seen, true));
        }
        None => pairs.push((PATH.to_owned(), path_with_token("", token))),
    }
    let mut url = base.clone();
    url.query_pairs_mut().clear().extend_pairs(pairs);
    url
}

/// `path` with `token=<token>` in its own query.
fn path_with_token(path: &str, token: &Token) -> String {
    let encoded: String = form_urlencoded::byte_serialize(token.expose().as_bytes()).collect();
    let (location, query) = match path.split_once('?') {
        Some((location, query)) => (location, query),
        None => (path, ""),
    };
    let mut kept: Vec<&str> = query
        .split('&')
        .filter(|part| !part.is_empty())
        .filter(|part| part.split('=').next() != Some("token"))
        .collect();
    let token_part = format!("token={encoded}");
    kept.push(&token_part);
    format!("{location}?{}", kept.join("&"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn url(base: &str, token: &str) -> String {
        with_token_in_path(&Url::parse(base).unwrap(), &Token::new(token)).to_string()
    }

    #[test]
    fn plain_base_gets_a_path_parameter() {
        assert_eq!(
            url("http://h:6080/vnc_lite.html", "abc-1"),
            "http://h:6080/vnc_lite.html?path=%3Ftoken%3Dabc-1"
        );
    }

    #[test]
    fn other_parameters_are_kept_in_order() {
        assert_eq!(
            url("http://h:6080/vnc.html?lang=en&autoconnect=true", "t"),
            "http://h:6080/vnc.html?lang=en&autoconnect=true&path=%3Ftoken%3Dt"
        );
    }

    #[test]
    fn existing_path_is_extended() {
        assert_eq!(
            url("http://h/vnc.html?path=websockify&x=1", "t"),
            "http://h/vnc.html?path=websockify%3Ftoken%3Dt&x=1"
        );
        assert_eq!(
            url("http://h/vnc.html?path=websockify%3Fa%3D1", "t"),
            "http://h/vnc.html?path=websockify%3Fa%3D1%26token%3Dt"
        );
    }

    #[test]
    fn token_inside_path_is_replaced() {
        let out = url("http://h/vnc.html?path=ws%3Ftoken%3Dold%26a%3D1", "new");
        assert_eq!(out, "http://h/vnc.html?path=ws%3Fa%3D1%26token%3Dnew");
        assert!(!out.contains("old"));
    }

    #[test]
    fn duplicate_path_parameters_collapse_to_one() {
        let out = url("http://h/vnc.html?path=a&path=b", "t");
        assert_eq!(out, "http://h/vnc.html?path=a%3Ftoken%3Dt");
    }

    #[test]
    fn fragment_and_ipv6_host_survive() {
        assert_eq!(
            url("https://[::1]:8443/vnc.html#top", "t"),
            "https://[::1]:8443/vnc.html?path=%3Ftoken%3Dt#top"
        );
    }

    #[test]
    fn a_plain_base_reads_as_the_general_way_writes_it() {
        for base in [
            "http://h:6080/vnc_lite.html",
            "https://[::1]:8443/v.html#top",
            "ws://h/",
        ] {
            for token in ["abc-1", "a b&c", "%?=+/é", "3f1c-9A_b.c*", ""] {
                let (base, token) = (Url::parse(base).unwrap(), Token::new(token));
                assert_eq!(
                    with_token_in_path(&base, &token),
                    with_token_in_pairs(&base, &token),
                    "{base}"
                );
            }
        }
    }

    #[test]
    fn token_is_form_encoded_inside_path() {
        let out = Url::parse(&url("http://h/vnc.html", "a b&c")).unwrap();
        let path: String = out
            .query_pairs()
            .find(|(k, _)| k == "path")
            .unwrap()
            .1
            .into_owned();
        assert_eq!(path, "?token=a+b%26c");
    }
}
