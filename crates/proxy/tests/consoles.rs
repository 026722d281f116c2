//! Every console type end to end: a URL minted by the dispatcher, opened
//! the way its browser client opens it, relayed to the test kit's backend.

mod support;

use bytes::Bytes;
use consoled_core::Endpoint;
use consoled_testkit::{
    rfb_client_handshake, rfb_request_frame, spice_link_message, spice_read_link_reply,
    AuthdEndpoint, AuthdOptions, RfbOptions, RfbServer, SerialEcho, ServerBuilder, SpiceEndpoint,
};
use futures_util::{SinkExt, StreamExt};
use support::*;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio::time::timeout;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::WebSocketStream;

async fn next_message(ws: &mut WebSocketStream<TcpStream>) -> Message {
    timeout(LIMIT, ws.next())
        .await
        .expect("a message in time")
        .expect("open")
        .expect("valid")
}

/// Reads binary frames until `n` bytes have arrived.
async fn read_bytes(ws: &mut WebSocketStream<TcpStream>, n: usize) -> Vec<u8> {
    let mut got = Vec::new();
    while got.len() < n {
        match next_message(ws).await {
            Message::Binary(data) => got.extend_from_slice(&data),
            other => panic!("expected binary data, got {other:?}"),
        }
    }
    got
}

async fn novnc_session(rfb: &RfbServer, server: ServerBuilder) {
    let proxy = ProxyBuilder::new().listener(&["novnc"]).start().await;
    let url = proxy.mint(server, "vnc", "novnc").await;
    assert!(
        url.query().unwrap_or_default().starts_with("path="),
        "{url}"
    );
    // noVNC asks for `/?token=...` and offers no subprotocol.
    let target = console_target(&url);
    assert!(target.starts_with("/?token="), "{target}");
    let (mut ws, response) = ws_connect(proxy.addr(0), &target, &[])
        .await
        .expect("upgrade");
    assert!(response.headers().get("sec-websocket-protocol").is_none());
    // Tempest reads the version as one small frame of its own.
    let version = next_message(&mut ws).await;
    assert_eq!(version, Message::binary(&b"RFB 003.008\n"[..]));
    let mut io = WsIo::new(ws, Bytes::from_static(b"RFB 003.008\n"));
    let init = timeout(LIMIT, rfb_client_handshake(&mut io))
        .await
        .unwrap()
        .expect("RFB handshake");
    assert_eq!((init.width, init.height), (320, 200));
    assert_eq!(init.name, "consoled-test");
    let pixels = timeout(LIMIT, rfb_request_frame(&mut io, init.width, init.height))
        .await
        .unwrap()
        .expect("a frame");
    assert_eq!(pixels.len(), 320 * 200 * 4);
    assert_eq!(rfb.connections(), 1);
}

#[tokio::test]
async fn novnc_completes_the_rfb_handshake() {
    let rfb = RfbServer::start().await.unwrap();
    let server = ServerBuilder::new(server_id(1), "vm").vnc("127.0.0.1", rfb.addr().port());
    novnc_session(&rfb, server).await;
}

#[tokio::test]
async fn novnc_through_a_connect_path() {
    let rfb = RfbServer::start_with(RfbOptions {
        connect_path: Some("/vm/42".into()),
        ..RfbOptions::default()
    })
    .await
    .unwrap();
    let server = ServerBuilder::new(server_id(1), "vm").console(
        "vnc",
        Endpoint {
            host: "127.0.0.1".into(),
            port: rfb.addr().port(),
            tls_port: None,
            internal_access_path: Some("/vm/42".into()),
            unix_socket: None,
        },
    );
    novnc_session(&rfb, server).await;
}

#[tokio::test]
async fn serial_echoes_binary_and_text_frames() {
    let echo = SerialEcho::start().await.unwrap();
    let proxy = ProxyBuilder::new().listener(&["serial"]).start().await;
    let url = proxy.mint_serial(&echo).await;
    assert_eq!(url.scheme(), "ws");
    // Horizon's serial console offers `binary` and `base64`.
    let (mut ws, response) = ws_connect(
        proxy.addr(0),
        &console_target(&url),
        &[("Sec-WebSocket-Protocol", "binary, base64")],
    )
    .await
    .expect("upgrade");
    assert_eq!(response.headers()["sec-websocket-protocol"], "binary");
    ws.send(Message::binary(&b"\x1b[A"[..])).await.unwrap();
    assert_eq!(read_bytes(&mut ws, 3).await, b"\x1b[A");
    ws.send(Message::text("uname -a\r")).await.unwrap();
    assert_eq!(read_bytes(&mut ws, 9).await, b"uname -a\r");
    ws.close(None).await.unwrap();
    assert_eq!(echo.connections(), 1);
}

