//! The example as its users run it: a process with its own database and
//! keys, a server added through its own route, a novnc console minted
//! through the consoled API it mounts, and the RFB handshake through the
//! proxy it runs.

use std::process::Stdio;
use std::time::Duration;

use consoled_e2e::console_urls::novnc_websocket_url;
use consoled_e2e::vnc::rfb_over_websocket;
use consoled_testkit::{RfbOptions, RfbServer};
use serde_json::{json, Value};
use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::process::{Child, Command};

const KEY: &str = "alice-key-7c1f";
/// Generous: the bounds only keep a broken run from hanging.
const LIMIT: Duration = Duration::from_secs(30);

/// The running example and the addresses its ready line names.
struct Compute {
    _child: Child,
    api: String,
    servers: String,
    proxy: String,
}

impl Compute {
    async fn start(database: &std::path::Path) -> Compute {
        let mut child = Command::new(env!("CARGO_BIN_EXE_consoled-example-compute"))
            .args(["--listen", "127.0.0.1:0", "--proxy-listen", "127.0.0.1:0"])
            .arg("--database")
            .arg(database)
            .args(["--api-key", &format!("{KEY}=alice:demo:member")])
            .env_remove("COMPUTE_API_KEYS")
            .stdout(Stdio::piped())
            .kill_on_drop(true)
            .spawn()
            .expect("the example starts");
        let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
        let ready = tokio::time::timeout(LIMIT, async {
            while let Some(line) = lines.next_line().await.unwrap() {
                if let Some(rest) = line.strip_prefix("ready ") {
                    return rest.to_owned();
                }
            }
            panic!("the example exited before its ready line");
        })
        .await
        .expect("a ready line in time");
        let field = |name: &str| {
            ready
                .split(' ')
                .find_map(|f| f.strip_prefix(&format!("{name}=")))
                .unwrap_or_else(|| panic!("no {name}= in the ready line: {ready}"))
                .to_owned()
        };
        Compute {
            api: field("api"),
            servers: field("servers"),
            proxy: field("proxy"),
            _child: child,
        }
    }
}

fn temp_db(label: &str) -> std::path::PathBuf {
    let dir = std::env::temp_dir().join(format!(
        "consoled-example-compute-{label}-{}-{}",
        std::process::id(),
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_nanos()
    ));
    std::fs::create_dir_all(&dir).unwrap();
    dir.join("compute.db")
}

async fn mint(compute: &Compute, server_id: &str, key: &str) -> reqwest::Response {
    reqwest::Client::new()
        .post(format!(
            "{}/servers/{server_id}/remote-consoles",
            compute.api
        ))
        .header("x-auth-token", key)
        .header("openstack-api-version", "compute 2.6")
        .json(&json!({"remote_console": {"protocol": "vnc", "type": "novnc"}}))
        .send()
        .await
        .unwrap()
}

#[tokio::test]
async fn a_server_added_through_its_route_gets_a_console_through_its_proxy() {
    let vm = RfbServer::start_with(RfbOptions {
        name: "web-1".into(),
        ..RfbOptions::default()
    })
    .await
    .unwrap();
    let db = temp_db("console");
    let compute = Compute::start(&db).await;
    let http = reqwest::Client::new();

    let added = http
        .post(&compute.servers)
        .header("x-auth-token", KEY)
        .json(&json!({
            "name": "web-1",
            "consoles": {"vnc": {"host": "127.0.0.1", "port": vm.addr().port()}},
        }))
        .send()
        .await
        .unwrap();
    assert_eq!(added.status(), 201);
    let added: Value = added.json().await.unwrap();
    let id = added["server"]["id"].as_str().expect("an id").to_owned();
    assert_eq!(added["server"]["project_id"], "demo");

    let listed: Value = http
        .get(&compute.servers)
        .header("x-auth-token", KEY)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(listed["servers"][0]["id"], id.as_str());
    assert_eq!(
        listed["servers"][0]["consoles"]["vnc"]["port"],
        vm.addr().port()
    );

    let minted = mint(&compute, &id, KEY).await;
    assert_eq!(minted.status(), 200);
    let body: Value = minted.json().await.unwrap();
    let url = body["remote_console"]["url"].as_str().expect("a URL");
    let ws_url = novnc_websocket_url(url);
    assert!(
        ws_url.starts_with(&format!("ws://{}/", compute.proxy)),
        "the URL leads to the example's proxy at {}",
        compute.proxy
    );
    let (_session, init) = tokio::time::timeout(LIMIT, rfb_over_websocket(&ws_url))
        .await
        .expect("the handshake in time")
        .expect("the RFB handshake through the proxy");
    assert_eq!(init.name, "web-1");
    assert_eq!(vm.connections(), 1);
    std::fs::remove_dir_all(db.parent().unwrap()).unwrap();
}

#[tokio::test]
async fn a_wrong_key_is_the_examples_own_401() {
    let db = temp_db("wrong-key");
    let compute = Compute::start(&db).await;
    // A token consoled's noauth would take as user alice of project demo.
    for key in ["alice:demo", "not-a-key"] {
        let refused = mint(&compute, "c6d5a3a0-9f4e-4b8e-9a4e-0d1f6a1e2b3c", key).await;
        assert_eq!(refused.status(), 401);
        assert_eq!(
            refused.headers()["www-authenticate"],
            "ApiKey realm=\"consoled-example-compute\""
        );
        let body: Value = refused.json().await.unwrap();
        assert_eq!(body["unauthorized"]["message"], "Unknown API key.");

        let own_route = reqwest::Client::new()
            .get(&compute.servers)
            .header("x-auth-token", key)
            .send()
            .await
            .unwrap();
        assert_eq!(own_route.status(), 401);
        assert_eq!(
            own_route.headers()["www-authenticate"],
            "ApiKey realm=\"consoled-example-compute\""
        );
    }
    std::fs::remove_dir_all(db.parent().unwrap()).unwrap();
}
