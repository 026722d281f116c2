//! The RFB server against the RFB client helpers, over real sockets.

use std::sync::Arc;
use std::time::Duration;

use consoled_testkit::{
    fill, rfb_client_handshake, rfb_request_frame, FrameSource, RfbOptions, RfbServer,
};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio::time::timeout;

const LIMIT: Duration = Duration::from_secs(20);

struct Solid(u32);

impl FrameSource for Solid {
    fn render(&self, width: u16, height: u16, out: &mut Vec<u8>) {
        fill(width, height, self.0, out);
    }
}

#[tokio::test]
async fn handshake_and_frames() {
    let server = RfbServer::start().await.unwrap();
    let mut stream = TcpStream::connect(server.addr()).await.unwrap();
    let init = timeout(LIMIT, rfb_client_handshake(&mut stream))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        (init.width, init.height, init.name.as_str()),
        (320, 200, "consoled-test")
    );
    let first = timeout(LIMIT, rfb_request_frame(&mut stream, 320, 200))
        .await
        .unwrap()
        .unwrap();
    let second = timeout(LIMIT, rfb_request_frame(&mut stream, 320, 200))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(first.len(), 320 * 200 * 4);
    assert_ne!(first, second, "the default picture moves");
    assert_eq!(server.connections(), 1);
}

#[tokio::test]
async fn connect_path_is_required_and_checked() {
    let options = RfbOptions {
        connect_path: Some("/vm/42".into()),
        name: "vm-42".into(),
        width: 8,
        height: 4,
        frames: Arc::new(Solid(0x123456)),
    };
    let server = RfbServer::start_with(options).await.unwrap();

    let mut good = TcpStream::connect(server.addr()).await.unwrap();
    good.write_all(b"CONNECT /vm/42 HTTP/1.1\r\n\r\n")
        .await
        .unwrap();
    let mut answer = [0u8; 19];
    good.read_exact(&mut answer).await.unwrap();
    assert_eq!(&answer, b"HTTP/1.1 200 OK\r\n\r\n");
    let init = timeout(LIMIT, rfb_client_handshake(&mut good))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(init.name, "vm-42");
    let frame = timeout(LIMIT, rfb_request_frame(&mut good, 8, 4))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(&frame[..4], &[0x56, 0x34, 0x12, 0]);

    let mut bad = TcpStream::connect(server.addr()).await.unwrap();
    bad.write_all(b"CONNECT /vm/7 HTTP/1.1\r\n\r\n")
        .await
        .unwrap();
    let mut rest = Vec::new();
    timeout(LIMIT, bad.read_to_end(&mut rest))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(rest, b"HTTP/1.1 404 Not Found\r\n\r\n");
}

#[tokio::test]
async fn older_protocol_versions() {
    let server = RfbServer::start().await.unwrap();

    let mut v33 = TcpStream::connect(server.addr()).await.unwrap();
    let mut version = [0u8; 12];
    v33.read_exact(&mut version).await.unwrap();
    assert_eq!(&version, b"RFB 003.008\n");
    v33.write_all(b"RFB 003.003\n").await.unwrap();
    assert_eq!(
        v33.read_u32().await.unwrap(),
        1,
        "3.3: the server picks None"
    );
    v33.write_all(&[1]).await.unwrap();
    assert_eq!(v33.read_u16().await.unwrap(), 320);

    let mut v37 = TcpStream::connect(server.addr()).await.unwrap();
    v37.read_exact(&mut version).await.unwrap();
    v37.write_all(b"RFB 003.007\n").await.unwrap();
    let mut offer = [0u8; 2];
    v37.read_exact(&mut offer).await.unwrap();
    assert_eq!(offer, [1, 1]);
    // 3.7 has no SecurityResult for None: ServerInit follows the ClientInit.
    v37.write_all(&[1, 1]).await.unwrap();
    assert_eq!(v37.read_u16().await.unwrap(), 320);
    assert_eq!(v37.read_u16().await.unwrap(), 200);
}

