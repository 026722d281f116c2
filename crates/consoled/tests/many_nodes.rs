//! Several nodes, one Redis: `consoled api` mints a token that two
//! separate `consoled proxy` processes both accept, as behind a load
//! balancer. Real processes, a real redis-server, the test kit's RFB server
//! as the VM.

mod common;

use std::path::Path;
use std::time::Duration;

use common::{console_url, free_port, run, temp_dir, Served, WEB};
use consoled_testkit::{rfb_client_handshake, RedisServer, RfbOptions, RfbServer, WsIo};
use tokio_tungstenite::tungstenite::client::IntoClientRequest;

/// A node's configuration: every node shares the inventory, the base URL
/// (any proxy serves any token) and the Redis; `proxy_port` is this node's
/// own listener.
fn node_config(
    dir: &Path,
    name: &str,
    redis: &str,
    vnc: std::net::SocketAddr,
    base_port: u16,
    proxy_port: u16,
) -> std::path::PathBuf {
    common::write_vnc_inventory(dir, vnc);
    let path = dir.join(format!("{name}.toml"));
    std::fs::write(
        &path,
        format!(
            "[api]\nlisten = \"127.0.0.1:0\"\n\
             [tokens]\nstore = \"redis\"\nredis_url = \"{redis}\"\nredis_key_prefix = \"many-nodes:\"\n\
             [consoles.novnc]\nbase_url = \"http://127.0.0.1:{base_port}/vnc_lite.html\"\n\
             [backend]\ninventory = \"servers.toml\"\n\
             [[proxy.listeners]]\nlisten = \"127.0.0.1:{proxy_port}\"\ntypes = [\"novnc\"]\n"
        ),
    )
    .unwrap();
    path
}

async fn mint(api: &str) -> String {
    let url = url::Url::parse(&console_url(api, "demo:demo", "vnc", "novnc").await).unwrap();
    let path = url
        .query_pairs()
        .find(|(k, _)| k == "path")
        .unwrap()
        .1
        .into_owned();
    path.strip_prefix("?token=")
        .expect("novnc path carries the token")
        .to_owned()
}

/// Opens the console through the proxy on `port` as noVNC does and
/// completes the RFB handshake with the VM; returns the VM's name.
async fn open_console(port: u16, token: &str) -> String {
    keep_console(port, token).await.1
}

#[tokio::test]
async fn a_token_minted_by_one_node_opens_on_every_proxy() {
    let redis = RedisServer::start().await;
    let vm = RfbServer::start_with(RfbOptions {
        name: "web-1".into(),
        ..RfbOptions::default()
    })
    .await
    .unwrap();
    let dir = temp_dir("many-nodes");
    let (port_b, port_c) = (free_port(), free_port());
    let api = Served::start_as(
        "api",
        &node_config(&dir, "api", &redis.url(), vm.addr(), port_b, free_port()),
    );
    let _proxy_b = Served::start_as(
        "proxy",
        &node_config(&dir, "b", &redis.url(), vm.addr(), port_b, port_b),
    );
    let _proxy_c = Served::start_as(
        "proxy",
        &node_config(&dir, "c", &redis.url(), vm.addr(), port_b, port_c),
    );

    let token = mint(&api.url).await;
    assert_eq!(open_console(port_b, &token).await, "web-1");
    // The same token, on another node: a token is valid for many
    // connections until it expires.
    assert_eq!(open_console(port_c, &token).await, "web-1");
    assert_eq!(vm.connections(), 2);
    assert!(
        !api.log.lock().unwrap().contains(&token),
        "the API logged a token"
    );
}

/// A node of the session-control test: `node_config`'s, plus its
/// operator's listener on `admin_port` and its name.
#[allow(clippy::too_many_arguments)]
fn control_node(
    dir: &Path,
    name: &str,
    redis: &str,
    vnc: std::net::SocketAddr,
    base_port: u16,
    proxy_port: u16,
    admin_port: u16,
) -> std::path::PathBuf {
    let path = node_config(dir, name, redis, vnc, base_port, proxy_port);
    let mut text = std::fs::read_to_string(&path).unwrap();
    text.push_str(&format!(
        "[metrics]\nlisten = \"127.0.0.1:{admin_port}\"\n[proxy]\nnode_name = \"{name}\"\n"
    ));
    std::fs::write(&path, text).unwrap();
    path
}

/// `GET /admin/sessions` on a node's operator's listener, as an admin.
async fn sessions(admin_port: u16) -> Vec<serde_json::Value> {
    let body: serde_json::Value = reqwest::Client::new()
        .get(format!("http://127.0.0.1:{admin_port}/admin/sessions"))
        .header("x-auth-token", "admin:ops")
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    body["sessions"].as_array().cloned().unwrap_or_default()
}

