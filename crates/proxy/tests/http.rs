//! What a listener answers besides consoles: the health check, static
//! files, probes; and the configurations it refuses to start with.

mod support;

use std::net::SocketAddr;
use std::time::Duration;

use consoled_core::DispatchSettings;
use consoled_proxy::{ListenerConfig, ProxyError, ProxyServer, ProxySettings};
use consoled_testkit::{FakeBackend, ServerBuilder};
use support::*;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio::time::timeout;

const PAGE: &str = "<!DOCTYPE html><html><head><title>noVNC</title>\
                    <script type=\"module\" src=\"app/ui.js\"></script></head><body></body></html>";

fn any_port() -> SocketAddr {
    SocketAddr::from(([127, 0, 0, 1], 0))
}

fn web_root() -> TempDir {
    let root = TempDir::new("novnc");
    root.write("vnc_auto.html", PAGE);
    root.write("app/ui.js", "export default 1;\n");
    root
}

#[tokio::test]
async fn health_answers_without_a_token() {
    let proxy = ProxyBuilder::new().listener(&["serial"]).start().await;
    let response = exchange(
        proxy.addr(0),
        "GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n",
    )
    .await;
    let (head, body) = split_response(&response);
    assert!(head.starts_with("HTTP/1.1 200 OK\r\n"), "{head}");
    assert_eq!(body, b"ok\n");
    // hyper answers an HTTP/1.0 request in HTTP/1.0.
    let response = exchange(proxy.addr(0), "HEAD /healthz HTTP/1.0\r\n\r\n").await;
    let (head, body) = split_response(&response);
    assert!(head.starts_with("HTTP/1.0 200 OK\r\n"), "{head}");
    assert!(body.is_empty());
}

#[tokio::test]
async fn health_checks_share_a_kept_alive_connection() {
    let proxy = ProxyBuilder::new().listener(&["serial"]).start().await;
    let mut tcp = TcpStream::connect(proxy.addr(0)).await.unwrap();
    let one = "GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n";
    // Two pipelined requests, then a third that closes.
    tcp.write_all(
        format!("{one}{one}GET /healthz HTTP/1.1\r\nConnection: close\r\n\r\n").as_bytes(),
    )
    .await
    .unwrap();
    let mut all = Vec::new();
    timeout(LIMIT, tcp.read_to_end(&mut all))
        .await
        .unwrap()
        .unwrap();
    let text = String::from_utf8(all).unwrap();
    assert_eq!(text.matches("HTTP/1.1 200 OK").count(), 3, "{text}");
}

#[tokio::test]
async fn static_files_and_tempests_page_check() {
    let root = web_root();
    let rfb = consoled_testkit::RfbServer::start().await.unwrap();
    let listener = ListenerConfig::new(any_port(), ["novnc"]).with_web_root(root.path());
    let proxy = ProxyBuilder::new().listener_config(listener).start().await;
    let url = proxy
        .mint(
            ServerBuilder::new(server_id(1), "vm").vnc("127.0.0.1", rfb.addr().port()),
            "vnc",
            "novnc",
        )
        .await;
    // GET on the console URL: an HTML page with noVNC and a script tag.
    let target = format!("{}?{}", url.path(), url.query().unwrap());
    let request = format!("GET {target} HTTP/1.1\r\nHost: h\r\nConnection: close\r\n\r\n");
    let response = exchange(proxy.addr(0), &request).await;
    let (head, body) = split_response(&response);
    assert!(head.starts_with("HTTP/1.1 200 OK\r\n"), "{head}");
    assert!(head.contains("Content-Type: text/html"), "{head}");
    let page = String::from_utf8(body).unwrap();
    assert!(page.contains("noVNC") && page.contains("<script"), "{page}");
    // The page's modules load from the same root; the token is not needed.
    let response = exchange(proxy.addr(0), "GET /app/ui.js HTTP/1.0\r\n\r\n").await;
    let (head, body) = split_response(&response);
    assert!(head.contains("Content-Type: text/javascript"), "{head}");
    assert_eq!(body, b"export default 1;\n");
    assert_eq!(rfb.connections(), 0, "a page load opens no console");
}

/// The value of header `name` in a response head.
fn header<'a>(head: &'a str, name: &str) -> Option<&'a str> {
    head.lines()
        .filter_map(|line| line.split_once(':'))
        .find(|(n, _)| n.eq_ignore_ascii_case(name))
        .map(|(_, v)| v.trim())
}

/// Stands for `app.js` gzipped: the proxy sends the file as it is.
const APP_JS_GZ: &[u8] = b"\x1f\x8b\x08\x00 app.js, gzipped";