#[tokio::test]
async fn honours_a_32bpp_pixel_format_and_answers_incremental_requests() {
    let options = RfbOptions {
        width: 2,
        height: 2,
        frames: Arc::new(Solid(0x112233)),
        ..RfbOptions::default()
    };
    let server = RfbServer::start_with(options).await.unwrap();
    let mut stream = TcpStream::connect(server.addr()).await.unwrap();
    rfb_client_handshake(&mut stream).await.unwrap();
    // Big-endian, red in the low byte: 0xffBBGGRR on the wire (padding
    // bits set).
    let mut set = vec![
        0, 0, 0, 0, 32, 24, 1, 1, 0, 255, 0, 255, 0, 255, 0, 8, 16, 0, 0, 0,
    ];
    set.extend_from_slice(&[2, 0, 0, 1, 0, 0, 0, 0]);
    stream.write_all(&set).await.unwrap();
    stream
        .write_all(&[3, 1, 0, 0, 0, 0, 0, 2, 0, 2])
        .await
        .unwrap();
    let mut head = [0u8; 16];
    timeout(LIMIT, stream.read_exact(&mut head))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(&head[..4], &[0, 0, 0, 1]);
    let mut pixel = [0u8; 4];
    stream.read_exact(&mut pixel).await.unwrap();
    assert_eq!(pixel, [0xff, 0x33, 0x22, 0x11]);
}

#[tokio::test]
async fn a_malformed_client_closes_only_its_own_connection() {
    let server = RfbServer::start().await.unwrap();
    let mut broken = TcpStream::connect(server.addr()).await.unwrap();
    rfb_client_handshake(&mut broken).await.unwrap();
    broken.write_all(&[99, 1, 2, 3]).await.unwrap();
    let mut rest = Vec::new();
    let _ = timeout(LIMIT, broken.read_to_end(&mut rest)).await.unwrap();
    assert!(rest.is_empty());

    let mut garbage = TcpStream::connect(server.addr()).await.unwrap();
    garbage.write_all(b"GET / HTTP/1.1\r\n\r\n").await.unwrap();
    // The server may reset rather than close, having left our bytes unread.
    let mut rest = Vec::new();
    let _ = timeout(LIMIT, garbage.read_to_end(&mut rest))
        .await
        .unwrap();
    assert_eq!(rest, b"RFB 003.008\n");

    let mut fine = TcpStream::connect(server.addr()).await.unwrap();
    rfb_client_handshake(&mut fine).await.unwrap();
    rfb_request_frame(&mut fine, 320, 200).await.unwrap();
    assert_eq!(server.connections(), 3);
}

#[tokio::test]
async fn many_clients_at_once() {
    let server = RfbServer::start().await.unwrap();
    let addr = server.addr();
    let clients: Vec<_> = (0..16)
        .map(|_| {
            tokio::spawn(async move {
                let mut s = TcpStream::connect(addr).await?;
                rfb_client_handshake(&mut s).await?;
                rfb_request_frame(&mut s, 320, 200).await
            })
        })
        .collect();
    for client in clients {
        let frame = timeout(LIMIT, client).await.unwrap().unwrap().unwrap();
        assert_eq!(frame.len(), 320 * 200 * 4);
    }
    assert_eq!(server.connections(), 16);
}

#[tokio::test]
async fn dropping_the_server_closes_its_sessions_and_listener() {
    let server = RfbServer::start().await.unwrap();
    let addr = server.addr();
    let mut stream = TcpStream::connect(addr).await.unwrap();
    rfb_client_handshake(&mut stream).await.unwrap();
    drop(server);
    let mut rest = Vec::new();
    // Closed (or reset) rather than left hanging.
    let _ = timeout(LIMIT, stream.read_to_end(&mut rest))
        .await
        .expect("the session closes with its server");
    assert!(rest.is_empty());
    timeout(LIMIT, async {
        while TcpStream::connect(addr).await.is_ok() {
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
    })
    .await
    .expect("the listener closes with its server");
}
