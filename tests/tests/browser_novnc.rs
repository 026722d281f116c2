//! A real browser on a real hypervisor: Chromium opens the novnc URL that
//! `consoled serve` minted for a QEMU guest, noVNC's pages come from the
//! proxy's web root, and the guest's screen is drawn on the canvas.

use consoled_e2e::chromium::Browser;
use consoled_e2e::consoled::artifact;
use consoled_e2e::novnc_page::{
    wait_for_frame, APP_CONNECTED, CONNECT_LIMIT, LITE_CONNECTED, LITE_STATUS,
};
use consoled_e2e::stack::{Stack, StackOptions};
use consoled_e2e::tools::{require_chromium, require_novnc, require_qemu};

#[tokio::test]
async fn vnc_lite_shows_qemus_screen() {
    require_qemu();
    require_chromium();
    require_novnc();
    let stack = Stack::start(StackOptions::default()).await;
    let url = stack.mint("vnc", "novnc").await;

    let mut browser = Browser::open(&url).await;
    let connected = browser.wait_until(LITE_CONNECTED, CONNECT_LIMIT).await;
    let status = browser.eval(LITE_STATUS).await;
    assert!(
        connected,
        "noVNC did not connect; status {status}\n{}",
        stack.consoled.log()
    );
    assert!(
        status.as_str().is_some_and(|s| s.contains("consoled-e2e")),
        "the status names QEMU's desktop: {status}"
    );
    let pixels = wait_for_frame(&mut browser, "#screen").await;
    browser.screenshot(&artifact("novnc-qemu.png")).await;
    assert!(
        pixels.is_some_and(|p| p.complete_and_lit()),
        "no whole, non-black frame on the canvas: {pixels:?}"
    );
}

#[tokio::test]
async fn full_app_autoconnects_to_qemu() {
    require_qemu();
    require_chromium();
    require_novnc();
    let stack = Stack::start(StackOptions {
        novnc_page: "vnc.html?autoconnect=true&resize=scale".to_owned(),
        ..StackOptions::default()
    })
    .await;
    let url = stack.mint("vnc", "novnc").await;
    // The token's path is merged into the base URL's query, not put in
    // its place: without autoconnect the app would wait for a click.
    assert!(
        url.starts_with(&format!(
            "http://{}/vnc.html?autoconnect=true&resize=scale&path=%3Ftoken%3D",
            stack.novnc
        )),
        "{url}"
    );

    let mut browser = Browser::open(&url).await;
    let connected = browser.wait_until(APP_CONNECTED, CONNECT_LIMIT).await;
    browser.screenshot(&artifact("novnc-app-qemu.png")).await;
    assert!(
        connected,
        "noVNC's app did not connect (screenshot in target/e2e/novnc-app-qemu.png)\n{}",
        stack.consoled.log()
    );
    let pixels = wait_for_frame(&mut browser, "#noVNC_container").await;
    browser.screenshot(&artifact("novnc-app-qemu.png")).await;
    assert!(
        pixels.is_some_and(|p| p.complete_and_lit()),
        "no whole, non-black frame on the app's canvas: {pixels:?}"
    );
}