#[tokio::test]
async fn pages_revalidate_with_304_and_send_gzip_siblings() {
    let root = web_root();
    root.write("app.js", "export const rfb = 1;\n");
    root.write("app.js.gz", APP_JS_GZ);
    let listener = ListenerConfig::new(any_port(), ["novnc"]).with_web_root(root.path());
    let proxy = ProxyBuilder::new().listener_config(listener).start().await;

    let first = exchange(
        proxy.addr(0),
        "GET /vnc_auto.html HTTP/1.1\r\nHost: h\r\nConnection: close\r\n\r\n",
    )
    .await;
    let (head, body) = split_response(&first);
    assert_eq!(status_of(&first), 200, "{head}");
    assert_eq!(body, PAGE.as_bytes());
    assert_eq!(header(&head, "x-content-type-options"), Some("nosniff"));
    assert_eq!(header(&head, "cache-control"), Some("no-cache"));
    let last_modified = header(&head, "last-modified").expect("Last-Modified");
    // A browser revalidating its copy gets 304 and no body.
    let again = exchange(
        proxy.addr(0),
        &format!(
            "GET /vnc_auto.html HTTP/1.1\r\nHost: h\r\nIf-Modified-Since: {last_modified}\r\n\
             Connection: close\r\n\r\n"
        ),
    )
    .await;
    let (head, body) = split_response(&again);
    assert!(head.starts_with("HTTP/1.1 304 "), "{head}");
    assert!(body.is_empty(), "a 304 has no body");

    // A client that accepts gzip gets the .gz sibling, as gzip.
    let gzipped = exchange(
        proxy.addr(0),
        "GET /app.js HTTP/1.1\r\nHost: h\r\nAccept-Encoding: gzip\r\nConnection: close\r\n\r\n",
    )
    .await;
    let (head, body) = split_response(&gzipped);
    assert_eq!(status_of(&gzipped), 200, "{head}");
    assert_eq!(header(&head, "content-encoding"), Some("gzip"), "{head}");
    assert!(head.contains("Content-Type: text/javascript"), "{head}");
    assert_eq!(body, APP_JS_GZ);
    // One that does not gets the file itself.
    let plain = exchange(
        proxy.addr(0),
        "GET /app.js HTTP/1.1\r\nHost: h\r\nConnection: close\r\n\r\n",
    )
    .await;
    let (head, body) = split_response(&plain);
    assert_eq!(header(&head, "content-encoding"), None, "{head}");
    assert_eq!(body, b"export const rfb = 1;\n");
    // And a range of it.
    let part = exchange(
        proxy.addr(0),
        "GET /app.js HTTP/1.1\r\nHost: h\r\nRange: bytes=7-11\r\nConnection: close\r\n\r\n",
    )
    .await;
    assert_eq!(status_of(&part), 206);
    assert_eq!(split_response(&part).1, b"const");
}

#[tokio::test]
async fn static_paths_that_leave_the_root_are_refused() {
    let root = web_root();
    let listener = ListenerConfig::new(any_port(), ["novnc"]).with_web_root(root.path());
    let proxy = ProxyBuilder::new().listener_config(listener).start().await;
    for path in [
        "//evil.example/",
        "//",
        "/../etc/passwd",
        "/app/%2e%2e/%2e%2e/etc/passwd",
    ] {
        let response = exchange(
            proxy.addr(0),
            &format!("GET {path} HTTP/1.1\r\nHost: h\r\n\r\n"),
        )
        .await;
        assert_empty_refusal(&response, 400);
    }
    let response = exchange(
        proxy.addr(0),
        "GET /missing.html HTTP/1.1\r\nHost: h\r\n\r\n",
    )
    .await;
    assert_empty_refusal(&response, 404);
    let response = exchange(
        proxy.addr(0),
        "POST /vnc_auto.html HTTP/1.1\r\nHost: h\r\n\r\n",
    )
    .await;
    assert_empty_refusal(&response, 405);
}

#[tokio::test]
async fn no_web_root_means_no_pages() {
    let proxy = ProxyBuilder::new().listener(&["serial"]).start().await;
    let response = exchange(proxy.addr(0), "GET /index.html HTTP/1.1\r\nHost: h\r\n\r\n").await;
    assert_empty_refusal(&response, 404);
}

#[tokio::test]
async fn half_open_probes_do_not_disturb_the_listener() {
    let proxy = ProxyBuilder::new()
        .listener(&["serial"])
        .settings(|s| s.handshake_timeout = Duration::from_millis(300))
        .start()
        .await;
    // A load balancer's TCP probe: connects, sends nothing, stays.
    let mut silent = TcpStream::connect(proxy.addr(0)).await.unwrap();
    // One that sends half a head.
    let mut partial = TcpStream::connect(proxy.addr(0)).await.unwrap();
    partial
        .write_all(b"GET /healthz HTTP/1.1\r\nHo")
        .await
        .unwrap();
    // Meanwhile the listener serves others.
    let response = exchange(
        proxy.addr(0),
        "GET /healthz HTTP/1.1\r\nConnection: close\r\n\r\n",
    )
    .await;
    assert_eq!(status_of(&response), 200);
    // The probes are let go: closed without a byte.
    for probe in [&mut silent, &mut partial] {
        let mut rest = Vec::new();
        timeout(LIMIT, probe.read_to_end(&mut rest))
            .await
            .unwrap()
            .unwrap();
        assert!(rest.is_empty());
    }
    let response = exchange(
        proxy.addr(0),
        "GET /healthz HTTP/1.1\r\nConnection: close\r\n\r\n",
    )
    .await;
    assert_eq!(status_of(&response), 200);
}