/// Waits (generously) until `admin_port` lists sessions that `done` likes.
async fn until_listed(
    admin_port: u16,
    done: impl Fn(&[serde_json::Value]) -> bool,
) -> Vec<serde_json::Value> {
    let deadline = std::time::Instant::now() + Duration::from_secs(60);
    loop {
        let now = sessions(admin_port).await;
        if done(&now) {
            return now;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "the list never became as expected: {now:?}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// Opens the console through the proxy on `port` as noVNC does and
/// completes the RFB handshake with the VM: the session, and the VM's name.
async fn keep_console(
    port: u16,
    token: &str,
) -> (
    WsIo<tokio_tungstenite::WebSocketStream<tokio::net::TcpStream>>,
    String,
) {
    let request = format!("ws://127.0.0.1:{port}/?token={token}")
        .into_client_request()
        .unwrap();
    let tcp = tokio::net::TcpStream::connect(("127.0.0.1", port))
        .await
        .unwrap();
    let (ws, _) = tokio_tungstenite::client_async(request, tcp)
        .await
        .expect("proxy accepts the token");
    let mut io = WsIo::new(ws, Default::default());
    let init = tokio::time::timeout(Duration::from_secs(20), rfb_client_handshake(&mut io))
        .await
        .expect("handshake in time")
        .expect("RFB handshake through the proxy");
    (io, init.name)
}

#[tokio::test]
async fn every_node_lists_every_session_and_one_revokes_them_everywhere() {
    let redis = RedisServer::start().await;
    let vm = RfbServer::start_with(RfbOptions {
        name: "web-1".into(),
        ..RfbOptions::default()
    })
    .await
    .unwrap();
    let dir = temp_dir("session-control");
    let (port_b, port_c) = (free_port(), free_port());
    let admin = [free_port(), free_port(), free_port(), free_port()];
    let url = redis.url();
    let node = |name: &str, proxy_port: u16, admin_port: u16| {
        control_node(&dir, name, &url, vm.addr(), port_b, proxy_port, admin_port)
    };
    let api_1 = Served::start_as("api", &node("api-1", free_port(), admin[0]));
    let _api_2 = Served::start_as("api", &node("api-2", free_port(), admin[1]));
    let mut proxy_b = Served::start_as("proxy", &node("proxy-b", port_b, admin[2]));
    let _proxy_c = Served::start_as("proxy", &node("proxy-c", port_c, admin[3]));

    let token = mint(&api_1.url).await;
    let (mut on_b, _) = keep_console(port_b, &token).await;
    let (mut on_c, _) = keep_console(port_c, &token).await;
    // Every node, API or proxy, lists both proxies' sessions.
    for port in admin {
        let listed = until_listed(port, |s| s.len() == 2).await;
        let mut nodes: Vec<&str> = listed.iter().map(|s| s["node"].as_str().unwrap()).collect();
        nodes.sort_unstable();
        assert_eq!(nodes, ["proxy-b", "proxy-c"]);
        assert!(listed.iter().all(|s| s["instance_uuid"] == WEB));
    }

    // Revoked through API node 1: the sessions relayed by both proxy
    // nodes end, and the token is refused everywhere.
    let revoked: serde_json::Value = reqwest::Client::new()
        .delete(format!(
            "http://127.0.0.1:{}/admin/servers/{WEB}/consoles",
            admin[0]
        ))
        .header("x-auth-token", "admin:ops")
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(revoked["revoked_tokens"], 1);
    for session in [&mut on_b, &mut on_c] {
        let mut byte = [0u8; 1];
        let ended = tokio::time::timeout(
            Duration::from_secs(20),
            tokio::io::AsyncReadExt::read(session, &mut byte),
        )
        .await;
        assert!(
            matches!(ended, Ok(Ok(0) | Err(_))),
            "the session ended: {ended:?}"
        );
    }
    for port in [port_b, port_c] {
        let request = format!("ws://127.0.0.1:{port}/?token={token}")
            .into_client_request()
            .unwrap();
        let tcp = tokio::net::TcpStream::connect(("127.0.0.1", port))
            .await
            .unwrap();
        match tokio_tungstenite::client_async(request, tcp).await {
            Err(tokio_tungstenite::tungstenite::Error::Http(response)) => {
                assert_eq!(response.status(), 403);
            }
            other => panic!("the revoked token opened a console: {other:?}"),
        }
    }
    until_listed(admin[1], <[serde_json::Value]>::is_empty).await;

    // A node that dies takes its sessions off the list once its
    // heartbeat expires.
    let fresh = mint(&api_1.url).await;
    let _kept = keep_console(port_b, &fresh).await;
    until_listed(admin[3], |s| s.len() == 1).await;
    proxy_b.child.kill().unwrap();
    let _ = proxy_b.child.wait();
    until_listed(admin[3], <[serde_json::Value]>::is_empty).await;
}

#[test]
fn a_proxy_alone_refuses_the_memory_store() {
    let dir = temp_dir("proxy-memory");
    std::fs::write(dir.join("servers.toml"), "").unwrap();
    let config = dir.join("consoled.toml");
    std::fs::write(
        &config,
        "[backend]\ninventory = \"servers.toml\"\n[[proxy.listeners]]\nlisten = \"127.0.0.1:0\"\ntypes = [\"novnc\"]\n",
    )
    .unwrap();
    let out = run(&["proxy", "--config", config.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(stderr.lines().count(), 1, "{stderr}");
    assert!(stderr.contains("tokens.store"), "{stderr}");
}
