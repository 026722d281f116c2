//! The harness itself works on this machine: QEMU speaks RFB on its VNC
//! port, and Chromium can be driven over DevTools. When these fail, the
//! end-to-end tests' failures are the harness's, not consoled's.

use std::time::Duration;

use consoled_e2e::chromium::Browser;
use consoled_e2e::qemu::Qemu;
use tokio::io::AsyncReadExt;

#[tokio::test]
async fn qemu_serves_rfb_on_loopback() {
    assert!(
        Qemu::available(),
        "qemu-system-x86_64 is not installed (scripts/test installs it)"
    );
    let qemu = Qemu::start().await;
    let mut vnc = tokio::net::TcpStream::connect(qemu.vnc()).await.unwrap();
    let mut version = [0u8; 12];
    tokio::time::timeout(Duration::from_secs(10), vnc.read_exact(&mut version))
        .await
        .expect("QEMU sent no RFB version")
        .unwrap();
    assert_eq!(&version, b"RFB 003.008\n");
}

#[tokio::test]
async fn chromium_runs_a_page() {
    assert!(
        Browser::available(),
        "chromium is not installed (scripts/test installs it)"
    );
    let mut browser = Browser::open("data:text/html,<p id=x>hello</p>").await;
    assert!(
        browser
            .wait_until(
                "document.getElementById('x')?.textContent === 'hello'",
                Duration::from_secs(20)
            )
            .await
    );
}