#[tokio::test]
async fn oversized_heads_are_431() {
    let proxy = ProxyBuilder::new().listener(&["serial"]).start().await;
    let request = format!(
        "GET /healthz HTTP/1.1\r\nX-Big: {}\r\n\r\n",
        "a".repeat(20_000)
    );
    let mut tcp = TcpStream::connect(proxy.addr(0)).await.unwrap();
    // The proxy may close before it has read everything; that is fine.
    let _ = tcp.write_all(request.as_bytes()).await;
    let mut response = Vec::new();
    let _ = timeout(LIMIT, tcp.read_to_end(&mut response))
        .await
        .unwrap();
    assert_empty_refusal(&response, 431);
}

async fn bind(listeners: Vec<ListenerConfig>) -> Result<ProxyServer, ProxyError> {
    let dispatcher = dispatcher(
        std::sync::Arc::new(FakeBackend::new()),
        DispatchSettings::default(),
        None,
    );
    ProxyServer::bind(dispatcher, ProxySettings::default(), listeners).await
}

#[tokio::test]
async fn bind_refuses_what_it_cannot_serve() {
    let err = bind(vec![ListenerConfig::new(any_port(), ["telnet"])])
        .await
        .err()
        .unwrap();
    assert!(
        matches!(err, ProxyError::NoDriver { ref console_type, .. } if console_type == "telnet")
    );
    assert!(
        err.to_string().contains("novnc"),
        "lists what is available: {err}"
    );
    let err = bind(vec![ListenerConfig::new(any_port(), ["spice-direct"])])
        .await
        .err()
        .unwrap();
    assert!(matches!(err, ProxyError::ExternalFront { .. }), "{err}");
    let err = bind(vec![ListenerConfig::new(any_port(), Vec::<String>::new())])
        .await
        .err()
        .unwrap();
    assert!(matches!(err, ProxyError::NoTypes { .. }), "{err}");
    let err = bind(vec![]).await.err().unwrap();
    assert!(matches!(err, ProxyError::NoListeners), "{err}");
    let missing = ListenerConfig::new(any_port(), ["serial"])
        .with_tls("/nonexistent/cert.pem", "/nonexistent/key.pem");
    let err = bind(vec![missing]).await.err().unwrap();
    assert!(
        matches!(err, ProxyError::Tls { ref path, .. } if path.ends_with("cert.pem")),
        "{err}"
    );
    let root = ListenerConfig::new(any_port(), ["novnc"]).with_web_root("/nonexistent/novnc");
    let err = bind(vec![root]).await.err().unwrap();
    assert!(matches!(err, ProxyError::WebRoot { .. }), "{err}");
    let dispatcher = dispatcher(
        std::sync::Arc::new(FakeBackend::new()),
        DispatchSettings::default(),
        None,
    );
    let settings = ProxySettings {
        keepalive_interval: Some(Duration::ZERO),
        ..ProxySettings::default()
    };
    let err = ProxyServer::bind(
        dispatcher,
        settings,
        vec![ListenerConfig::new(any_port(), ["serial"])],
    )
    .await
    .err()
    .unwrap();
    assert!(matches!(err, ProxyError::Settings(_)), "{err}");
    let taken = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let busy = ListenerConfig::new(taken.local_addr().unwrap(), ["serial"]);
    let err = bind(vec![busy]).await.err().unwrap();
    assert!(matches!(err, ProxyError::Bind { .. }), "{err}");
}

#[tokio::test]
async fn local_addrs_follow_the_configuration() {
    let server = bind(vec![
        ListenerConfig::new(any_port(), ["novnc"]),
        ListenerConfig::new(any_port(), ["serial"]),
    ])
    .await
    .unwrap();
    let addrs = server.local_addrs();
    assert_eq!(addrs.len(), 2);
    assert!(addrs.iter().all(|a| a.ip().is_loopback() && a.port() != 0));
    assert_ne!(addrs[0], addrs[1]);
}

#[tokio::test]
async fn bind_refuses_half_a_tls_pair_naming_the_key() {
    let mut half = ListenerConfig::new(any_port(), ["serial"]);
    half.tls_cert = Some("/nonexistent/cert.pem".into());
    let err = bind(vec![ListenerConfig::new(any_port(), ["serial"]), half])
        .await
        .err()
        .unwrap();
    assert!(
        matches!(err, ProxyError::Settings(ref e) if e.key == "listeners[1].tls_key"),
        "{err}"
    );
}
