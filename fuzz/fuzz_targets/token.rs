//! The token a proxy reads from a query string or a `Cookie` header: any
//! bytes give a token or none, never a panic, and never an empty token.
#![no_main]

use consoled_proxy::{token_from_cookie, token_from_query};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    for token in [token_from_query(text), token_from_cookie(text)] {
        if let Some(token) = token {
            assert!(!token.is_empty());
        }
    }
});
