//! The audit trail, read back from `consoled serve`'s JSON log: who minted
//! a console, who opened it from where, how and when it ended, with how
//! many bytes; and never a token.

mod common;

use std::time::Duration;

use common::{console_url, free_port, temp_dir, Served, WEB};
use consoled_testkit::SerialEcho;
use futures_util::{SinkExt, StreamExt};
use serde_json::Value;
use tokio_tungstenite::tungstenite::Message;

fn events(log: &str) -> Vec<Value> {
    log.lines()
        .filter_map(|line| serde_json::from_str::<Value>(line).ok())
        .collect()
}

fn find<'a>(events: &'a [Value], message: &str) -> &'a Value {
    events
        .iter()
        .find(|e| e["message"] == message)
        .unwrap_or_else(|| panic!("no {message:?} event in {events:#?}"))
}

#[tokio::test]
async fn a_sessions_audit_events_name_who_what_where_and_how_it_ended() {
    let echo = SerialEcho::start().await.unwrap();
    let dir = temp_dir("audit");
    let serial_port = free_port();
    std::fs::write(
        dir.join("servers.toml"),
        format!(
            "[[servers]]\nid = \"{WEB}\"\nname = \"web-1\"\nproject_id = \"demo\"\nhost = \"compute-1\"\n\
             [servers.consoles.serial]\nhost = \"127.0.0.1\"\nport = {}\n",
            echo.addr().port()
        ),
    )
    .unwrap();
    let config = dir.join("consoled.toml");
    std::fs::write(
        &config,
        format!(
            "[api]\nlisten = \"127.0.0.1:0\"\n[log]\nformat = \"json\"\n\
             [consoles.serial]\nbase_url = \"ws://127.0.0.1:{serial_port}/\"\n\
             [backend]\ninventory = \"servers.toml\"\n\
             [proxy]\nnode_name = \"audit-node\"\ntrusted_proxies = [\"127.0.0.1\"]\n\
             [[proxy.listeners]]\nlisten = \"127.0.0.1:{serial_port}\"\ntypes = [\"serial\"]\n"
        ),
    )
    .unwrap();
    let served = Served::start(&config);

    let url = console_url(&served.url, "alice:demo", "serial", "serial").await;
    let token = url.rsplit("token=").next().unwrap().to_owned();

    let mut request =
        tokio_tungstenite::tungstenite::client::IntoClientRequest::into_client_request(
            url.as_str(),
        )
        .unwrap();
    request
        .headers_mut()
        .insert("x-forwarded-for", "198.51.100.23".parse().unwrap());
    let tcp = tokio::net::TcpStream::connect(("127.0.0.1", serial_port))
        .await
        .unwrap();
    let (mut ws, _) = tokio_tungstenite::client_async(request, tcp).await.unwrap();
    ws.send(Message::binary(b"hello console".to_vec()))
        .await
        .unwrap();
    let mut echoed = 0;
    while echoed < 13 {
        match tokio::time::timeout(Duration::from_secs(20), ws.next())
            .await
            .unwrap()
        {
            Some(Ok(Message::Binary(b))) => echoed += b.len(),
            Some(Ok(_)) => {}
            other => panic!("session ended: {other:?}"),
        }
    }
    ws.close(None).await.unwrap();
    while let Ok(Some(_)) = tokio::time::timeout(Duration::from_secs(20), ws.next()).await {}

    let deadline = std::time::Instant::now() + Duration::from_secs(30);
    while !served
        .log
        .lock()
        .unwrap()
        .contains("console session closed")
    {
        assert!(
            std::time::Instant::now() < deadline,
            "no session end logged"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
    let log = served.log.lock().unwrap().clone();
    let events = events(&log);
    assert!(!events.is_empty(), "the log is JSON: {log}");

    let created = find(&events, "console created");
    assert_eq!(created["user"], "alice");
    assert_eq!(created["project"], "demo");
    assert_eq!(created["instance"], WEB);
    assert_eq!(created["console_type"], "serial");
    assert!(created["expires_at"].as_u64().unwrap() > 1_700_000_000);
    let fingerprint = created["token"].as_str().unwrap();
    assert!(
        token.len() > fingerprint.len() * 2,
        "a fingerprint, not the token"
    );

    let open = find(&events, "console session open");
    let session = open["session"].as_str().unwrap();
    assert_eq!(open["node"], "audit-node");
    assert_eq!(
        open["client"], "198.51.100.23",
        "the trusted proxy's X-Forwarded-For"
    );
    assert_eq!(open["minted_by_user"], "alice");
    assert_eq!(open["token"], fingerprint);

    let closed = find(&events, "console session closed");
    assert_eq!(closed["session"], session);
    assert_eq!(closed["end"], "client_closed");
    assert_eq!(closed["to_backend"], 13);
    assert_eq!(closed["to_client"], 13);
    assert!(closed["seconds"].is_u64());

    assert!(!log.contains(&token), "a token in the log:\n{log}");
}
