//! Refused consoles: the backend sees no connection and the client gets
//! an empty-bodied 4xx, nothing it could read as data.

mod support;

use std::time::Duration;

use consoled_testkit::{FixedClock, RfbServer, SerialEcho, ServerBuilder};
use support::*;

#[tokio::test]
async fn unknown_token() {
    let (proxy, echo, _) = serial_console(ProxyBuilder::new().listener(&["serial"])).await;
    let response = exchange(
        proxy.addr(0),
        &upgrade_request(proxy.addr(0), "/?token=not-a-token", ""),
    )
    .await;
    assert_empty_refusal(&response, 403);
    assert_eq!(echo.connections(), 0);
}

#[tokio::test]
async fn missing_token() {
    let (proxy, echo, _) = serial_console(ProxyBuilder::new().listener(&["serial"])).await;
    let response = exchange(
        proxy.addr(0),
        &upgrade_request(proxy.addr(0), "/", "Cookie: lang=en\r\n"),
    )
    .await;
    assert_empty_refusal(&response, 403);
    assert_eq!(echo.connections(), 0);
}

#[tokio::test]
async fn expired_token() {
    let clock = FixedClock::at(1_700_000_000);
    let (proxy, echo, target) = serial_console(
        ProxyBuilder::new()
            .listener(&["serial"])
            .clock(clock.clone()),
    )
    .await;
    clock.advance(Duration::from_secs(601));
    let response = exchange(proxy.addr(0), &upgrade_request(proxy.addr(0), &target, "")).await;
    assert_empty_refusal(&response, 403);
    assert_eq!(echo.connections(), 0);
}

#[tokio::test]
async fn a_token_is_good_until_it_expires() {
    let clock = FixedClock::at(1_700_000_000);
    let (proxy, echo, target) = serial_console(
        ProxyBuilder::new()
            .listener(&["serial"])
            .clock(clock.clone()),
    )
    .await;
    clock.advance(Duration::from_secs(599));
    let (ws, _) = ws_connect(proxy.addr(0), &target, &[])
        .await
        .expect("still valid");
    drop(ws);
    let (ws, _) = ws_connect(proxy.addr(0), &target, &[])
        .await
        .expect("valid for many connections");
    drop(ws);
    assert_eq!(echo.connections(), 2);
}

#[tokio::test]
async fn token_of_another_listeners_type() {
    let (proxy, echo, target) = serial_console(
        ProxyBuilder::new()
            .listener(&["novnc"])
            .listener(&["serial"]),
    )
    .await;
    let response = exchange(proxy.addr(0), &upgrade_request(proxy.addr(0), &target, "")).await;
    assert_empty_refusal(&response, 403);
    assert_eq!(echo.connections(), 0);
    // The same token on its own listener works.
    ws_connect(proxy.addr(1), &target, &[])
        .await
        .expect("upgrade on the serial listener");
    assert_eq!(echo.connections(), 1);
}

#[tokio::test]
async fn origin_of_another_host() {
    let (proxy, echo, target) = serial_console(ProxyBuilder::new().listener(&["serial"])).await;
    let extra = "Origin: http://evil.example\r\n";
    let response = exchange(
        proxy.addr(0),
        &upgrade_request(proxy.addr(0), &target, extra),
    )
    .await;
    assert_empty_refusal(&response, 403);
    assert_eq!(echo.connections(), 0);
}

#[tokio::test]
async fn origin_scheme_mismatch() {
    // Serial's base URL is ws://: an https page may not open it.
    let (proxy, echo, target) = serial_console(ProxyBuilder::new().listener(&["serial"])).await;
    let extra = "Origin: https://127.0.0.1\r\n";
    let response = exchange(
        proxy.addr(0),
        &upgrade_request(proxy.addr(0), &target, extra),
    )
    .await;
    assert_empty_refusal(&response, 403);
    // A TLS-terminating proxy in front says the page was plain http.
    let headers = [
        ("Origin", "https://127.0.0.1"),
        ("X-Forwarded-Proto", "http"),
    ];
    ws_connect(proxy.addr(0), &target, &headers)
        .await
        .expect("forwarded scheme matches");
    assert_eq!(echo.connections(), 1);
}

