//! Stopping `consoled serve` with an open console session: SIGTERM closes
//! the session within the configured grace and the process exits 0.

use consoled_e2e::console_urls::novnc_websocket_url;
use consoled_e2e::stack::{Stack, StackOptions, LIMIT};
use consoled_e2e::tools::require_qemu;
use consoled_e2e::vnc::rfb_over_websocket;
use futures_util::StreamExt;
use tokio::io::AsyncReadExt;
use tokio::time::timeout;

#[tokio::test]
async fn sigterm_closes_an_open_session_within_the_grace_and_exits_0() {
    require_qemu();
    let mut stack = Stack::start(StackOptions {
        proxy: "shutdown_grace_seconds = 2".to_owned(),
        ..StackOptions::default()
    })
    .await;
    let url = stack.mint("vnc", "novnc").await;
    let (mut rfb, _init) = timeout(LIMIT, rfb_over_websocket(&novnc_websocket_url(&url)))
        .await
        .expect("RFB handshake in time")
        .unwrap_or_else(|e| panic!("RFB through the proxy: {e}\n{}", stack.consoled.log()));
    stack
        .consoled
        .wait_for_log_line(&["console session open", "console_type=novnc"], LIMIT)
        .await;

    stack.consoled.terminate();
    // The session is idle (no update requested), so it outlives the
    // grace and the proxy closes it: the client sees its end.
    let mut rest = Vec::new();
    let ended = timeout(LIMIT, rfb.read_to_end(&mut rest))
        .await
        .expect("the session ended");
    assert!(ended.is_ok(), "the session ended cleanly: {ended:?}");
    // Answer the proxy's close as a browser does (tungstenite sends the
    // reply on the next read), so that it need not wait for one.
    let mut socket = rfb.into_inner();
    while let Ok(Some(Ok(_))) = timeout(LIMIT, socket.next()).await {}
    let status = stack.consoled.wait_exit(LIMIT).await;
    assert_eq!(status.code(), Some(0), "{}", stack.consoled.log());

    let log = stack.consoled.log();
    assert!(log.contains("grace period over: closing sessions"), "{log}");
    assert!(
        log.lines()
            .any(|l| l.contains("console session closed")
                && l.contains("reason=proxy shutting down")),
        "{log}"
    );
    // Nothing listens any more.
    assert!(tokio::net::TcpStream::connect(stack.novnc).await.is_err());
    assert!(tokio::net::TcpStream::connect(stack.api).await.is_err());
}
