//! Several viewers of one QEMU serial port, which serves one client at a
//! time: shared (both see the boot text, either types), exclusive (the
//! second is refused), takeover (the first is closed with 4001).

use consoled_e2e::seabios::read_whole_boot;
use consoled_e2e::stack::{Stack, StackOptions, LIMIT};
use consoled_e2e::tools::require_qemu;
use consoled_e2e::ws;
use futures_util::{SinkExt, StreamExt};
use tokio::net::TcpStream;
use tokio::time::timeout;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::WebSocketStream;

async fn stack(sessions: &str) -> Stack {
    require_qemu();
    Stack::start(StackOptions {
        bios_on_serial: true,
        serial_sessions: sessions.to_owned(),
        ..StackOptions::default()
    })
    .await
}

async fn boot_text(socket: &mut WebSocketStream<TcpStream>, stack: &Stack) {
    read_whole_boot(socket, || stack.consoled.log()).await;
}

#[tokio::test]
async fn shared_viewers_both_see_the_boot_and_either_types() {
    let stack = stack("shared").await;
    let url = stack.mint("serial", "serial").await;
    let (mut one, _) = ws::open(&url, &[]).await.expect("first viewer");
    let (mut two, _) = ws::open(&url, &[]).await.expect("second viewer");
    boot_text(&mut one, &stack).await;
    boot_text(&mut two, &stack).await;
    one.send(Message::binary(b"1".to_vec())).await.unwrap();
    two.send(Message::binary(b"22".to_vec())).await.unwrap();
    one.close(None).await.unwrap();
    two.close(None).await.unwrap();
    for typed in ["to_backend=1 ", "to_backend=2 "] {
        stack
            .consoled
            .wait_for_log_line(
                &["console session closed", "console_type=serial", typed],
                LIMIT,
            )
            .await;
    }
}

#[tokio::test]
async fn exclusive_refuses_the_second_viewer() {
    let stack = stack("exclusive").await;
    let url = stack.mint("serial", "serial").await;
    let (mut one, _) = ws::open(&url, &[]).await.expect("first viewer");
    boot_text(&mut one, &stack).await;
    match ws::open(&url, &[]).await {
        Err(tokio_tungstenite::tungstenite::Error::Http(response)) => {
            assert_eq!(response.status(), 503);
        }
        other => panic!("a second session was let in: {other:?}"),
    }
    stack
        .consoled
        .wait_for_log_line(&["console refused", "exclusive"], LIMIT)
        .await;
    boot_text(&mut one, &stack).await;
}

#[tokio::test]
async fn takeover_closes_the_first_viewer_with_4001() {
    let stack = stack("takeover").await;
    let url = stack.mint("serial", "serial").await;
    let (mut one, _) = ws::open(&url, &[]).await.expect("first viewer");
    boot_text(&mut one, &stack).await;
    stack
        .consoled
        .wait_for_log_line(&["console session open", "console_type=serial"], LIMIT)
        .await;
    // The first is listed by now (its node publishes at its opening).
    tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    let (mut two, _) = ws::open(&url, &[]).await.expect("second viewer");
    let frame = loop {
        match timeout(LIMIT, one.next()).await.expect("closed in time") {
            Some(Ok(Message::Close(Some(frame)))) => break frame,
            Some(Ok(_)) => {}
            other => panic!("expected a close frame, got {other:?}"),
        }
    };
    assert_eq!(u16::from(frame.code), 4001);
    assert_eq!(frame.reason, "taken over");
    boot_text(&mut two, &stack).await;
}
