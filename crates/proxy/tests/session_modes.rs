//! `[consoles.<type>] sessions`: a second session to the same console is
//! refused (exclusive) or takes over (takeover); shared lets both be.

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

#[tokio::test]
async fn shared_lets_both_sessions_be() {
    let (proxy, _echo, target) = serial_console(ProxyBuilder::new().listener(&["serial"])).await;
    let (mut first, _) = ws_connect(proxy.addr(0), &target, &[]).await.unwrap();
    let (mut second, _) = ws_connect(proxy.addr(0), &target, &[]).await.unwrap();
    echo(&mut first, b"one").await;
    echo(&mut second, b"two").await;
}
