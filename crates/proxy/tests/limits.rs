//! Session limits and the proxy's lifecycle: session cap, idle timeout,
//! token expiry, keepalive pings, frame size, graceful shutdown.

mod support;

use std::time::Duration;

use consoled_testkit::{FixedClock, SerialEcho, ServerBuilder};
use futures_util::{SinkExt, StreamExt};
use support::*;
use tokio::net::TcpStream;
use tokio::time::timeout;
use tokio_tungstenite::tungstenite::protocol::frame::coding::CloseCode;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::WebSocketStream;

type Ws = WebSocketStream<TcpStream>;

async fn serial_proxy(builder: ProxyBuilder) -> (Proxy, SerialEcho, String) {
    serial_console(builder.listener(&["serial"])).await
}

async fn echo_once(ws: &mut Ws, data: &[u8]) {
    ws.send(Message::binary(data.to_vec())).await.unwrap();
    saw(ws, data).await;
}

/// Reads `data` from the console, and nothing else.
async fn saw(ws: &mut Ws, data: &[u8]) {
    let mut got = Vec::new();
    while got.len() < data.len() {
        match timeout(LIMIT, ws.next()).await.unwrap().unwrap().unwrap() {
            Message::Binary(b) => got.extend_from_slice(&b),
            Message::Ping(_) | Message::Pong(_) => {}
            other => panic!("unexpected {other:?}"),
        }
    }
    assert_eq!(got, data);
}

/// Reads until the close frame, skipping pings, and returns it.
async fn close_frame(ws: &mut Ws) -> (CloseCode, String) {
    loop {
        match timeout(LIMIT, ws.next()).await.expect("closed in time") {
            Some(Ok(Message::Close(Some(frame)))) => return (frame.code, frame.reason.to_string()),
            Some(Ok(Message::Ping(_) | Message::Pong(_))) => {}
            other => panic!("expected a close frame, got {other:?}"),
        }
    }
}

