//! API.md section 9: `GET /consoled/v1/servers/{id}/screenshot`, a PNG of
//! the server's VNC screen with the identity and policy of a console,
//! against the test kit's VNC server.

use std::sync::Arc;

use consoled_core::Registry;
use consoled_driver_serial::SerialDriver;
use consoled_testkit::{FrameSource, RfbOptions, RfbServer, ServerBuilder};
use reqwest::Method;

use crate::harness::{settings, settings_with, Api, BARE, BUILDING, DELETING, OTHER, WEB};

/// Left half red, right half blue, one white pixel at the bottom right.
struct Halves;

impl FrameSource for Halves {
    fn render(&self, width: u16, height: u16, out: &mut Vec<u8>) {
        out.clear();
        for y in 0..height {
            for x in 0..width {
                // The test server's pixels: little-endian 0x00RRGGBB.
                let pixel = match (x, y) {
                    _ if x == width - 1 && y == height - 1 => [255, 255, 255, 0],
                    _ if x < width / 2 => [0, 0, 255, 0],
                    _ => [255, 0, 0, 0],
                };
                out.extend_from_slice(&pixel);
            }
        }
    }
}

const VM: &str = "5c1e0e5a-2222-4c4c-8888-00000000000a";

async fn with_vnc_server(api: &Api) -> RfbServer {
    let vnc = RfbServer::start_with(RfbOptions {
        width: 64,
        height: 48,
        frames: Arc::new(Halves),
        ..RfbOptions::default()
    })
    .await
    .unwrap();
    api.backend.insert(
        ServerBuilder::new(VM, "vm")
            .vnc("127.0.0.1", vnc.addr().port())
            .build(),
    );
    vnc
}

fn path(server: &str) -> String {
    format!("/consoled/v1/servers/{server}/screenshot")
}

/// The PNG's size and RGB pixels.
fn decode(png: &[u8]) -> (u32, u32, Vec<u8>) {
    let mut reader = png::Decoder::new(png).read_info().expect("a PNG");
    let mut buf = vec![0; reader.output_buffer_size()];
    let info = reader.next_frame(&mut buf).unwrap();
    assert_eq!(info.color_type, png::ColorType::Rgb);
    buf.truncate(info.buffer_size());
    (info.width, info.height, buf)
}

#[tokio::test]
async fn a_member_gets_a_png_of_the_screen() {
    let api = Api::start().await;
    let vnc = with_vnc_server(&api).await;
    let response = api
        .request(Method::GET, &path(VM))
        // A compute microversion means nothing here, even a bad one.
        .header("openstack-api-version", "compute 9.9")
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    let headers = response.headers().clone();
    assert_eq!(headers["content-type"], "image/png");
    assert_eq!(headers["cache-control"], "no-store");
    assert!(headers.contains_key("x-openstack-request-id"));
    assert!(!headers.contains_key("openstack-api-version"));
    let (width, height, rgb) = decode(&response.bytes().await.unwrap());
    assert_eq!((width, height), (64, 48));
    let at = |x: usize, y: usize| &rgb[(y * 64 + x) * 3..(y * 64 + x) * 3 + 3];
    assert_eq!(at(0, 0), [255, 0, 0]);
    assert_eq!(at(31, 47), [255, 0, 0]);
    assert_eq!(at(32, 0), [0, 0, 255]);
    assert_eq!(at(63, 46), [0, 0, 255]);
    assert_eq!(at(63, 47), [255, 255, 255]);
    assert_eq!(vnc.connections(), 1);
}

#[tokio::test]
async fn an_admin_may_take_any_projects_screen() {
    let api = Api::start().await;
    let _vnc = with_vnc_server(&api).await;
    let reply = api
        .request_as(Method::GET, &path(VM), "admin:ops")
        .send()
        .await
        .unwrap();
    assert_eq!(reply.status(), 200);
}

#[tokio::test]
async fn the_policy_of_a_console_applies() {
    let api = Api::start().await;
    let _vnc = with_vnc_server(&api).await;
    let send = |path: String, token: &'static str| {
        let api = &api;
        async move { api.send(api.request_as(Method::GET, &path, token)).await }
    };
    send(path(VM), "").await.fault(401, "unauthorized");
    send(path(VM), "bob:demo:reader")
        .await
        .fault(403, "forbidden");
    send(path(VM), "eve:other").await.fault(404, "itemNotFound");
    send(path(OTHER), "demo:demo")
        .await
        .fault(404, "itemNotFound");
    send(path("nope"), "demo:demo")
        .await
        .fault(404, "itemNotFound");
    send(path(DELETING), "demo:demo")
        .await
        .fault(409, "conflictingRequest");
    send(path(BUILDING), "demo:demo")
        .await
        .fault(409, "conflictingRequest");
    let message = send(path(BARE), "demo:demo").await.fault(400, "badRequest");
    assert!(message.contains("no VNC console"), "{message}");
    let reply = api.send(api.request(Method::POST, &path(VM))).await;
    reply.fault(405, "badMethod");
}

#[tokio::test]
async fn without_a_vnc_driver_it_is_501_and_with_every_vnc_type_off_400() {
    let serial = Registry::builder()
        .register(Arc::new(SerialDriver))
        .build()
        .unwrap();
    let api = Api::start_with(serial, settings()).await;
    let reply = api.send(api.request(Method::GET, &path(WEB))).await;
    reply.fault(501, "notImplemented");

    let mut off = settings_with("novnc", false, None);
    off.types.extend(settings_with("xvpvnc", false, None).types);
    let api = Api::start_with(Registry::from_inventory().unwrap(), off).await;
    let reply = api.send(api.request(Method::GET, &path(WEB))).await;
    reply.fault(400, "badRequest");
}

#[tokio::test]
async fn an_unreachable_vnc_server_is_503_without_its_address() {
    let api = Api::start().await;
    // Bound and closed: nothing listens there.
    let port = {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        listener.local_addr().unwrap().port()
    };
    api.backend
        .insert(ServerBuilder::new(VM, "vm").vnc("127.0.0.1", port).build());
    let reply = api.send(api.request(Method::GET, &path(VM))).await;
    let message = reply.fault(503, "serviceUnavailable");
    assert!(message.contains(VM), "{message}");
    assert!(!message.contains(&port.to_string()), "{message}");

    // A server that speaks something else than RFB: 503 too.
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    tokio::spawn(async move {
        use tokio::io::AsyncWriteExt;
        let (mut stream, _) = listener.accept().await.unwrap();
        stream.write_all(b"SSH-2.0-OpenSSH_9.2\r\n").await.unwrap();
    });
    api.backend
        .insert(ServerBuilder::new(VM, "vm").vnc("127.0.0.1", port).build());
    let reply = api.send(api.request(Method::GET, &path(VM))).await;
    reply.fault(503, "serviceUnavailable");
}
