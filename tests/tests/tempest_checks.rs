//! Tempest's console checks (tempest.api.compute.servers.test_novnc)
//! against `consoled serve` in front of QEMU: the page, a bad token, and
//! the RFB negotiation read one WebSocket message at a time.

use consoled_e2e::console_urls::novnc_websocket_url;
use consoled_e2e::stack::{Stack, StackOptions, LIMIT};
use consoled_e2e::tools::{require_novnc, require_qemu};
use consoled_e2e::ws;
use futures_util::{SinkExt, StreamExt};
use tokio::net::TcpStream;
use tokio::time::timeout;
use tokio_tungstenite::tungstenite::{Error as WsError, Message};
use tokio_tungstenite::WebSocketStream;

/// The headers Tempest's WebSocket client sends: the binary subprotocol
/// and the page's own origin.
fn tempest_headers(stack: &Stack) -> [(&'static str, String); 2] {
    [
        ("Sec-WebSocket-Protocol", "binary".to_owned()),
        ("Origin", format!("http://{}", stack.novnc)),
    ]
}

async fn open_as_tempest(
    stack: &Stack,
    ws_url: &str,
) -> Result<WebSocketStream<TcpStream>, WsError> {
    let headers = tempest_headers(stack);
    let headers: Vec<(&str, &str)> = headers.iter().map(|(n, v)| (*n, v.as_str())).collect();
    timeout(LIMIT, ws::open(ws_url, &headers))
        .await
        .expect("handshake in time")
        .map(|(socket, _)| socket)
}

/// The next data message's payload, as Tempest's `receive_frame` reads
/// it; `Err` with the close frame's payload when the server closes.
async fn receive_frame(socket: &mut WebSocketStream<TcpStream>) -> Result<Vec<u8>, Vec<u8>> {
    loop {
        let message = timeout(LIMIT, socket.next())
            .await
            .expect("a message in time")
            .expect("the session is open")
            .expect("a valid message");
        match message {
            Message::Binary(data) => return Ok(data.to_vec()),
            Message::Text(text) => return Ok(text.as_bytes().to_vec()),
            Message::Close(frame) => {
                let payload = frame
                    .map(|f| {
                        let mut bytes = u16::from(f.code).to_be_bytes().to_vec();
                        bytes.extend_from_slice(f.reason.as_bytes());
                        bytes
                    })
                    .unwrap_or_default();
                return Err(payload);
            }
            Message::Ping(_) | Message::Pong(_) | Message::Frame(_) => {}
        }
    }
}

#[tokio::test]
async fn novnc_console_url_serves_the_novnc_page() {
    require_qemu();
    require_novnc();
    let stack = Stack::start(StackOptions::default()).await;
    let url = stack.mint("vnc", "novnc").await;
    let response = reqwest::get(&url).await.expect("the page answers");
    assert_eq!(response.status(), 200);
    let content_type = response.headers()["content-type"]
        .to_str()
        .expect("a text header")
        .to_owned();
    assert!(content_type.starts_with("text/html"), "{content_type}");
    let page = response.text().await.expect("a body");
    assert!(page.contains("noVNC"), "{page}");
    assert!(page.contains("<script"), "{page}");
}

#[tokio::test]
async fn a_bad_token_gets_no_console_data() {
    require_qemu();
    let stack = Stack::start(StackOptions::default()).await;
    // A real token exists, so the store is not merely empty.
    stack.mint("vnc", "novnc").await;
    let bad = format!("ws://{}/?token=not-a-token", stack.novnc);
    match open_as_tempest(&stack, &bad).await {
        Err(WsError::Http(response)) => {
            assert!(
                response.status().is_client_error(),
                "{:?}",
                response.status()
            );
            let body = response.body().as_deref().unwrap_or_default();
            assert!(body.is_empty(), "a refusal body: {body:?}");
        }
        Ok(mut socket) => {
            // Tempest reads the first frame and fails on any data.
            let first = receive_frame(&mut socket).await;
            assert_eq!(first, Err(Vec::new()), "not an empty close frame");
        }
        Err(e) => panic!("neither a 4xx nor a WebSocket: {e}"),
    }
    stack
        .consoled
        .wait_for_log_line(&["console refused", "status=40"], LIMIT)
        .await;
    assert!(
        !stack.consoled.log().contains("not-a-token"),
        "a token in the log"
    );
}

#[tokio::test]
async fn a_good_token_negotiates_rfb_message_by_message() {
    require_qemu();
    let stack = Stack::start(StackOptions::default()).await;
    let url = stack.mint("vnc", "novnc").await;
    let mut socket = open_as_tempest(&stack, &novnc_websocket_url(&url))
        .await
        .unwrap_or_else(|e| panic!("a good token refused: {e}\n{}", stack.consoled.log()));

    let version = receive_frame(&mut socket).await.expect("QEMU's version");
    assert_eq!(version, b"RFB 003.008\n");
    socket
        .send(Message::binary(b"RFB 003.008\n".to_vec()))
        .await
        .expect("version sent");
    let security = receive_frame(&mut socket).await.expect("security types");
    assert!(
        !security.is_empty() && usize::from(security[0]) == security.len() - 1,
        "a count and that many types: {security:?}"
    );
    assert!(security[1..].contains(&1), "None offered: {security:?}");
    socket
        .send(Message::binary(vec![1]))
        .await
        .expect("None chosen");
    let result = receive_frame(&mut socket).await.expect("security result");
    assert_eq!(result, [0, 0, 0, 0], "SecurityResult OK");
}
