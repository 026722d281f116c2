//! A real hypervisor behind `consoled serve`: QEMU's VNC through the novnc
//! proxy as noVNC speaks it, and QEMU's serial port (SeaBIOS writing to
//! it) through the serial proxy.

use consoled_e2e::console_urls::{novnc_websocket_url, token_of};
use consoled_e2e::seabios::whole_boot_seen;
use consoled_e2e::stack::{Stack, StackOptions, LIMIT, SERVER_ID};
use consoled_e2e::tools::require_qemu;
use consoled_e2e::vnc::{request_update_header, rfb_over_websocket};
use consoled_e2e::ws;
use futures_util::{SinkExt, StreamExt};
use tokio::time::timeout;
use tokio_tungstenite::tungstenite::Message;

#[tokio::test]
async fn novnc_url_reaches_qemus_framebuffer() {
    require_qemu();
    let stack = Stack::start(StackOptions::default()).await;
    let url = stack.mint("vnc", "novnc").await;
    assert!(
        url.starts_with(&format!(
            "http://{}/vnc_lite.html?path=%3Ftoken%3D",
            stack.novnc
        )),
        "{url}"
    );
    let ws_url = novnc_websocket_url(&url);
    assert_eq!(
        ws_url,
        format!("ws://{}/?token={}", stack.novnc, token_of(&url))
    );

    let (mut rfb, init) = timeout(LIMIT, rfb_over_websocket(&ws_url))
        .await
        .expect("RFB handshake in time")
        .unwrap_or_else(|e| panic!("RFB through the proxy: {e}\n{}", stack.consoled.log()));
    assert!(init.width > 0 && init.height > 0, "{init:?}");
    assert!(init.name.contains("consoled-e2e"), "QEMU's -name: {init:?}");

    let header = timeout(
        LIMIT,
        request_update_header(&mut rfb, init.width, init.height),
    )
    .await
    .expect("a FramebufferUpdate in time")
    .expect("QEMU answers the update request");
    assert_eq!(header.message_type, 0, "FramebufferUpdate");
    assert!(header.rectangles >= 1, "{header:?}");

    stack
        .consoled
        .wait_for_log_line(
            &["console session open", "console_type=novnc", SERVER_ID],
            LIMIT,
        )
        .await;
}

#[tokio::test]
async fn serial_url_reaches_qemus_serial_port() {
    require_qemu();
    let stack = Stack::start(StackOptions {
        bios_on_serial: true,
        ..StackOptions::default()
    })
    .await;
    let url = stack.mint("serial", "serial").await;
    assert!(
        url.starts_with(&format!("ws://{}/?token=", stack.serial)),
        "{url}"
    );

    let (mut socket, response) = timeout(LIMIT, ws::open(&url, &[]))
        .await
        .expect("WebSocket handshake in time")
        .unwrap_or_else(|e| panic!("serial WebSocket: {e}\n{}", stack.consoled.log()));
    assert_eq!(response.status(), 101);
    let typed = b"root\r\n";
    socket
        .send(Message::binary(typed.to_vec()))
        .await
        .expect("bytes sent");

    // SeaBIOS writes its screen to the serial line and reboots every
    // second: a whole boot's text, from the banner to the failure, arrives
    // through the proxy (we may join in the middle of one).
    let mut seen = Vec::new();
    while !whole_boot_seen(&seen) {
        match timeout(LIMIT, socket.next())
            .await
            .expect("SeaBIOS output in time")
        {
            Some(Ok(Message::Binary(bytes))) => seen.extend_from_slice(&bytes),
            Some(Ok(Message::Close(frame))) => {
                panic!(
                    "the proxy closed the session: {frame:?}\n{}",
                    stack.consoled.log()
                )
            }
            Some(Ok(_)) => {}
            Some(Err(e)) => panic!("session failed: {e}\n{}", stack.consoled.log()),
            None => panic!("the proxy dropped the session\n{}", stack.consoled.log()),
        }
    }
    stack
        .consoled
        .wait_for_log_line(
            &["console session open", "console_type=serial", SERVER_ID],
            LIMIT,
        )
        .await;

    socket.close(None).await.expect("close sent");
    let closed = stack
        .consoled
        .wait_for_log_line(&["console session closed", "console_type=serial"], LIMIT)
        .await;
    assert!(
        closed.contains(&format!("to_backend={}", typed.len())),
        "every byte typed reached QEMU: {closed}"
    );
}
