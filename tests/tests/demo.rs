//! `consoled demo --any-port` as a newcomer runs it: every URL and
//! command it prints works as printed.

use std::process::Command;

use consoled_e2e::chromium::Browser;
use consoled_e2e::console_urls::token_of;
use consoled_e2e::consoled::artifact;
use consoled_e2e::demo::{CurlRequest, Demo};
use consoled_e2e::novnc_page::{wait_for_frame, CONNECT_LIMIT, LITE_CONNECTED, LITE_STATUS};
use consoled_e2e::stack::LIMIT;
use consoled_e2e::tools::{require_chromium, require_novnc, require_openstack};
use consoled_e2e::ws;
use consoled_e2e::ws_text::read_until;
use futures_util::SinkExt;
use serde_json::Value;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio::time::timeout;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::WebSocketStream;
use url::Url;

fn printed_url(demo: &Demo, console_type: &str) -> String {
    demo.printed
        .urls
        .get(console_type)
        .unwrap_or_else(|| panic!("no {console_type} URL printed:\n{}", demo.welcome))
        .clone()
}

async fn type_line(socket: &mut WebSocketStream<TcpStream>, line: &str) {
    socket
        .send(Message::binary(line.as_bytes().to_vec()))
        .await
        .expect("typed");
}

#[tokio::test]
async fn serial_url_logs_in_and_runs_a_command() {
    let demo = Demo::start(LIMIT).await;
    let url = printed_url(&demo, "serial");
    let (mut socket, response) = timeout(
        LIMIT,
        ws::open(&url, &[("Sec-WebSocket-Protocol", "binary")]),
    )
    .await
    .expect("WebSocket handshake in time")
    .unwrap_or_else(|e| panic!("serial WebSocket: {e}\n{}", demo.log()));
    assert_eq!(response.headers()["sec-websocket-protocol"], "binary");

    let mut seen = Vec::new();
    read_until(&mut socket, &mut seen, "web-1 login: ", LIMIT).await;
    type_line(&mut socket, "alice\r").await;
    read_until(&mut socket, &mut seen, "Password: ", LIMIT).await;
    type_line(&mut socket, "not-a-real-password\r").await;
    let greeting = read_until(&mut socket, &mut seen, "$ ", LIMIT).await;
    assert!(
        !greeting.contains("not-a-real-password"),
        "passwords are not echoed"
    );
    type_line(&mut socket, "uname\r").await;
    let output = read_until(&mut socket, &mut seen, "$ ", LIMIT).await;
    assert!(output.contains("uname\r\nLinux\r\n"), "{output:?}");
    let _ = socket.close(None).await;
}

#[tokio::test]
async fn novnc_url_shows_the_demo_screen_in_chromium() {
    require_chromium();
    require_novnc();
    let demo = Demo::start(LIMIT).await;
    let url = printed_url(&demo, "novnc");
    let mut browser = Browser::open(&url).await;
    let connected = browser.wait_until(LITE_CONNECTED, CONNECT_LIMIT).await;
    let status = browser.eval(LITE_STATUS).await;
    assert!(connected, "noVNC did not connect: {status}\n{}", demo.log());
    assert_eq!(status, "Connected to web-1");
    let pixels = wait_for_frame(&mut browser, "#screen").await;
    browser.screenshot(&artifact("demo-novnc.png")).await;
    assert!(
        pixels.is_some_and(|p| p.complete_and_lit()),
        "no whole, non-black frame on the canvas: {pixels:?}"
    );
}

#[tokio::test]
async fn xvpvnc_url_relays_rfb_over_raw_tcp() {
    let demo = Demo::start(LIMIT).await;
    let url = Url::parse(&printed_url(&demo, "xvpvnc")).expect("xvpvnc URL");
    let token = token_of(url.as_str());
    let host = url.host_str().expect("host");
    let port = url.port().expect("port");
    let mut tcp = tokio::net::TcpStream::connect((host, port))
        .await
        .expect("the xvpvnc proxy accepts");
    let request = format!(
        "GET {}?token={token} HTTP/1.1\r\nHost: {host}:{port}\r\n\r\n",
        url.path()
    );
    tcp.write_all(request.as_bytes()).await.expect("sent");
    let mut answer = [0u8; 19 + 12];
    timeout(LIMIT, tcp.read_exact(&mut answer))
        .await
        .expect("an answer in time")
        .unwrap_or_else(|e| panic!("xvpvnc answer: {e}\n{}", demo.log()));
    assert_eq!(
        String::from_utf8_lossy(&answer),
        "HTTP/1.1 200 OK\r\n\r\nRFB 003.008\n"
    );
}

#[tokio::test]
async fn printed_commands_mint_console_urls() {
    require_openstack();
    let demo = Demo::start(LIMIT).await;
    let novnc_base = printed_url(&demo, "novnc");
    let novnc_base = novnc_base
        .split_once("?path=")
        .expect("a noVNC URL")
        .0
        .to_owned();

    let curl = CurlRequest::parse(&demo.printed.curl);
    let client = reqwest::Client::builder()
        .timeout(LIMIT)
        .build()
        .expect("HTTP client");
    let method = curl.method.parse().expect("an HTTP method");
    let mut request = client.request(method, &curl.url);
    for (name, value) in &curl.headers {
        request = request.header(name, value);
    }
    if let Some(body) = &curl.body {
        request = request.body(body.clone());
    }
    let response = request.send().await.expect("the API answers");
    assert_eq!(response.status(), 200);
    let body: Value = response.json().await.expect("JSON");
    let minted = body["remote_console"]["url"].as_str().expect("a URL");
    assert!(
        minted.starts_with(&format!("{novnc_base}?path=%3Ftoken%3D")),
        "{minted}"
    );

    let openstack = &demo.printed.openstack;
    assert_eq!(openstack[0], "openstack", "{openstack:?}");
    let output = tokio::task::spawn_blocking({
        let args = openstack[1..].to_vec();
        move || {
            Command::new("openstack")
                .args(args)
                // The runner's own cloud settings must not leak in.
                .env_remove("OS_CLOUD")
                .env_remove("OS_AUTH_URL")
                .env_remove("OS_COMPUTE_API_VERSION")
                .output()
                .expect("openstack runs")
        }
    })
    .await
    .expect("openstack finished");
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        output.status.success(),
        "openstack failed: {}\n{stdout}\n{}",
        String::from_utf8_lossy(&output.stderr),
        demo.log()
    );
    assert!(
        stdout.contains(&format!("{novnc_base}?path=%3Ftoken%3D")),
        "openstack printed no novnc URL:\n{stdout}"
    );
}