#[tokio::test]
async fn spice_html5_opens_two_channels_with_a_cookie_token() {
    let spice = SpiceEndpoint::start().await.unwrap();
    let proxy = ProxyBuilder::new().listener(&["spice-html5"]).start().await;
    let url = proxy
        .mint(
            ServerBuilder::new(server_id(1), "vm").endpoint(
                "spice",
                "127.0.0.1",
                spice.addr().port(),
            ),
            "spice",
            "spice-html5",
        )
        .await;
    let cookie = format!("token={}", token_of(&url));
    let headers = [
        ("Cookie", cookie.as_str()),
        ("Sec-WebSocket-Protocol", "binary"),
    ];
    // spice-html5 asks for `/` and sends the token only as a cookie, one
    // WebSocket per channel, all open at once.
    let (main, main_response) = ws_connect(proxy.addr(0), "/", &headers)
        .await
        .expect("main channel");
    let (display, _) = ws_connect(proxy.addr(0), "/", &headers)
        .await
        .expect("display channel");
    assert_eq!(main_response.headers()["sec-websocket-protocol"], "binary");
    let mut channels = Vec::new();
    for ws in [main, display] {
        let mut io = WsIo::new(ws, Bytes::new());
        io.write_all(&spice_link_message()).await.unwrap();
        let error = timeout(LIMIT, spice_read_link_reply(&mut io))
            .await
            .unwrap()
            .expect("link reply");
        assert_eq!(error, 0);
        channels.push(io);
    }
    assert_eq!(spice.connections(), 2);
    // Both channels still relay: the endpoint echoes after the link.
    for io in &mut channels {
        io.write_all(b"ch").await.unwrap();
        let mut echoed = [0u8; 2];
        timeout(LIMIT, io.read_exact(&mut echoed))
            .await
            .unwrap()
            .unwrap();
        assert_eq!(&echoed, b"ch");
    }
}

#[tokio::test]
async fn webmks_runs_the_authd_exchange_then_relays() {
    let authd = AuthdEndpoint::start(AuthdOptions {
        ticket: "52-ticket".into(),
        cfg_file: "[datastore1] vm/vm.vmx".into(),
    })
    .await
    .unwrap();
    let proxy = ProxyBuilder::new().listener(&["webmks"]).start().await;
    let server = ServerBuilder::new(server_id(1), "vm").console(
        "mks",
        Endpoint {
            host: "127.0.0.1".into(),
            port: authd.addr().port(),
            tls_port: None,
            internal_access_path: Some(authd.internal_access_path()),
            unix_socket: None,
        },
    );
    let url = proxy.mint(server, "mks", "webmks").await;
    let (mut ws, _) = ws_connect(
        proxy.addr(0),
        &console_target(&url),
        &[("Sec-WebSocket-Protocol", "binary")],
    )
    .await
    .expect("upgrade");
    ws.send(Message::binary(&b"mks bytes"[..])).await.unwrap();
    assert_eq!(read_bytes(&mut ws, 9).await, b"mks bytes");
    // The endpoint echoes only after the whole exchange, inner TLS included.
    assert_eq!(authd.authenticated(), 1);
    assert_eq!(authd.connections(), 1);
}

#[tokio::test]
async fn rdp_html5_relays_to_its_tcp_backend() {
    let echo = SerialEcho::start().await.unwrap();
    let proxy = ProxyBuilder::new().listener(&["rdp-html5"]).start().await;
    let url = proxy
        .mint(
            ServerBuilder::new(server_id(1), "vm").endpoint("rdp", "127.0.0.1", echo.addr().port()),
            "rdp",
            "rdp-html5",
        )
        .await;
    let (mut ws, _) = ws_connect(proxy.addr(0), &console_target(&url), &[])
        .await
        .expect("upgrade");
    ws.send(Message::binary(&b"\x03\x00\x00\x13"[..]))
        .await
        .unwrap();
    assert_eq!(read_bytes(&mut ws, 4).await, b"\x03\x00\x00\x13");
    assert_eq!(echo.connections(), 1);
}

#[tokio::test]
async fn xvpvnc_relays_raw_tcp_after_the_request_line() {
    let rfb = RfbServer::start().await.unwrap();
    let proxy = ProxyBuilder::new().listener(&["xvpvnc"]).start().await;
    let url = proxy
        .mint(
            ServerBuilder::new(server_id(1), "vm").vnc("127.0.0.1", rfb.addr().port()),
            "vnc",
            "xvpvnc",
        )
        .await;
    let mut tcp = TcpStream::connect(proxy.addr(0)).await.unwrap();
    tcp.write_all(format!("GET {} HTTP/1.1\r\n\r\n", console_target(&url)).as_bytes())
        .await
        .unwrap();
    let mut accepted = [0u8; 19];
    timeout(LIMIT, tcp.read_exact(&mut accepted))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(&accepted, b"HTTP/1.1 200 OK\r\n\r\n");
    let init = timeout(LIMIT, rfb_client_handshake(&mut tcp))
        .await
        .unwrap()
        .expect("RFB handshake");
    let pixels = timeout(LIMIT, rfb_request_frame(&mut tcp, init.width, init.height))
        .await
        .unwrap()
        .expect("a frame");
    assert_eq!(
        pixels.len(),
        usize::from(init.width) * usize::from(init.height) * 4
    );
}

#[tokio::test]
async fn one_listener_serves_several_types() {
    let echo = SerialEcho::start().await.unwrap();
    let rfb = RfbServer::start().await.unwrap();
    let proxy = ProxyBuilder::new()
        .listener(&["novnc", "serial"])
        .start()
        .await;
    let server = ServerBuilder::new(server_id(1), "vm")
        .vnc("127.0.0.1", rfb.addr().port())
        .serial("127.0.0.1", echo.addr().port());
    let vnc_url = proxy.mint(server.clone(), "vnc", "novnc").await;
    let serial_url = proxy.mint(server, "serial", "serial").await;
    let (mut vnc, _) = ws_connect(proxy.addr(0), &console_target(&vnc_url), &[])
        .await
        .expect("novnc");
    let (mut serial, _) = ws_connect(proxy.addr(0), &console_target(&serial_url), &[])
        .await
        .expect("serial");
    assert_eq!(
        next_message(&mut vnc).await,
        Message::binary(&b"RFB 003.008\n"[..])
    );
    serial.send(Message::binary(&b"x"[..])).await.unwrap();
    assert_eq!(read_bytes(&mut serial, 1).await, b"x");
}
