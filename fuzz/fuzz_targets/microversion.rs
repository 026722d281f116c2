//! The microversion a client asks for (`OpenStack-API-Version: compute
//! X.Y`'s value): any text parses to a version within range or an error,
//! never a panic.
#![no_main]

use consoled_core::Microversion;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let max = Microversion::new(2, 99);
    if let Ok(version) = Microversion::parse_requested(text, max) {
        let shown = version.to_string();
        assert_eq!(Microversion::parse_requested(&shown, max), Ok(version));
    }
});
