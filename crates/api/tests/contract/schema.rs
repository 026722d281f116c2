//! API.md sections 2 and 5: the request schema and the body checks.

use reqwest::Method;
use serde_json::json;

use crate::harness::{Api, WEB};

async fn bad(api: &Api, version: &str, body: serde_json::Value) -> String {
    let r = api.remote_console(version, "demo:demo", WEB, body).await;
    r.fault(400, "badRequest")
}

#[tokio::test]
async fn additional_properties_are_refused_at_both_levels() {
    let api = Api::start().await;
    let m = bad(
        &api,
        "2.6",
        json!({"remote_console": {"protocol": "vnc", "type": "novnc"}, "x": 1}),
    )
    .await;
    assert_eq!(
        m,
        "Additional properties are not allowed ('x' was unexpected)"
    );
    let m = bad(
        &api,
        "2.6",
        json!({"remote_console": {"protocol": "vnc", "type": "novnc", "y": true}}),
    )
    .await;
    assert!(
        m.starts_with("Invalid input for field/attribute remote_console. Value: "),
        "{m}"
    );
    assert!(
        m.ends_with("Additional properties are not allowed ('y' was unexpected)"),
        "{m}"
    );
}

#[tokio::test]
async fn both_keys_are_required() {
    let api = Api::start().await;
    let m = bad(&api, "2.6", json!({})).await;
    assert_eq!(m, "'remote_console' is a required property");
    let m = bad(&api, "2.6", json!({"remote_console": {"protocol": "vnc"}})).await;
    assert!(m.ends_with("'type' is a required property"), "{m}");
    let m = bad(&api, "2.6", json!({"remote_console": {"type": "novnc"}})).await;
    assert!(m.ends_with("'protocol' is a required property"), "{m}");
}

#[tokio::test]
async fn wrong_json_types_are_refused() {
    let api = Api::start().await;
    for body in [json!([]), json!("vnc"), json!(null)] {
        assert!(bad(&api, "2.6", body)
            .await
            .contains("is not of type 'object'"));
    }
    let m = bad(&api, "2.6", json!({"remote_console": "vnc"})).await;
    assert!(m.contains("is not of type 'object'"), "{m}");
    let m = bad(
        &api,
        "2.6",
        json!({"remote_console": {"protocol": 1, "type": "novnc"}}),
    )
    .await;
    assert_eq!(
        m,
        "Invalid input for field/attribute protocol. Value: 1. 1 is not of type 'string'"
    );
    let m = bad(
        &api,
        "2.6",
        json!({"remote_console": {"protocol": "vnc", "type": ["novnc"]}}),
    )
    .await;
    assert!(m.contains("is not of type 'string'"), "{m}");
}

#[tokio::test]
async fn enums_are_checked_independently() {
    let api = Api::start().await;
    let m = bad(
        &api,
        "2.6",
        json!({"remote_console": {"protocol": "telnet", "type": "novnc"}}),
    )
    .await;
    assert_eq!(
        m,
        "Invalid input for field/attribute protocol. Value: telnet. \
         'telnet' is not one of ['rdp', 'serial', 'spice', 'vnc']"
    );
    let m = bad(
        &api,
        "2.6",
        json!({"remote_console": {"protocol": "vnc", "type": "vnc"}}),
    )
    .await;
    assert!(
        m.contains("'vnc' is not one of ['novnc', 'rdp-html5', 'serial', 'spice-html5', 'xvpvnc']"),
        "{m}"
    );
}

#[tokio::test]
async fn malformed_json_is_400() {
    let api = Api::start().await;
    for text in ["{\"remote_console\": ", "not json", ""] {
        let r = api
            .send(
                api.request(
                    Method::POST,
                    &format!("/v2.1/servers/{WEB}/remote-consoles"),
                )
                .header("openstack-api-version", "compute 2.6")
                .header("content-type", "application/json")
                .body(text),
            )
            .await;
        assert_eq!(
            r.fault(400, "badRequest"),
            "Malformed request body",
            "{text:?}"
        );
    }
}

#[tokio::test]
async fn non_json_media_type_is_415() {
    let api = Api::start().await;
    let r = api
        .send(
            api.request(
                Method::POST,
                &format!("/v2.1/servers/{WEB}/remote-consoles"),
            )
            .header("openstack-api-version", "compute 2.6")
            .header("content-type", "text/plain")
            .body(r#"{"remote_console": {"protocol": "vnc", "type": "novnc"}}"#),
        )
        .await;
    r.fault(415, "badMediaType");
}

#[tokio::test]
async fn json_without_content_type_is_accepted() {
    let api = Api::start().await;
    let r = api
        .send(
            api.request(
                Method::POST,
                &format!("/v2.1/servers/{WEB}/remote-consoles"),
            )
            .header("openstack-api-version", "compute 2.6")
            .body(r#"{"remote_console": {"protocol": "vnc", "type": "novnc"}}"#),
        )
        .await;
    assert_eq!(r.status, 200, "{:?}", r.json);
}

#[tokio::test]
async fn bodies_over_64_kib_are_413() {
    let api = Api::start().await;
    let padding = "x".repeat(64 * 1024);
    let body = json!({"remote_console": {"protocol": "vnc", "type": "novnc"}, "pad": padding});
    let r = api.remote_console("2.6", "demo:demo", WEB, body).await;
    r.fault(413, "overLimit");
    // Chunked, with no Content-Length to refuse it early.
    let (status, body) = chunked_post(&api, 80).await;
    assert_eq!(status, 413, "{body}");
    assert!(body.contains("overLimit"), "{body}");
}

/// POSTs `kib` KiB of spaces, chunked, over a raw socket.
async fn chunked_post(api: &Api, kib: usize) -> (u16, String) {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let addr = api.url.trim_start_matches("http://");
    let socket = tokio::net::TcpStream::connect(addr).await.unwrap();
    let head = format!(
        "POST /v2.1/servers/{WEB}/remote-consoles HTTP/1.1\r\nHost: {addr}\r\n\
         X-Auth-Token: demo:demo\r\nOpenStack-API-Version: compute 2.6\r\n\
         Content-Type: application/json\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n"
    );
    let (mut reader, mut writer) = socket.into_split();
    // Read while writing: the server answers as soon as the limit is
    // crossed, and may reset the connection once it closes.
    let send = tokio::spawn(async move {
        writer.write_all(head.as_bytes()).await?;
        let chunk = format!("400\r\n{}\r\n", " ".repeat(1024));
        for _ in 0..kib {
            writer.write_all(chunk.as_bytes()).await?;
        }
        writer.write_all(b"0\r\n\r\n").await
    });
    let mut reply = Vec::new();
    let mut buf = [0u8; 4096];
    let deadline = tokio::time::Instant::now() + std::time::Duration::from_secs(20);
    while !String::from_utf8_lossy(&reply).contains("}}") {
        match tokio::time::timeout_at(deadline, reader.read(&mut buf)).await {
            Ok(Ok(n)) if n > 0 => reply.extend_from_slice(&buf[..n]),
            _ => break,
        }
    }
    send.abort();
    let text = String::from_utf8_lossy(&reply).into_owned();
    let status = text.get(9..12).and_then(|s| s.parse().ok()).unwrap_or(0);
    (status, text)
}
