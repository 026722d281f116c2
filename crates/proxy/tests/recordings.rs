//! Recorded sessions on real sockets: the files parse, carry the
//! session's audit fields and never the token, are 0600, and a session
//! that pushes far more than the recording can queue still relays every
//! byte.

mod support;

use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::time::Duration;

use bytes::Bytes;
use consoled_core::Token;
use consoled_proxy::recording::{RecordKind, RfbRecording};
use consoled_proxy::RecordingSettings;
use consoled_testkit::{
    rfb_client_handshake, rfb_request_frame, RfbServer, SerialEcho, ServerBuilder,
};
use futures_util::{SinkExt, StreamExt};
use serde_json::Value;
use support::*;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::time::timeout;
use tokio_tungstenite::tungstenite::Message;

/// The one file of `dir` once `done` says it is complete: recordings are
/// written as they go, so a test waits for what it expects (bounded).
async fn recording(dir: &Path, done: impl Fn(&[u8]) -> bool) -> (PathBuf, Vec<u8>) {
    timeout(LIMIT, async {
        loop {
            let files: Vec<PathBuf> = std::fs::read_dir(dir)
                .unwrap()
                .map(|e| e.unwrap().path())
                .collect();
            assert!(files.len() <= 1, "one file per session: {files:?}");
            if let Some(path) = files.into_iter().next() {
                let bytes = std::fs::read(&path).unwrap();
                if done(&bytes) {
                    return (path, bytes);
                }
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    })
    .await
    .expect("the recording is written")
}

/// The server's and the client's bytes of an RFB recording, and what it
/// marks as lost of each; `None` while the file ends inside a record (the
/// writer is in the middle of a write).
fn rfb_streams(bytes: &[u8]) -> Option<(Vec<u8>, Vec<u8>, u64, u64)> {
    let (mut s, mut c, mut lost_s, mut lost_c) = (Vec::new(), Vec::new(), 0, 0);
    for record in RfbRecording::read(bytes).ok()? {
        match record.ok()?.kind {
            RecordKind::ServerToClient(b) => s.extend(b),
            RecordKind::ClientToServer(b) => c.extend(b),
            RecordKind::Gap {
                server_to_client,
                client_to_server,
            } => {
                lost_s += server_to_client;
                lost_c += client_to_server;
            }
        }
    }
    Some((s, c, lost_s, lost_c))
}

/// The file is private, named for its session and free of the token.
fn check_file(path: &Path, bytes: &[u8], console_type: &str, ext: &str, token: &str) {
    let mode = std::fs::metadata(path).unwrap().permissions().mode();
    assert_eq!(mode & 0o777, 0o600, "{}", path.display());
    let name = path.file_name().unwrap().to_str().unwrap();
    let prefix = format!("{}-{console_type}-", server_id(1));
    assert!(name.starts_with(&prefix), "{name}");
    assert!(name.ends_with(&format!(".{ext}")), "{name}");
    let stamp = &name[prefix.len()..prefix.len() + 16];
    assert!(
        stamp.len() == 16 && stamp.as_bytes()[8] == b'T' && stamp.ends_with('Z'),
        "{name}"
    );
    let text = String::from_utf8_lossy(bytes);
    assert!(!text.contains(token), "the token is in the recording");
    assert!(
        !text.contains(&Token::new(token).hash().to_hex()),
        "the token's hash is in the recording"
    );
}

/// The audit fields of a header's `"consoled"` object.
fn check_audit(audit: &Value, console_type: &str, token: &str, file: &Path) {
    assert_eq!(audit["server"], server_id(1).as_str());
    assert_eq!(audit["type"], console_type);
    assert_eq!(audit["minted_by_user"], "alice");
    assert_eq!(audit["minted_by_project"], "demo");
    assert_eq!(
        audit["token_fingerprint"],
        Token::new(token).hash().fingerprint().as_str()
    );
    let session = audit["session"].as_str().unwrap();
    assert_eq!(session.len(), 32);
    let name = file.file_name().unwrap().to_str().unwrap();
    assert!(name.contains(&format!("-{}.", &session[..8])), "{name}");
    assert!(audit["client"].as_str().unwrap().starts_with("127.0.0.1:"));
    assert!(!audit["node"].as_str().unwrap().is_empty());
    assert!(audit["started_at"].as_u64().unwrap() > 1_600_000_000);
    assert!(audit["started"].as_str().unwrap().ends_with('Z'));
}

#[tokio::test]
async fn a_serial_session_is_an_asciicast_of_its_output_and_input() {
    let dir = TempDir::new("rec-serial");
    let echo = SerialEcho::start().await.unwrap();
    let proxy = ProxyBuilder::new()
        .listener(&["serial"])
        .recording(RecordingSettings::new(dir.path().join("rec")))
        .start()
        .await;
    let url = proxy.mint_serial(&echo).await;
    let token = token_of(&url);
    let (mut ws, _) = ws_connect(proxy.addr(0), &console_target(&url), &[])
        .await
        .expect("upgrade");
    // A character split over two frames must come out whole.
    ws.send(Message::binary(&b"caf\xc3"[..])).await.unwrap();
    ws.send(Message::binary(&b"\xa9 ok\r\n"[..])).await.unwrap();
    let mut got = Vec::new();
    while got.len() < 9 {
        match timeout(LIMIT, ws.next()).await.unwrap().unwrap().unwrap() {
            Message::Binary(b) => got.extend_from_slice(&b),
            other => panic!("{other:?}"),
        }
    }
    assert_eq!(got, "café ok\r\n".as_bytes());
    ws.close(None).await.unwrap();
    let text_of = |bytes: &[u8], code: &str| -> String {
        String::from_utf8_lossy(bytes)
            .lines()
            .skip(1)
            .filter_map(|l| serde_json::from_str::<Value>(l).ok())
            .filter(|e| e[1] == code)
            .map(|e| e[2].as_str().unwrap().to_owned())
            .collect()
    };
    let (path, bytes) = recording(&dir.path().join("rec"), |b| {
        text_of(b, "o") == "café ok\r\n" && text_of(b, "i") == "café ok\r\n"
    })
    .await;
    check_file(&path, &bytes, "serial", "cast", &token);
    let text = String::from_utf8(bytes).unwrap();
    let mut lines = text.lines();
    let header: Value = serde_json::from_str(lines.next().unwrap()).unwrap();
    assert_eq!(header["version"], 2);
    assert_eq!(
        (header["width"].as_u64(), header["height"].as_u64()),
        (Some(80), Some(24))
    );
    assert_eq!(header["timestamp"], header["consoled"]["started_at"]);
    assert_eq!(header["consoled"]["protocol"], "serial");
    check_audit(&header["consoled"], "serial", &token, &path);
    let mut last = 0.0;
    for line in lines {
        let event: Value = serde_json::from_str(line).unwrap();
        let at = event[0].as_f64().unwrap();
        assert!(at >= last, "{line}");
        last = at;
        assert!(["o", "i"].contains(&event[1].as_str().unwrap()), "{line}");
    }
    assert!(!text.contains("\"m\""), "nothing was dropped: {text}");
}

async fn vnc_recording_check(dir: &Path, token: &str, console_type: &str) {
    let frame = 320 * 200 * 4;
    let (path, bytes) = recording(dir, |b| {
        rfb_streams(b).is_some_and(|(s, ..)| s.len() >= 12 + frame)
    })
    .await;
    check_file(&path, &bytes, console_type, "rfbrec", token);
    let recording = RfbRecording::read(&bytes[..]).unwrap();
    let header = serde_json::to_value(recording.header()).unwrap();
    assert_eq!(header["format"], "consoled-rfb-recording");
    assert_eq!(header["version"], 1);
    assert_eq!(header["consoled"]["protocol"], "vnc");
    check_audit(&header["consoled"], console_type, token, &path);
    let mut last = Duration::ZERO;
    for record in recording {
        let at = record.unwrap().at;
        assert!(at >= last);
        last = at;
    }
    let (s, c, lost_s, lost_c) = rfb_streams(&bytes).expect("whole records");
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
    assert_eq!((lost_s, lost_c), (0, 0));
}

#[tokio::test]
async fn a_novnc_session_is_recorded_as_both_rfb_streams() {
    let dir = TempDir::new("rec-novnc");
    let rfb = RfbServer::start().await.unwrap();
    let proxy = ProxyBuilder::new()
        .listener(&["novnc"])
        .recording(RecordingSettings::new(dir.path()).with_types(["novnc"]))
        .start()
        .await;
    let server = ServerBuilder::new(server_id(1), "vm").vnc("127.0.0.1", rfb.addr().port());
    let url = proxy.mint(server, "vnc", "novnc").await;
    let token = token_of(&url);
    let (ws, _) = ws_connect(proxy.addr(0), &console_target(&url), &[])
        .await
        .expect("upgrade");
    let mut io = WsIo::new(ws, Bytes::new());
    let init = timeout(LIMIT, rfb_client_handshake(&mut io))
        .await
        .unwrap()
        .unwrap();
    timeout(LIMIT, rfb_request_frame(&mut io, init.width, init.height))
        .await
        .unwrap()
        .unwrap();
    drop(io);
    vnc_recording_check(dir.path(), &token, "novnc").await;
}

#[tokio::test]
async fn an_xvpvnc_session_on_the_raw_front_is_recorded() {
    let dir = TempDir::new("rec-xvpvnc");
    let rfb = RfbServer::start().await.unwrap();
    let proxy = ProxyBuilder::new()
        .listener(&["xvpvnc"])
        .recording(RecordingSettings::new(dir.path()))
        .start()
        .await;
    let server = ServerBuilder::new(server_id(1), "vm").vnc("127.0.0.1", rfb.addr().port());
    let url = proxy.mint(server, "vnc", "xvpvnc").await;
    let token = token_of(&url);
    let mut tcp = TcpStream::connect(proxy.addr(0)).await.unwrap();
    tcp.write_all(format!("GET {} HTTP/1.1\r\n\r\n", console_target(&url)).as_bytes())
        .await
        .unwrap();
    let mut accepted = [0u8; 19];
    timeout(LIMIT, tcp.read_exact(&mut accepted))
        .await
        .unwrap()
        .unwrap();
    let init = timeout(LIMIT, rfb_client_handshake(&mut tcp))
        .await
        .unwrap()
        .unwrap();
    timeout(LIMIT, rfb_request_frame(&mut tcp, init.width, init.height))
        .await
        .unwrap()
        .unwrap();
    drop(tcp);
    vnc_recording_check(dir.path(), &token, "xvpvnc").await;
}

#[tokio::test]
async fn a_type_not_listed_is_not_recorded() {
    let dir = TempDir::new("rec-off");
    let echo = SerialEcho::start().await.unwrap();
    let proxy = ProxyBuilder::new()
        .listener(&["serial"])
        .recording(RecordingSettings::new(dir.path()).with_types(["novnc"]))
        .start()
        .await;
    let url = proxy.mint_serial(&echo).await;
    let (mut ws, _) = ws_connect(proxy.addr(0), &console_target(&url), &[])
        .await
        .expect("upgrade");
    ws.send(Message::binary(&b"x"[..])).await.unwrap();
    let echoed = timeout(LIMIT, ws.next()).await.unwrap().unwrap().unwrap();
    assert_eq!(echoed, Message::binary(&b"x"[..]));
    ws.close(None).await.unwrap();
    assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 0);
}

#[tokio::test]
async fn refused_recording_settings_name_their_key() {
    let proxy = consoled_proxy::ProxyServer::bind(
        dispatcher(
            std::sync::Arc::new(consoled_testkit::FakeBackend::new()),
            Default::default(),
            None,
        ),
        Default::default(),
        vec![consoled_proxy::ListenerConfig::new(
            "127.0.0.1:0".parse().unwrap(),
            ["serial"],
        )],
    )
    .await
    .unwrap();
    let e = proxy
        .with_recording(RecordingSettings::new("r").with_types(["spice-html5"]))
        .err()
        .unwrap()
        .to_string();
    assert!(
        e.contains("recording.types[0]: cannot record console type"),
        "{e}"
    );
}

/// A VNC server that takes everything and says nothing: what a client
/// pushing at full speed meets.
async fn sink() -> (std::net::SocketAddr, tokio::task::JoinHandle<Vec<u8>>) {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let task = tokio::spawn(async move {
        let (mut stream, _) = listener.accept().await.unwrap();
        let mut got = Vec::new();
        stream.read_to_end(&mut got).await.unwrap();
        got
    });
    (addr, task)
}

#[tokio::test]
async fn a_client_pushing_10_mb_at_full_speed_loses_no_relayed_byte() {
    const TOTAL: usize = 10 * 1024 * 1024;
    const MESSAGE: usize = 64 * 1024;
    let dir = TempDir::new("rec-push");
    let (backend, received) = sink().await;
    let proxy = ProxyBuilder::new()
        .listener(&["novnc"])
        .settings(|s| s.max_frame_size = MESSAGE)
        .recording(RecordingSettings::new(dir.path()))
        .start()
        .await;
    let server = ServerBuilder::new(server_id(1), "vm").vnc("127.0.0.1", backend.port());
    let url = proxy.mint(server, "vnc", "novnc").await;
    let (mut ws, _) = ws_connect(proxy.addr(0), &console_target(&url), &[])
        .await
        .expect("upgrade");
    let sent: Vec<u8> = (0..TOTAL).map(|i| (i % 251) as u8).collect();
    timeout(LIMIT, async {
        for message in sent.chunks(MESSAGE) {
            ws.feed(Message::binary(message.to_vec())).await.unwrap();
        }
        ws.flush().await.unwrap();
        ws.close(None).await.unwrap();
    })
    .await
    .expect("sent in time");
    let got = timeout(LIMIT, received).await.unwrap().unwrap();
    assert_eq!(got.len(), TOTAL);
    assert!(got == sent, "the backend got other bytes than were sent");
    // Whatever the recording kept, it accounts for every byte: kept or
    // marked as dropped.
    let (_, bytes) = recording(dir.path(), |b| {
        rfb_streams(b).is_some_and(|(_, c, _, lost_c)| c.len() as u64 + lost_c == TOTAL as u64)
    })
    .await;
    let (s, c, _, lost_c) = rfb_streams(&bytes).expect("whole records");
    assert!(s.is_empty());
    if lost_c == 0 {
        assert!(c == sent, "a complete recording holds what was sent");
    }
}
