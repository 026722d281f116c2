//! Access URL shape and token placement against odd base URLs.

use consoled_core::{Token, Url};
use url::form_urlencoded;

use super::subject::{Subject, TOKEN};

const CHECK: &str = "access_url";

/// Base URLs an operator may configure, each odd in its own way.
const BASES: &[&str] = &[
    "http://127.0.0.1:6080/vnc_lite.html",
    "http://console.example.test/",
    "http://console.example.test",
    "https://console.example.test:8443/a/b/?lang=en&scale=true",
    "http://console.example.test/c?token=stale&lang=en",
    "http://console.example.test/vnc_lite.html?path=websockify&title=vm%201",
    "http://console.example.test/vnc.html?path=websockify%3Fmode%3Dx%26token%3Dstale",
    "http://[2001:db8::1]:6080/console",
    "http://[::1]/",
    "ws://127.0.0.1:6083/",
    "wss://proxy.example.test:7443/serial?x=1",
    "https://console.example.test:8443/view#fragment",
    "http://console.example.test/p?empty=&same=1&same=2&enc=a%26b",
];

pub(super) fn check(subject: &Subject) {
    let token = Token::new(TOKEN);
    let default = subject.descriptor.default_base_url;
    for base in std::iter::once(default).chain(BASES.iter().copied()) {
        let Ok(base_url) = Url::parse(base) else {
            continue;
        };
        let url = match subject.driver.access_url(&base_url, &token) {
            Ok(url) => url,
            Err(e) => subject.fail(CHECK, format!("base {base:?} refused: {e}")),
        };
        let shown = url.as_str().replace(TOKEN, "<token>");
        let fail = |why: String| -> ! {
            subject.fail(CHECK, format!("base {base:?} gave {shown:?}: {why}"))
        };
        let count = url.as_str().matches(TOKEN).count();
        if count != 1 {
            fail(format!("the token appears {count} times, expected once"));
        }
        if (
            url.scheme(),
            url.host_str(),
            url.port(),
            url.path(),
            url.fragment(),
        ) != (
            base_url.scheme(),
            base_url.host_str(),
            base_url.port(),
            base_url.path(),
            base_url.fragment(),
        ) {
            fail("scheme, host, port, path or fragment changed".into());
        }
        let placement = if subject.descriptor.console_type == "novnc" {
            check_novnc(&base_url, &url)
        } else {
            check_token_param(&base_url, &url)
        };
        if let Err(why) = placement {
            fail(why);
        }
    }
}

fn pairs(url: &Url) -> Vec<(String, String)> {
    url.query_pairs()
        .map(|(k, v)| (k.into_owned(), v.into_owned()))
        .collect()
}

/// The pairs not named `name`, sorted: what must survive unchanged.
fn others(pairs: &[(String, String)], name: &str) -> Vec<(String, String)> {
    let mut kept: Vec<_> = pairs.iter().filter(|(k, _)| k != name).cloned().collect();
    kept.sort();
    kept
}

/// Every type but novnc: `token=<token>` in the query, once, replacing any
/// stale one.
fn check_token_param(base: &Url, url: &Url) -> Result<(), String> {
    let got = pairs(url);
    let tokens: Vec<_> = got
        .iter()
        .filter(|(k, _)| k == "token")
        .map(|(_, v)| v)
        .collect();
    if tokens.len() != 1 || tokens[0] != TOKEN {
        return Err(format!(
            "expected exactly one `token` query parameter holding the token, found {}",
            tokens.len()
        ));
    }
    if others(&got, "token") != others(&pairs(base), "token") {
        return Err("the base URL's other query parameters were not all kept".into());
    }
    Ok(())
}

/// novnc: the token inside noVNC's `path` parameter, merged with a `path`
/// the base already has; every other parameter kept.
fn check_novnc(base: &Url, url: &Url) -> Result<(), String> {
    let got = pairs(url);
    let paths: Vec<_> = got
        .iter()
        .filter(|(k, _)| k == "path")
        .map(|(_, v)| v)
        .collect();
    let [path] = paths.as_slice() else {
        return Err(format!(
            "expected exactly one `path` query parameter, found {}",
            paths.len()
        ));
    };
    if others(&got, "path") != others(&pairs(base), "path") {
        return Err("the base URL's other query parameters were not all kept".into());
    }
    let base_path = pairs(base)
        .into_iter()
        .find(|(k, _)| k == "path")
        .map(|(_, v)| v);
    let (base_location, base_query) = split_path(base_path.as_deref().unwrap_or(""));
    let (location, query) = split_path(path);
    if location != base_location {
        return Err(format!(
            "noVNC's path location became {location:?}, the base had {base_location:?}"
        ));
    }
    let inner: Vec<(String, String)> = form_urlencoded::parse(query.as_bytes())
        .into_owned()
        .collect();
    let tokens: Vec<_> = inner
        .iter()
        .filter(|(k, _)| k == "token")
        .map(|(_, v)| v)
        .collect();
    if tokens.len() != 1 || tokens[0] != TOKEN {
        return Err("noVNC's path parameter must carry exactly one `token=<token>`".into());
    }
    let base_inner: Vec<(String, String)> = form_urlencoded::parse(base_query.as_bytes())
        .into_owned()
        .collect();
    if others(&inner, "token") != others(&base_inner, "token") {
        return Err("the query inside the base's `path` parameter was not kept".into());
    }
    Ok(())
}

fn split_path(path: &str) -> (&str, &str) {
    path.split_once('?').unwrap_or((path, ""))
}
