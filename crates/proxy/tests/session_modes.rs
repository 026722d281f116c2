//! `[consoles.<type>] sessions`: a second session to the same console is
//! refused (exclusive) or takes over (takeover); shared serial viewers
//! share one connection to the console.

mod support;

use std::time::Duration;

use consoled_core::SessionMode;
use futures_util::{SinkExt, StreamExt};
use support::*;
use tokio::time::timeout;
use tokio_tungstenite::tungstenite::protocol::frame::coding::CloseCode;
use tokio_tungstenite::tungstenite::Message;

async fn echo(ws: &mut tokio_tungstenite::WebSocketStream<tokio::net::TcpStream>, data: &[u8]) {
    ws.send(Message::binary(data.to_vec())).await.unwrap();
    saw(ws, data).await;
}

#[tokio::test]
async fn exclusive_refuses_a_second_session_while_the_first_is_open() {
    let (proxy, echo_backend, target) = serial_console(
        ProxyBuilder::new()
            .listener(&["serial"])
            .sessions("serial", SessionMode::Exclusive),
    )
    .await;
    let (mut first, _) = ws_connect(proxy.addr(0), &target, &[]).await.unwrap();
    echo(&mut first, b"mine").await;
    let response = exchange(proxy.addr(0), &upgrade_request(proxy.addr(0), &target, "")).await;
    assert_empty_refusal(&response, 503);
    assert_eq!(
        echo_backend.connections(),
        1,
        "the second never reached the console"
    );
    drop(first);
    let mut next = None;
    for _ in 0..100 {
        if let Ok((ws, _)) = ws_connect(proxy.addr(0), &target, &[]).await {
            next = Some(ws);
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    echo(
        &mut next.expect("free again once the first ended"),
        b"yours",
    )
    .await;
}

#[tokio::test]
async fn takeover_closes_the_first_session_with_4001() {
    let (proxy, _echo, target) = serial_console(
        ProxyBuilder::new()
            .listener(&["serial"])
            .sessions("serial", SessionMode::Takeover),
    )
    .await;
    let (mut first, _) = ws_connect(proxy.addr(0), &target, &[]).await.unwrap();
    echo(&mut first, b"first").await;
    // Listed once its node has published it.
    let directory = proxy.dispatcher.revoker().directory().clone();
    for _ in 0..200 {
        if !directory.list().await.unwrap().is_empty() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    let (mut second, _) = ws_connect(proxy.addr(0), &target, &[]).await.unwrap();
    let closed = loop {
        match timeout(LIMIT, first.next()).await.expect("closed in time") {
            Some(Ok(Message::Close(Some(frame)))) => break frame,
            Some(Ok(Message::Ping(_) | Message::Pong(_))) => {}
            other => panic!("expected a close frame, got {other:?}"),
        }
    };
    assert_eq!(closed.code, CloseCode::from(4001));
    assert_eq!(closed.reason, "taken over");
    echo(&mut second, b"second").await;
}

/// A serial port as QEMU serves one: it takes one client, then no other,
/// and echoes what it gets.
async fn one_client_echo() -> std::net::SocketAddr {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        let (mut stream, _) = listener.accept().await.unwrap();
        let (mut r, mut w) = stream.split();
        let _ = tokio::io::copy(&mut r, &mut w).await;
    });
    addr
}

#[tokio::test]
async fn shared_serial_viewers_see_one_console_and_either_can_type() {
    let proxy = ProxyBuilder::new().listener(&["serial"]).start().await;
    let port = one_client_echo().await.port();
    let server = consoled_testkit::ServerBuilder::new(server_id(1), "vm").serial("127.0.0.1", port);
    let target = console_target(&proxy.mint(server, "serial", "serial").await);
    let (mut first, _) = ws_connect(proxy.addr(0), &target, &[]).await.unwrap();
    let (mut second, _) = ws_connect(proxy.addr(0), &target, &[]).await.unwrap();
    // Typed by the first: the one console echoes it to both.
    echo(&mut first, b"root\n").await;
    saw(&mut second, b"root\n").await;
    // Typed by the second, through the same connection.
    echo(&mut second, b"ls\n").await;
    saw(&mut first, b"ls\n").await;
}

/// Reads `data` and nothing else.
async fn saw(ws: &mut tokio_tungstenite::WebSocketStream<tokio::net::TcpStream>, data: &[u8]) {
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