#[tokio::test]
async fn matching_or_allowed_origins_pass() {
    let builder = ProxyBuilder::new()
        .listener(&["serial"])
        .settings(|s| s.allowed_origins = vec!["dashboard.example".into()]);
    let (proxy, echo, target) = serial_console(builder).await;
    let host = format!("http://127.0.0.1:{}", proxy.addr(0).port());
    ws_connect(proxy.addr(0), &target, &[("Origin", &host)])
        .await
        .expect("own host");
    ws_connect(
        proxy.addr(0),
        &target,
        &[("Origin", "http://dashboard.example")],
    )
    .await
    .expect("allowed origin");
    assert_eq!(echo.connections(), 2);
}

#[tokio::test]
async fn xvpvnc_refusals_are_empty_too() {
    let rfb = RfbServer::start().await.unwrap();
    let proxy = ProxyBuilder::new().listener(&["xvpvnc"]).start().await;
    proxy
        .mint(
            ServerBuilder::new(server_id(1), "vm").vnc("127.0.0.1", rfb.addr().port()),
            "vnc",
            "xvpvnc",
        )
        .await;
    let response = exchange(proxy.addr(0), "GET /console?token=wrong HTTP/1.1\r\n\r\n").await;
    assert_empty_refusal(&response, 403);
    let response = exchange(proxy.addr(0), "GET /console HTTP/1.1\r\n\r\n").await;
    assert_empty_refusal(&response, 403);
    assert_eq!(rfb.connections(), 0);
}

#[tokio::test]
async fn a_websocket_token_on_the_raw_front_is_refused() {
    let echo = SerialEcho::start().await.unwrap();
    let proxy = ProxyBuilder::new()
        .listener(&["xvpvnc", "serial"])
        .start()
        .await;
    let url = proxy.mint_serial(&echo).await;
    let request = format!("GET {} HTTP/1.1\r\n\r\n", console_target(&url));
    assert_empty_refusal(&exchange(proxy.addr(0), &request).await, 503);
    assert_eq!(echo.connections(), 0);
}

#[tokio::test]
async fn an_unreachable_backend_is_503_with_an_empty_body() {
    // A port nothing listens on: bound, then closed.
    let port = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap().port()
    };
    let proxy = ProxyBuilder::new().listener(&["serial"]).start().await;
    let url = proxy
        .mint(
            ServerBuilder::new(server_id(1), "vm").serial("127.0.0.1", port),
            "serial",
            "serial",
        )
        .await;
    let response = exchange(
        proxy.addr(0),
        &upgrade_request(proxy.addr(0), &console_target(&url), ""),
    )
    .await;
    assert_empty_refusal(&response, 503);
}

#[tokio::test]
async fn malformed_upgrades_are_400() {
    let (proxy, echo, target) = serial_console(ProxyBuilder::new().listener(&["serial"])).await;
    let bad_key =
        upgrade_request(proxy.addr(0), &target, "").replace("dGhlIHNhbXBsZSBub25jZQ==", "x");
    assert_empty_refusal(&exchange(proxy.addr(0), &bad_key).await, 400);
    let old = upgrade_request(proxy.addr(0), &target, "").replace("Version: 13", "Version: 8");
    let response = exchange(proxy.addr(0), &old).await;
    assert_empty_refusal(&response, 426);
    assert!(split_response(&response)
        .0
        .contains("Sec-WebSocket-Version: 13\r\n"));
    assert_empty_refusal(&exchange(proxy.addr(0), "GET / HTTP/9\r\n\r\n").await, 400);
    assert_eq!(echo.connections(), 0);
}
