//! The reader of HTTP-shaped bytes that are not an HTTP server's: the
//! xvpvnc raw front's request line, and a backend's reply to `CONNECT`.
//! Any bytes give a head, an error or "not yet", never a panic; a head
//! lies within the input and the size limit and parses the same alone;
//! the stream readers agree with the pure parsers, and the exact reader
//! leaves every byte after the head in the stream.
#![no_main]

use consoled_core::http_head::{
    parse_request, parse_response, read_request, read_request_exactly, read_response, MAX_HEAD,
};
use libfuzzer_sys::fuzz_target;

#[path = "runtime.rs"]
mod runtime;
use runtime::runtime;

fuzz_target!(|data: &[u8]| {
    match parse_request(data) {
        Ok(Some((head, len))) => {
            assert!(len <= data.len() && len <= MAX_HEAD);
            assert_eq!(
                parse_request(&data[..len]).ok().flatten(),
                Some((head.clone(), len))
            );
            // What the raw front does with it next.
            if let Some(query) = head.query() {
                let _ = consoled_proxy::token_from_query(query);
            }
        }
        Ok(None) => assert!(data.len() < MAX_HEAD),
        Err(_) => {}
    }
    let response = parse_response(data);
    if let Ok(Some((head, len))) = &response {
        assert!(*len <= data.len() && *len <= MAX_HEAD);
        assert_eq!(
            parse_response(&data[..*len]).ok().flatten().map(|(h, _)| h),
            Some(head.clone())
        );
    }
    runtime().block_on(async {
        let mut rest = data;
        if let Ok(head) = read_response(&mut rest).await {
            let used = data.len() - rest.len();
            assert_eq!(
                parse_response(&data[..used]).ok().flatten(),
                Some((head, used))
            );
        }
        let mut rest = data;
        if let Ok(Some(head)) = read_request_exactly(&mut rest).await {
            let used = data.len() - rest.len();
            assert_eq!(
                parse_request(&data[..used]).ok().flatten(),
                Some((head, used))
            );
        }
        let mut stream = data;
        let mut buf = Vec::new();
        if let Ok(Some((head, len))) = read_request(&mut stream, &mut buf).await {
            assert!(data.starts_with(&buf));
            assert_eq!(parse_request(&buf).ok().flatten(), Some((head, len)));
        }
    });
});