#[tokio::test]
async fn sessions_beyond_the_cap_get_503() {
    let (proxy, echo, target) =
        serial_proxy(ProxyBuilder::new().settings(|s| s.max_sessions = 1)).await;
    let (mut first, _) = ws_connect(proxy.addr(0), &target, &[])
        .await
        .expect("first session");
    echo_once(&mut first, b"1").await;
    let response = exchange(proxy.addr(0), &upgrade_request(proxy.addr(0), &target, "")).await;
    assert_empty_refusal(&response, 503);
    assert!(split_response(&response).0.contains("Retry-After: "));
    assert_eq!(echo.connections(), 1);
    // Health checks are not sessions.
    let health = exchange(
        proxy.addr(0),
        "GET /healthz HTTP/1.1\r\nConnection: close\r\n\r\n",
    )
    .await;
    assert_eq!(status_of(&health), 200);
    // Once the first session ends its slot is free again.
    first.close(None).await.unwrap();
    while timeout(LIMIT, first.next()).await.unwrap().is_some() {}
    let mut next = None;
    for _ in 0..100 {
        if let Ok((ws, _)) = ws_connect(proxy.addr(0), &target, &[]).await {
            next = Some(ws);
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    echo_once(&mut next.expect("a session after the first ended"), b"2").await;
}

#[tokio::test]
async fn revoking_a_server_closes_its_sessions_and_refuses_its_token() {
    let (proxy, echo, target) = serial_proxy(ProxyBuilder::new()).await;
    let other_echo = SerialEcho::start().await.unwrap();
    let other =
        ServerBuilder::new(server_id(2), "other").serial("127.0.0.1", other_echo.addr().port());
    let other_target = console_target(&proxy.mint(other, "serial", "serial").await);
    let (mut ws, _) = ws_connect(proxy.addr(0), &target, &[]).await.unwrap();
    let (mut kept, _) = ws_connect(proxy.addr(0), &other_target, &[]).await.unwrap();
    echo_once(&mut ws, b"before").await;
    let voided = proxy
        .dispatcher
        .revoker()
        .revoke_server(&server_id(1))
        .await
        .unwrap();
    assert_eq!(voided, 1);
    let (code, reason) = close_frame(&mut ws).await;
    assert_eq!(
        (code, reason.as_str()),
        (CloseCode::Away, "console revoked")
    );
    let response = exchange(proxy.addr(0), &upgrade_request(proxy.addr(0), &target, "")).await;
    assert_empty_refusal(&response, 403);
    assert_eq!(echo.connections(), 1);
    echo_once(&mut kept, b"another server's session goes on").await;
}

/// The session directory's list, once it holds `want` sessions.
async fn listed(proxy: &Proxy, want: usize) -> Vec<consoled_core::sessions::SessionInfo> {
    let directory = proxy.dispatcher.revoker().directory().clone();
    for _ in 0..500 {
        let now = directory.list().await.unwrap();
        if now.len() == want {
            return now;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    panic!("the list never held {want} sessions");
}

#[tokio::test]
async fn sessions_are_listed_and_an_operator_cuts_one_alone() {
    let (proxy, _echo, target) = serial_proxy(ProxyBuilder::new().settings(|s| {
        s.trusted_proxies = vec!["127.0.0.1".into()];
        s.node_name = Some("proxy-a".into());
    }))
    .await;
    let forwarded = [("X-Forwarded-For", "198.51.100.7")];
    let (mut first, _) = ws_connect(proxy.addr(0), &target, &forwarded)
        .await
        .unwrap();
    let (mut second, _) = ws_connect(proxy.addr(0), &target, &[]).await.unwrap();
    echo_once(&mut first, b"1").await;
    // One serial console, shared: the second viewer sees it too.
    saw(&mut second, b"1").await;
    let sessions = listed(&proxy, 2).await;
    assert!(sessions
        .iter()
        .all(|s| s.node == "proxy-a" && s.instance_uuid == server_id(1)));
    let via_proxy = sessions
        .iter()
        .find(|s| s.client == "198.51.100.7")
        .expect("a trusted proxy's X-Forwarded-For names the client");
    assert!(
        sessions.iter().any(|s| s.client.starts_with("127.0.0.1:")),
        "{sessions:?}"
    );
    proxy
        .dispatcher
        .revoker()
        .cut_session(&via_proxy.id)
        .await
        .unwrap();
    let (code, reason) = close_frame(&mut first).await;
    assert_eq!(
        (code, reason.as_str()),
        (CloseCode::Away, "console revoked")
    );
    // The client goes.
    drop(first);
    echo_once(&mut second, b"the other session goes on").await;
    assert_eq!(
        listed(&proxy, 1).await[0].client.split(':').next(),
        Some("127.0.0.1")
    );
    // Its token was not revoked: the console opens again.
    let (mut again, _) = ws_connect(proxy.addr(0), &target, &[]).await.unwrap();
    echo_once(&mut again, b"3").await;
}

#[tokio::test]
async fn idle_sessions_are_closed() {
    let builder = ProxyBuilder::new().settings(|s| {
        s.idle_timeout = Some(Duration::from_millis(300));
        s.keepalive_interval = None;
    });
    let (proxy, _echo, target) = serial_proxy(builder).await;
    let (mut ws, _) = ws_connect(proxy.addr(0), &target, &[]).await.unwrap();
    echo_once(&mut ws, b"typed").await;
    assert_eq!(
        close_frame(&mut ws).await,
        (CloseCode::Normal, "idle timeout".to_owned())
    );
}

#[tokio::test]
async fn enforce_session_timeout_closes_at_token_expiry() {
    // The token lives 1 s on the dispatcher's (fixed) clock.
    let clock = FixedClock::at(1_700_000_000);
    let builder = ProxyBuilder::new()
        .clock(clock)
        .token_ttl(Duration::from_secs(1))
        .settings(|s| s.enforce_session_timeout = true);
    let (proxy, _echo, target) = serial_proxy(builder).await;
    let (mut ws, _) = ws_connect(proxy.addr(0), &target, &[]).await.unwrap();
    echo_once(&mut ws, b"still here").await;
    assert_eq!(
        close_frame(&mut ws).await,
        (CloseCode::Normal, "session expired".to_owned())
    );
}

#[tokio::test]
async fn a_token_that_expires_beyond_the_clock_s_range_still_relays() {
    // A record from a shared store may carry an expiry no Instant can hold
    // (a huge TTL on another node); the session must treat it as never.
    let clock = FixedClock::at(1_700_000_000);
    let builder = ProxyBuilder::new()
        .clock(clock)
        .token_ttl(Duration::from_secs(u64::MAX - 1_700_000_000))
        .settings(|s| s.enforce_session_timeout = true);
    let (proxy, _echo, target) = serial_proxy(builder).await;
    let (mut ws, _) = ws_connect(proxy.addr(0), &target, &[]).await.unwrap();
    echo_once(&mut ws, b"far future").await;
}

#[tokio::test]
async fn keepalive_pings_the_client() {
    let builder =
        ProxyBuilder::new().settings(|s| s.keepalive_interval = Some(Duration::from_millis(100)));
    let (proxy, _echo, target) = serial_proxy(builder).await;
    let (mut ws, _) = ws_connect(proxy.addr(0), &target, &[]).await.unwrap();
    // Reading answers each ping, so the session stays up across several.
    for _ in 0..3 {
        match timeout(LIMIT, ws.next()).await.unwrap().unwrap().unwrap() {
            Message::Ping(_) => {}
            other => panic!("expected a ping, got {other:?}"),
        }
    }
    echo_once(&mut ws, b"alive").await;
}

#[tokio::test]
async fn a_client_that_never_answers_pings_is_dropped() {
    let builder =
        ProxyBuilder::new().settings(|s| s.keepalive_interval = Some(Duration::from_millis(100)));
    let (proxy, _echo, target) = serial_proxy(builder).await;
    // A hand-written client that upgrades and then never reads or pongs.
    let request = upgrade_request(proxy.addr(0), &target, "");
    let mut tcp = TcpStream::connect(proxy.addr(0)).await.unwrap();
    tokio::io::AsyncWriteExt::write_all(&mut tcp, request.as_bytes())
        .await
        .unwrap();
    tokio::time::sleep(Duration::from_millis(500)).await;
    // Everything the proxy sent (101, pings) and then the end of it.
    let mut all = Vec::new();
    timeout(
        LIMIT,
        tokio::io::AsyncReadExt::read_to_end(&mut tcp, &mut all),
    )
    .await
    .expect("the proxy dropped the dead client")
    .unwrap();
    let (head, frames) = split_response(&all);
    assert!(head.starts_with("HTTP/1.1 101 "), "{head}");
    assert_eq!(frames.first(), Some(&0x89), "a ping frame first");
}

#[tokio::test]
async fn oversized_client_frames_close_with_1009() {
    let (proxy, echo, target) =
        serial_proxy(ProxyBuilder::new().settings(|s| s.max_frame_size = 1024)).await;
    let (mut ws, _) = ws_connect(proxy.addr(0), &target, &[]).await.unwrap();
    echo_once(&mut ws, &[1u8; 1024]).await;
    let _ = ws.send(Message::binary(vec![2u8; 4096])).await;
    assert_eq!(
        close_frame(&mut ws).await,
        (CloseCode::Size, "frame too large".to_owned())
    );
    assert_eq!(echo.connections(), 1);
}

#[tokio::test]
async fn shutdown_lets_open_sessions_finish() {
    let builder = ProxyBuilder::new().settings(|s| s.shutdown_grace = Duration::from_secs(3600));
    let (mut proxy, _echo, target) = serial_proxy(builder).await;
    let addr = proxy.addr(0);
    let (mut ws, _) = ws_connect(addr, &target, &[]).await.unwrap();
    proxy.begin_shutdown();
    // New connections are refused once the listener has stopped.
    let mut refused = false;
    for _ in 0..100 {
        if TcpStream::connect(addr).await.is_err() {
            refused = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert!(refused, "the listener kept accepting after shutdown");
    // The open session carries on, and when it ends the proxy stops
    // without waiting out the hour of grace.
    echo_once(&mut ws, b"still relaying").await;
    ws.close(None).await.unwrap();
    while timeout(LIMIT, ws.next()).await.unwrap().is_some() {}
    proxy.shutdown().await.expect("clean shutdown");
}

#[tokio::test]
async fn shutdown_closes_sessions_after_the_grace_period() {
    let builder = ProxyBuilder::new().settings(|s| s.shutdown_grace = Duration::from_millis(200));
    let (mut proxy, _echo, target) = serial_proxy(builder).await;
    let (mut ws, _) = ws_connect(proxy.addr(0), &target, &[]).await.unwrap();
    echo_once(&mut ws, b"x").await;
    proxy.begin_shutdown();
    assert_eq!(
        close_frame(&mut ws).await,
        (CloseCode::Away, "proxy shutting down".to_owned())
    );
    while timeout(LIMIT, ws.next()).await.unwrap().is_some() {}
    proxy.shutdown().await.expect("clean shutdown");
}
