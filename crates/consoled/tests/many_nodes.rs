//! Several nodes, one Redis: `consoled api` mints a token that two
//! separate `consoled proxy` processes both accept, as behind a load
//! balancer. Real processes, a real redis-server, the test kit's RFB server
//! as the VM.

mod common;

use std::path::Path;
use std::time::Duration;

use common::{free_port, run, temp_dir, Served, WEB};
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
    let body: serde_json::Value = reqwest::Client::new()
        .post(format!("{api}/v2.1/servers/{WEB}/remote-consoles"))
        .header("x-auth-token", "demo:demo")
        .header("openstack-api-version", "compute 2.6")
        .json(&serde_json::json!({"remote_console": {"protocol": "vnc", "type": "novnc"}}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let url = url::Url::parse(body["remote_console"]["url"].as_str().unwrap()).unwrap();
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
/// completes the RFB handshake with the VM.
async fn open_console(port: u16, token: &str) -> String {
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
    init.name
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
