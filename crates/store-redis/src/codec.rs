//! Records as Redis holds them: JSON.

use consoled_core::{StoreError, TokenHash, TokenRecord};

/// The JSON text of a record.
pub fn encode(record: &TokenRecord) -> Result<String, StoreError> {
    serde_json::to_string(record).map_err(|e| {
        // Only a broken Serialize impl gets here; the record is ours.
        StoreError::Unavailable(format!(
            "cannot encode record {}: {}",
            record.token_hash.fingerprint(),
            describe(&e)
        ))
    })
}

/// The record stored under `hash`'s key.
///
/// A value that does not parse, or that names another hash than its key,
/// is [`StoreError::Corrupt`].
pub fn decode(hash: &TokenHash, bytes: &[u8]) -> Result<TokenRecord, StoreError> {
    let record: TokenRecord = serde_json::from_slice(bytes).map_err(|e| {
        StoreError::Corrupt(format!(
            "record {} does not parse: {}",
            hash.fingerprint(),
            describe(&e)
        ))
    })?;
    if record.token_hash != *hash {
        return Err(StoreError::Corrupt(format!(
            "record {} holds the hash {}",
            hash.fingerprint(),
            record.token_hash.fingerprint()
        )));
    }
    Ok(record)
}

/// Where and what kind of JSON error: serde_json's own message may quote
/// the offending value, which could be secret, so it is left out.
fn describe(e: &serde_json::Error) -> String {
    let kind = match e.classify() {
        serde_json::error::Category::Io => "i/o error",
        serde_json::error::Category::Syntax => "not JSON",
        serde_json::error::Category::Data => "not a token record",
        serde_json::error::Category::Eof => "truncated",
    };
    format!("{kind} at line {} column {}", e.line(), e.column())
}

#[cfg(test)]
mod tests {
    use consoled_core::{ConnectInfo, Token};

    use super::*;

    fn record(secret: &str) -> TokenRecord {
        TokenRecord {
            token_hash: Token::new(secret).hash(),
            protocol: "vnc".into(),
            console_type: "novnc".into(),
            instance_uuid: "server-1".into(),
            connect: ConnectInfo {
                host: "10.0.0.1".into(),
                port: 5900,
                tls_port: None,
                internal_access_path: None,
                unix_socket: None,
            },
            access_url_base: "http://127.0.0.1:6080/vnc_auto.html".into(),
            expires_at: 1_900_000_000,
            minted_by: None,
        }
    }

    #[test]
    fn round_trips_without_the_token() {
        let r = record("the-secret-token");
        let json = encode(&r).unwrap();
        assert!(!json.contains("the-secret-token"));
        assert!(json.contains(&r.token_hash.to_hex()));
        assert_eq!(decode(&r.token_hash, json.as_bytes()).unwrap(), r);
    }

    #[test]
    fn a_unix_socket_round_trips_and_older_records_have_none() {
        let mut r = record("socket-token");
        let json = encode(&r).unwrap();
        assert!(!json.contains("unix_socket"), "{json}");
        assert_eq!(
            decode(&r.token_hash, json.as_bytes())
                .unwrap()
                .connect
                .unix_socket,
            None
        );
        r.connect.unix_socket = Some("/run/libvirt/qemu/vnc-7.sock".into());
        let json = encode(&r).unwrap();
        assert_eq!(decode(&r.token_hash, json.as_bytes()).unwrap(), r);
    }

    #[test]
    fn garbage_is_corrupt_and_not_quoted() {
        let hash = Token::new("t").hash();
        for bad in [&b"not json"[..], b"{\"protocol\": \"leaky-value\"}", b"{"] {
            match decode(&hash, bad) {
                Err(StoreError::Corrupt(msg)) => {
                    assert!(!msg.contains("leaky"), "{msg}");
                    assert!(!msg.contains(&hash.to_hex()), "{msg}");
                    assert!(msg.contains(&hash.fingerprint()), "{msg}");
                }
                other => panic!("expected Corrupt, got {other:?}"),
            }
        }
    }

    #[test]
    fn a_record_under_another_hash_is_corrupt() {
        let r = record("one");
        let json = encode(&r).unwrap();
        let other = Token::new("two").hash();
        assert!(matches!(
            decode(&other, json.as_bytes()),
            Err(StoreError::Corrupt(_))
        ));
    }
}
