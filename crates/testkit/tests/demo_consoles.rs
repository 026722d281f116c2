//! The demo consoles (`consoled demo`) over real sockets.

use std::sync::Arc;
use std::time::Duration;

use consoled_testkit::{
    rfb_client_handshake, rfb_request_frame, ClockFrames, RfbOptions, RfbServer, SerialLogin,
};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio::time::timeout;

const LIMIT: Duration = Duration::from_secs(20);

/// Reads until the console's output ends with `suffix`.
async fn read_until(stream: &mut TcpStream, suffix: &str) -> String {
    let mut seen = Vec::new();
    let mut buf = [0u8; 256];
    while !seen.ends_with(suffix.as_bytes()) {
        let n = timeout(LIMIT, stream.read(&mut buf))
            .await
            .unwrap()
            .unwrap();
        assert!(
            n > 0,
            "console closed; saw {:?}",
            String::from_utf8_lossy(&seen)
        );
        seen.extend_from_slice(&buf[..n]);
    }
    String::from_utf8(seen).unwrap()
}

#[tokio::test]
async fn serial_login_session() {
    let console = SerialLogin::start("demo-vm").await.unwrap();
    let mut stream = TcpStream::connect(console.addr()).await.unwrap();
    assert_eq!(
        read_until(&mut stream, "login: ").await,
        "\r\ndemo-vm login: "
    );
    stream.write_all(b"operator\r").await.unwrap();
    read_until(&mut stream, "Password: ").await;
    stream.write_all(b"hunter2\r").await.unwrap();
    let welcome = read_until(&mut stream, "$ ").await;
    assert!(
        welcome.contains("demo-vm") && !welcome.contains("hunter2"),
        "{welcome:?}"
    );
    stream.write_all(b"whoami\r").await.unwrap();
    assert_eq!(
        read_until(&mut stream, "$ ").await,
        "whoami\r\noperator\r\n$ "
    );
    stream.write_all(b"reboot\r").await.unwrap();
    assert!(read_until(&mut stream, "$ ")
        .await
        .contains("reboot: command not found"));
    stream.write_all(b"exit\r").await.unwrap();
    assert!(read_until(&mut stream, "login: ")
        .await
        .ends_with("demo-vm login: "));

    let mut second = TcpStream::connect(console.addr()).await.unwrap();
    read_until(&mut second, "login: ").await;
    assert_eq!(console.connections(), 2);
}

#[tokio::test]
async fn clock_frames_through_the_rfb_server() {
    let options = RfbOptions {
        name: "demo-vm".into(),
        width: 320,
        height: 200,
        frames: Arc::new(ClockFrames {
            title: "demo-vm".into(),
        }),
        ..RfbOptions::default()
    };
    let server = RfbServer::start_with(options).await.unwrap();
    let mut stream = TcpStream::connect(server.addr()).await.unwrap();
    let init = timeout(LIMIT, rfb_client_handshake(&mut stream))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(init.name, "demo-vm");
    let frame = timeout(LIMIT, rfb_request_frame(&mut stream, 320, 200))
        .await
        .unwrap()
        .unwrap();
    let white = frame
        .chunks_exact(4)
        .filter(|px| px[..3] == [0xff, 0xff, 0xff])
        .count();
    assert!(white > 500, "the clock is drawn in white ({white} pixels)");
}
