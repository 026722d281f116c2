//! Screenshots of a real QEMU's VNC screen through `consoled serve`, from
//! the API route and from `consoled screenshot` on a minted novnc URL
//! (Raw and ZRLE), each equal pixel for pixel to QEMU's own screendump of
//! the same still screen (SeaBIOS's "No bootable device").

use std::time::Duration;

use consoled_e2e::consoled::{artifact, binary};
use consoled_e2e::qemu::Qemu;
use consoled_e2e::screens::Rgb;
use consoled_e2e::stack::{Stack, StackOptions, LIMIT, SERVER_ID};
use consoled_e2e::tools::require_qemu;
use tokio::time::{sleep, Instant};

/// How many times a screenshot is taken between two equal screendumps
/// before the test gives up: the screen is still, but a blinking cursor
/// may change it between the two.
const ATTEMPTS: usize = 10;

/// Waits until QEMU's screen stops changing (three screendumps in a row,
/// half a second apart, equal) and shows more than a blank screen.
async fn still_screen(qemu: &Qemu) -> Rgb {
    let deadline = Instant::now() + LIMIT;
    let mut last = Rgb::from_png(&qemu.screendump().await);
    let mut same = 0;
    while same < 2 || last.colours() < 2 {
        assert!(Instant::now() < deadline, "QEMU's screen never settled");
        sleep(Duration::from_millis(500)).await;
        let now = Rgb::from_png(&qemu.screendump().await);
        same = if now == last { same + 1 } else { 0 };
        last = now;
    }
    last
}

/// Where a screenshot comes from.
#[derive(Debug, Clone, Copy)]
enum Source {
    /// `GET /consoled/v1/servers/{id}/screenshot`.
    Route,
    /// `consoled screenshot --url <novnc URL> --encodings <encoding>`.
    Cli(&'static str),
}

/// Takes one screenshot; returns the PNG and what the CLI said.
async fn take(stack: &Stack, source: Source) -> (Vec<u8>, String) {
    match source {
        Source::Route => {
            let client = reqwest::Client::builder().timeout(LIMIT).build().unwrap();
            let response = client
                .get(format!(
                    "http://{}/consoled/v1/servers/{SERVER_ID}/screenshot",
                    stack.api
                ))
                .header("X-Auth-Token", "demo:demo")
                .send()
                .await
                .expect("the API answers");
            let status = response.status();
            let bytes = response.bytes().await.expect("a body");
            assert_eq!(
                status,
                200,
                "{}\n{}",
                String::from_utf8_lossy(&bytes),
                stack.consoled.log()
            );
            (bytes.to_vec(), String::new())
        }
        Source::Cli(encoding) => {
            let url = stack.mint("vnc", "novnc").await;
            let out = artifact(&format!("screenshot-cli-{encoding}.png"));
            std::fs::create_dir_all(out.parent().unwrap()).unwrap();
            let ran = tokio::time::timeout(
                LIMIT,
                tokio::process::Command::new(binary())
                    .args(["screenshot", "--url", &url, "--encodings", encoding, "-o"])
                    .arg(&out)
                    .output(),
            )
            .await
            .expect("consoled screenshot ends in time")
            .expect("consoled screenshot runs");
            let said = String::from_utf8_lossy(&ran.stdout).into_owned();
            assert!(
                ran.status.success(),
                "consoled screenshot failed: {said}{}\n{}",
                String::from_utf8_lossy(&ran.stderr),
                stack.consoled.log()
            );
            (std::fs::read(&out).expect("the PNG written"), said)
        }
    }
}

/// Takes screenshots from `source` until one is taken between two equal
/// screendumps, and asserts that it equals them; returns what the CLI said.
async fn equals_screendump(stack: &Stack, source: Source) -> String {
    let mut last_difference = String::new();
    for _ in 0..ATTEMPTS {
        let before = Rgb::from_png(&stack.qemu.screendump().await);
        let (png, said) = take(stack, source).await;
        let after = Rgb::from_png(&stack.qemu.screendump().await);
        if before != after {
            last_difference = "the screen changed during the screenshot".into();
            continue;
        }
        let shot = Rgb::from_png(&png);
        if shot == before {
            return said;
        }
        std::fs::write(artifact("screenshot-mismatch.png"), &png).unwrap();
        last_difference = format!(
            "the screenshot ({shot:?}) differs from the screendump ({before:?}) in {} pixels",
            shot.differing_pixels(&before)
        );
    }
    panic!("{source:?}: {last_difference}");
}

#[tokio::test]
async fn screenshots_equal_qemus_screendump_in_raw_and_zrle() {
    require_qemu();
    let stack = Stack::start(StackOptions::default()).await;
    let still = still_screen(&stack.qemu).await;
    assert!(still.width >= 640 && still.height >= 400, "{still:?}");

    equals_screendump(&stack, Source::Route).await;
    let raw = equals_screendump(&stack, Source::Cli("raw")).await;
    assert!(raw.contains("(raw "), "only Raw rectangles: {raw}");
    let zrle = equals_screendump(&stack, Source::Cli("zrle")).await;
    assert!(
        zrle.contains("(zrle ") && !zrle.contains("raw"),
        "only ZRLE rectangles: {zrle}"
    );
    stack
        .consoled
        .wait_for_log_line(&["screenshot taken", SERVER_ID], LIMIT)
        .await;
}
