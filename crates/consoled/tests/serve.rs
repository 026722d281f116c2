//! `consoled serve` with the repository's examples: a console URL in one
//! request, and a drain on SIGTERM.

mod common;

use std::time::Duration;

use common::{example_config, temp_dir, Served, WEB};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

#[tokio::test]
async fn examples_serve_a_novnc_url() {
    let dir = temp_dir("examples");
    let mut served = Served::start(&example_config(&dir));
    let client = reqwest::Client::builder()
        .timeout(Duration::from_secs(30))
        .build()
        .unwrap();

    let r = client
        .post(format!("{}/v2.1/servers/{WEB}/remote-consoles", served.url))
        .header("x-auth-token", "demo:demo")
        .header("openstack-api-version", "compute 2.6")
        .json(&serde_json::json!({"remote_console": {"protocol": "vnc", "type": "novnc"}}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    assert_eq!(r.headers()["openstack-api-version"], "compute 2.6");
    let body: serde_json::Value = r.json().await.unwrap();
    let url = body["remote_console"]["url"].as_str().unwrap();
    assert!(
        url.starts_with("http://127.0.0.1:6080/vnc_auto.html?path=%3Ftoken%3D"),
        "{url}"
    );

    // The server without a host answers 409; another's project 404.
    let r = client
        .post(format!(
            "{}/v2.1/servers/5e0c8f55-3f0a-4d3c-9a41-7c2a4b1f9d10/action",
            served.url
        ))
        .header("x-auth-token", "demo:demo")
        .json(&serde_json::json!({"os-getVNCConsole": {"type": "novnc"}}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 409);
    let r = client
        .get(format!("{}/v2.1/servers/{WEB}", served.url))
        .header("x-auth-token", "alice:elsewhere")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 404);

    // The token never reaches the log.
    let token = url.rsplit("%3D").next().unwrap();
    served.terminate();
    assert_eq!(served.wait_exit().code(), Some(0));
    let log = served.log.lock().unwrap().clone();
    assert!(log.contains("request answered"), "{log}");
    assert!(!log.contains(token), "token in the log:\n{log}");
}

#[tokio::test]
async fn sigterm_drains_an_in_flight_request_then_exits_0() {
    let dir = temp_dir("drain");
    let mut served = Served::start(&example_config(&dir));
    let addr = served.url.trim_start_matches("http://").to_owned();
    let body = r#"{"remote_console": {"protocol": "serial", "type": "serial"}}"#;
    let mut socket = tokio::net::TcpStream::connect(&addr).await.unwrap();
    let head = format!(
        "POST /v2.1/servers/{WEB}/remote-consoles HTTP/1.1\r\nHost: {addr}\r\n\
         X-Auth-Token: demo:demo\r\nOpenStack-API-Version: compute 2.6\r\n\
         Content-Type: application/json\r\nContent-Length: {}\r\n\r\n",
        body.len()
    );
    // Headers and half the body: the request is in flight.
    let (first, rest) = body.split_at(10);
    socket.write_all(head.as_bytes()).await.unwrap();
    socket.write_all(first.as_bytes()).await.unwrap();
    tokio::time::sleep(Duration::from_millis(300)).await;
    served.terminate();
    // Still draining: the process waits for us.
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert!(
        served.child.try_wait().unwrap().is_none(),
        "exited before draining"
    );
    socket.write_all(rest.as_bytes()).await.unwrap();
    let mut reply = Vec::new();
    tokio::time::timeout(Duration::from_secs(30), socket.read_to_end(&mut reply))
        .await
        .expect("reply in time")
        .unwrap();
    let reply = String::from_utf8_lossy(&reply);
    assert!(reply.starts_with("HTTP/1.1 200"), "{reply}");
    assert!(reply.contains("ws://127.0.0.1:6083/?token="), "{reply}");
    assert_eq!(served.wait_exit().code(), Some(0));
    // And nothing listens any more.
    assert!(tokio::net::TcpStream::connect(&addr).await.is_err());
}
