//! A token record as Redis hands it back: any bytes decode to a record or
//! a `Corrupt` error, never a panic, and a decoded record survives an
//! encode/decode round trip unchanged.
#![no_main]

use consoled_core::Token;
use consoled_store_redis::fuzzing::{decode, encode};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let hash = Token::new("fuzz").hash();
    if let Ok(record) = decode(&hash, data) {
        let text = encode(&record).expect("a decoded record encodes");
        let again = decode(&hash, text.as_bytes()).expect("an encoded record decodes");
        assert_eq!(again, record);
    }
    // A record that names another hash than its key is refused.
    let other = Token::new("other").hash();
    if let Ok(record) = decode(&other, data) {
        assert_eq!(record.token_hash, other);
    }
});
