//! Recordings of real QEMU sessions through `consoled serve`: a serial
//! session (SeaBIOS's text) that the real `asciinema cat` prints, and a
//! noVNC session whose recorded server-to-client stream is QEMU's RFB.

use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::time::Duration;

use consoled_e2e::console_urls::{novnc_websocket_url, token_of};
use consoled_e2e::stack::{Stack, StackOptions, LIMIT, SERVER_ID};
use consoled_e2e::tools::{require_asciinema, require_qemu};
use consoled_e2e::vnc::{request_update_header, rfb_over_websocket};
use consoled_e2e::ws;
use futures_util::{SinkExt, StreamExt};
use tokio::time::timeout;
use tokio_tungstenite::tungstenite::Message;

async fn stack(bios_on_serial: bool) -> Stack {
    require_qemu();
    Stack::start(StackOptions {
        bios_on_serial,
        recording: "dir = \"recordings\"\ntypes = [\"serial\", \"novnc\"]\n".to_owned(),
        ..StackOptions::default()
    })
    .await
}

/// The one recording with extension `ext` once `done` says it is complete
/// (recordings are written as they go).
async fn recording(stack: &Stack, ext: &str, done: impl Fn(&[u8]) -> bool) -> (PathBuf, Vec<u8>) {
    let dir = stack.consoled.dir().join("recordings");
    timeout(LIMIT, async {
        loop {
            let found: Vec<PathBuf> = std::fs::read_dir(&dir)
                .map(|d| {
                    d.map(|e| e.unwrap().path())
                        .filter(|p| p.extension().is_some_and(|e| e == ext))
                        .collect()
                })
                .unwrap_or_default();
            assert!(found.len() <= 1, "{found:?}");
            if let Some(path) = found.into_iter().next() {
                let bytes = std::fs::read(&path).unwrap();
                if done(&bytes) {
                    return (path, bytes);
                }
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    })
    .await
    .unwrap_or_else(|_| panic!("no complete .{ext} recording\n{}", stack.consoled.log()))
}

fn check_private(path: &Path, bytes: &[u8], token: &str) {
    let mode = std::fs::metadata(path).unwrap().permissions().mode();
    assert_eq!(mode & 0o777, 0o600);
    let name = path.file_name().unwrap().to_str().unwrap();
    assert!(name.starts_with(&format!("{SERVER_ID}-")), "{name}");
    assert!(
        !String::from_utf8_lossy(bytes).contains(token),
        "the token is in {name}"
    );
}

/// The text of an asciicast's output events, in order.
fn output_of(cast: &[u8]) -> String {
    String::from_utf8_lossy(cast)
        .lines()
        .skip(1)
        .filter_map(|l| serde_json::from_str::<serde_json::Value>(l).ok())
        .filter(|e| e[1] == "o")
        .filter_map(|e| e[2].as_str().map(str::to_owned))
        .collect()
}

#[tokio::test]
async fn a_serial_session_replays_with_asciinema() {
    let asciinema = require_asciinema();
    let stack = stack(true).await;
    let url = stack.mint("serial", "serial").await;
    let (mut socket, _) = ws::open(&url, &[]).await.expect("serial session");
    let mut seen = Vec::new();
    while !String::from_utf8_lossy(&seen).contains("SeaBIOS") {
        match timeout(LIMIT, socket.next())
            .await
            .expect("SeaBIOS in time")
        {
            Some(Ok(Message::Binary(bytes))) => seen.extend_from_slice(&bytes),
            Some(Ok(_)) => {}
            other => panic!("session ended: {other:?}\n{}", stack.consoled.log()),
        }
    }
    socket
        .send(Message::binary(b"typed".to_vec()))
        .await
        .unwrap();
    socket.close(None).await.unwrap();
    stack
        .consoled
        .wait_for_log_line(&["recording closed"], LIMIT)
        .await;
    let (path, bytes) = recording(&stack, "cast", |b| output_of(b).contains("SeaBIOS")).await;
    check_private(&path, &bytes, &token_of(&url));
    let text = String::from_utf8(bytes).unwrap();
    let header: serde_json::Value = serde_json::from_str(text.lines().next().unwrap()).unwrap();
    assert_eq!(header["version"], 2);
    assert_eq!(header["consoled"]["server"], SERVER_ID);
    assert_eq!(header["consoled"]["type"], "serial");
    assert_eq!(header["consoled"]["minted_by_project"], "demo");
    assert!(text.contains("\"i\",\"typed\""), "{text}");
    assert!(output_of(text.as_bytes()).starts_with(&String::from_utf8_lossy(&seen)[..]));
    let cat = std::process::Command::new(&asciinema)
        .arg("cat")
        .arg(&path)
        .output()
        .expect("asciinema runs");
    let printed = String::from_utf8_lossy(&cat.stdout);
    assert!(
        cat.status.success(),
        "asciinema cat failed: {}",
        String::from_utf8_lossy(&cat.stderr)
    );
    assert!(printed.contains("SeaBIOS"), "{printed}");
}

/// The `s` and `c` streams of an `.rfbrec` file, read as README.md
/// documents the format.
fn rfb_streams(bytes: &[u8]) -> Option<(serde_json::Value, Vec<u8>, Vec<u8>)> {
    let end = bytes.iter().position(|b| *b == b'\n')?;
    let header = serde_json::from_slice(&bytes[..end]).ok()?;
    let (mut s, mut c) = (Vec::new(), Vec::new());
    let mut rest = &bytes[end + 1..];
    while rest.len() >= 13 {
        let len = u32::from_be_bytes(rest[9..13].try_into().unwrap()) as usize;
        let Some(data) = rest.get(13..13 + len) else {
            break;
        };
        match rest[0] {
            b's' => s.extend_from_slice(data),
            b'c' => c.extend_from_slice(data),
            other => panic!("record kind {other:#x}"),
        }
        rest = &rest[13 + len..];
    }
    Some((header, s, c))
}

#[tokio::test]
async fn a_novnc_session_records_qemus_rfb_stream() {
    let stack = stack(false).await;
    let url = stack.mint("vnc", "novnc").await;
    let (mut rfb, init) = timeout(LIMIT, rfb_over_websocket(&novnc_websocket_url(&url)))
        .await
        .expect("RFB handshake in time")
        .unwrap_or_else(|e| panic!("RFB through the proxy: {e}\n{}", stack.consoled.log()));
    let update = timeout(
        LIMIT,
        request_update_header(&mut rfb, init.width, init.height),
    )
    .await
    .expect("a FramebufferUpdate in time")
    .expect("QEMU answers");
    assert_eq!(update.message_type, 0);
    drop(rfb);
    stack
        .consoled
        .wait_for_log_line(&["recording closed"], LIMIT)
        .await;
    let mut update_bytes = vec![0u8, 0];
    update_bytes.extend_from_slice(&update.rectangles.to_be_bytes());
    let (path, bytes) = recording(&stack, "rfbrec", |b| {
        rfb_streams(b).is_some_and(|(_, s, _)| s.windows(4).any(|w| w == update_bytes))
    })
    .await;
    check_private(&path, &bytes, &token_of(&url));
    let (header, s, c) = rfb_streams(&bytes).unwrap();
    assert_eq!(header["format"], "consoled-rfb-recording");
    assert_eq!(header["consoled"]["type"], "novnc");
    assert_eq!(header["consoled"]["server"], SERVER_ID);
    assert!(
        s.starts_with(b"RFB 003.008\n"),
        "{:?}",
        &s[..12.min(s.len())]
    );
    assert!(
        c.starts_with(b"RFB 003.008\n"),
        "{:?}",
        &c[..12.min(c.len())]
    );
    // The update request the client sent is in the client's stream.
    let mut request = vec![3u8, 0, 0, 0, 0, 0];
    request.extend_from_slice(&init.width.to_be_bytes());
    request.extend_from_slice(&init.height.to_be_bytes());
    assert!(c.windows(request.len()).any(|w| w == request));
    // After the version, security and ServerInit comes the update: its
    // header, then its first rectangle (x, y, width, height, encoding).
    let at = s.windows(4).position(|w| w == update_bytes).unwrap();
    assert!(
        s.len() >= at + 4 + 12,
        "the update's rectangles are recorded"
    );
}

/// Runs `consoled <args>` to completion; its standard output.
async fn consoled_cli(args: &[&str], stack: &Stack) -> String {
    let ran = timeout(
        LIMIT,
        tokio::process::Command::new(consoled_e2e::consoled::binary())
            .args(args)
            .output(),
    )
    .await
    .expect("consoled ends in time")
    .expect("consoled runs");
    assert!(
        ran.status.success(),
        "consoled {args:?}: {}{}\n{}",
        String::from_utf8_lossy(&ran.stdout),
        String::from_utf8_lossy(&ran.stderr),
        stack.consoled.log()
    );
    String::from_utf8_lossy(&ran.stdout).into_owned()
}

#[tokio::test]
async fn a_recorded_vnc_session_renders_to_the_screen_it_showed() {
    let stack = stack(false).await;
    let dir = consoled_e2e::chromium::TempDir::new("render");
    // A screenshot through the proxy is a recorded VNC session like any
    // other (ZRLE, so the replay goes through the zlib stream too).
    let url = stack.mint("vnc", "novnc").await;
    let shot = dir.path().join("shot.png");
    consoled_cli(
        &[
            "screenshot",
            "--url",
            &url,
            "--encodings",
            "zrle",
            "-o",
            shot.to_str().unwrap(),
        ],
        &stack,
    )
    .await;
    stack
        .consoled
        .wait_for_log_line(&["console session closed", "console_type=novnc"], LIMIT)
        .await;
    let shot = consoled_e2e::screens::Rgb::from_png(&std::fs::read(&shot).unwrap());
    // Written as it goes: the session's last bytes reach the file within
    // a flush; rendered until they have.
    let (path, _) = recording(&stack, "rfbrec", |bytes| !bytes.is_empty()).await;
    let frame = dir.path().join("frame.png");
    let deadline = std::time::Instant::now() + LIMIT;
    loop {
        consoled_cli(
            &[
                "recording",
                "render",
                path.to_str().unwrap(),
                "-o",
                frame.to_str().unwrap(),
            ],
            &stack,
        )
        .await;
        let rendered = consoled_e2e::screens::Rgb::from_png(&std::fs::read(&frame).unwrap());
        let differing = rendered.differing_pixels(&shot);
        if differing == 0 {
            break;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "the rendered last frame differs from the session's screenshot in {differing} pixels"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    assert!(shot.colours() > 1, "a screen with something on it");
}
