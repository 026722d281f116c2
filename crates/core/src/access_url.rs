//! Putting a token into an access URL.

use url::Url;

use crate::token::Token;

/// `base` with `token=<token>` in its query, replacing any `token` already
/// there and keeping every other parameter.
pub fn with_token_query(base: &Url, token: &Token) -> Url {
    with_query_param(base, "token", token.expose())
}

/// `base` with `name=value` in its query, replacing any parameter of that
/// name and keeping the others in order.
pub fn with_query_param(base: &Url, name: &str, value: &str) -> Url {
    if base.query().is_none() {
        // Nothing to keep: append without listing the pairs first.
        let mut url = base.clone();
        url.query_pairs_mut().append_pair(name, value);
        return url;
    }
    let kept: Vec<(String, String)> = base
        .query_pairs()
        .filter(|(k, _)| k != name)
        .map(|(k, v)| (k.into_owned(), v.into_owned()))
        .collect();
    let mut url = base.clone();
    {
        let mut query = url.query_pairs_mut();
        query.clear();
        query.extend_pairs(kept);
        query.append_pair(name, value);
    }
    url
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn appends_and_replaces() {
        let t = Token::new("abc-1");
        let u = with_token_query(&Url::parse("ws://127.0.0.1:6083/").unwrap(), &t);
        assert_eq!(u.as_str(), "ws://127.0.0.1:6083/?token=abc-1");
        let u = with_token_query(&Url::parse("http://h/c?lang=en&token=old").unwrap(), &t);
        assert_eq!(u.as_str(), "http://h/c?lang=en&token=abc-1");
        let u = with_token_query(&Url::parse("http://h/c#f").unwrap(), &Token::new("a b"));
        assert_eq!(u.as_str(), "http://h/c?token=a+b#f");
        let u = with_token_query(&Url::parse("http://h/c?").unwrap(), &t);
        assert_eq!(u.as_str(), "http://h/c?token=abc-1");
    }
}
