//! VMware authd's status lines, as the webmks driver reads them from a
//! host: each read takes at most one line, never more than `MAX_LINE`
//! bytes, and a status check never panics.
#![no_main]

use consoled_driver_mks::fuzzing::{expect_status, read_line, MAX_LINE};
use libfuzzer_sys::fuzz_target;

#[path = "runtime.rs"]
mod runtime;
use runtime::runtime;

fuzz_target!(|data: &[u8]| {
    runtime().block_on(async {
        let mut rest = data;
        while let Ok(line) = read_line(&mut rest).await {
            // The line ending is stripped, and one line is at most the cap
            // (lossy decoding may widen invalid bytes, never shorten them).
            assert!(!line.contains('\n'));
            assert!(line.len() <= MAX_LINE * 3);
            for code in ["220", "331", "230", "200"] {
                if let Ok(rest) = expect_status(&line, code) {
                    assert!(line.starts_with(code));
                    assert_eq!(rest, rest.trim());
                }
            }
        }
    });
});
