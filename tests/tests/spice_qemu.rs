//! SPICE, end to end, on a real hypervisor: QEMU's own SPICE server behind
//! `consoled serve`'s spice-html5 listener, reached the way spice-html5
//! reaches it (the token only in a cookie, one WebSocket per channel), by
//! a protocol client and by spice-html5 itself in Chromium.

use consoled_e2e::chromium::Browser;
use consoled_e2e::console_urls::token_of;
use consoled_e2e::consoled::artifact;
use consoled_e2e::novnc_page::wait_for_frame;
use consoled_e2e::stack::{Stack, StackOptions, LIMIT};
use consoled_e2e::tools::{require_chromium, require_qemu};
use consoled_e2e::ws;
use consoled_testkit::{spice_link_message, spice_read_link_reply, WsIo};
use tokio::io::AsyncWriteExt;

/// Where Debian's `spice-html5` package installs its pages.
const SPICE_HTML5_ROOT: &str = "/usr/share/spice-html5";

#[tokio::test]
async fn qemus_spice_server_accepts_a_link_through_the_proxy() {
    require_qemu();
    let stack = Stack::start(StackOptions::default()).await;
    let url = stack.mint("spice", "spice-html5").await;
    let token = token_of(&url);
    let ws_url = format!("ws://{}/websockify", stack.spice);
    let cookie = format!("token={token}");

    // Two channels at once on one token, as spice-html5 opens them.
    let mut channels = Vec::new();
    for _ in 0..2 {
        let (socket, response) = ws::open(
            &ws_url,
            &[
                ("Cookie", cookie.as_str()),
                ("Sec-WebSocket-Protocol", "binary"),
            ],
        )
        .await
        .expect("the proxy accepts the token from the cookie");
        assert_eq!(response.headers()["sec-websocket-protocol"], "binary");
        channels.push(WsIo::new(socket, Default::default()));
    }
    for channel in &mut channels {
        channel.write_all(&spice_link_message()).await.unwrap();
        let error = tokio::time::timeout(LIMIT, spice_read_link_reply(channel))
            .await
            .expect("QEMU answers the link in time")
            .expect("a SPICE link reply from QEMU");
        assert_eq!(error, 0, "QEMU refused the link (SPICE error code {error})");
    }
}

#[tokio::test]
async fn spice_html5_shows_qemus_screen() {
    require_qemu();
    require_chromium();
    assert!(
        std::path::Path::new(SPICE_HTML5_ROOT)
            .join("spice_auto.html")
            .is_file(),
        "spice-html5 is not installed in {SPICE_HTML5_ROOT}: install the package spice-html5 \
         (scripts/test installs it)"
    );
    let stack = Stack::start(StackOptions::default()).await;
    let url = stack.mint("spice", "spice-html5").await;

    let mut browser = Browser::open(&url).await;
    let pixels = wait_for_frame(&mut browser, "#spice-screen").await;
    browser.screenshot(&artifact("spice-html5-qemu.png")).await;
    assert!(
        pixels.is_some_and(|p| p.complete_and_lit()),
        "spice-html5 drew no whole, non-black frame of QEMU's screen: {pixels:?} \
         (screenshot in target/e2e/spice-html5-qemu.png)\n{}",
        stack.consoled.log()
    );
    // The page put the token in a cookie and every channel presented it.
    let cookie = browser.eval("document.cookie").await;
    assert!(
        cookie.as_str().is_some_and(|c| c.contains("token=")),
        "spice-html5 set no token cookie: {cookie}"
    );
}
