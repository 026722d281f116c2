//! `consoled serve` with `[api] auth = "keystone"` against a real Keystone
//! (one for the whole binary): who may do what, the 401s with their
//! challenge, expiry, revocation, the cache, Keystone going away and
//! coming back, and the real `openstack` client logging in with a
//! password and finding consoled through the catalog.

#[path = "../common/mod.rs"]
mod common;
mod gate;
mod server;

use std::time::{Duration, Instant};

use common::{free_port, temp_dir, Served};
use consoled_testkit::{rfb_client_handshake, RfbServer, WsIo};
use gate::{Gate, Mode};
use server::{keystone, PASSWORD};
use tokio_tungstenite::tungstenite::client::IntoClientRequest;

/// Servers of the inventory: one in `demo`, one in `other`.
const WEB: &str = "c6d5a3a0-9f4e-4b8e-9a4e-0d1f6a1e2b3c";
const DB: &str = "0b8a3f1e-1111-4c4c-8888-000000000002";

/// A consoled on Keystone (through `gate`), with `extra` lines in
/// `[keystone_authtoken]` (a generous `http_connect_timeout` unless they
/// set one: Keystone is Python on a busy two-core machine, and only the
/// outage test is about the timeout); the service password comes from the
/// environment, not the file. Returns it, its novnc listener's port and
/// the VNC server both servers' consoles lead to.
async fn consoled(name: &str, gate: &Gate, extra: &str) -> (Served, u16, RfbServer) {
    let ks = keystone().await;
    let dir = temp_dir(name);
    let rfb = RfbServer::start().await.expect("an RFB server");
    let vnc = rfb.addr();
    let novnc = free_port();
    std::fs::write(
        dir.join("servers.toml"),
        format!(
            "[[servers]]\nid = \"{WEB}\"\nname = \"web-1\"\nproject_id = \"{demo}\"\nhost = \"c1\"\n\
             [servers.consoles.vnc]\nhost = \"{ip}\"\nport = {port}\n\n\
             [[servers]]\nid = \"{DB}\"\nname = \"db-1\"\nproject_id = \"{other}\"\nhost = \"c1\"\n\
             [servers.consoles.vnc]\nhost = \"{ip}\"\nport = {port}\n",
            demo = ks.demo,
            other = ks.other,
            ip = vnc.ip(),
            port = vnc.port()
        ),
    )
    .unwrap();
    let config = dir.join("consoled.toml");
    let extra = if extra.contains("http_connect_timeout") {
        extra.to_owned()
    } else {
        format!("{extra}\nhttp_connect_timeout = 60")
    };
    std::fs::write(
        &config,
        format!(
            "[api]\nlisten = \"127.0.0.1:0\"\nauth = \"keystone\"\n\n\
             [keystone_authtoken]\nauth_url = \"{url}\"\nusername = \"nova\"\n\
             project_name = \"service\"\n{extra}\n\n\
             [consoles.novnc]\nbase_url = \"http://127.0.0.1:{novnc}/vnc_lite.html\"\n\n\
             [backend]\ninventory = \"servers.toml\"\n\n\
             [[proxy.listeners]]\nlisten = \"127.0.0.1:{novnc}\"\ntypes = [\"novnc\"]\n",
            url = gate.url,
        ),
    )
    .unwrap();
    let served = Served::start_with_env(
        "serve",
        &config,
        &[("CONSOLED_KEYSTONE_PASSWORD", PASSWORD)],
    );
    (served, novnc, rfb)
}

fn http() -> reqwest::Client {
    reqwest::Client::builder()
        .timeout(Duration::from_secs(30))
        .build()
        .unwrap()
}

/// `POST remote-consoles` for `server` with `token` (none when empty).
async fn create(served: &Served, server: &str, token: &str) -> reqwest::Response {
    let mut r = http()
        .post(format!(
            "{}/v2.1/servers/{server}/remote-consoles",
            served.url
        ))
        .header("openstack-api-version", "compute 2.6")
        .json(&serde_json::json!({"remote_console": {"protocol": "vnc", "type": "novnc"}}));
    if !token.is_empty() {
        r = r.header("x-auth-token", token);
    }
    r.send().await.unwrap_or_else(|e| {
        panic!(
            "the API answers: {e:?}\nconsoled's log:\n{}",
            served.log.lock().unwrap()
        )
    })
}

#[tokio::test(flavor = "multi_thread")]
async fn policy_follows_the_keystone_roles() {
    let ks = keystone().await;
    let gate = Gate::start(&ks.url).await;
    let (served, _, _vnc) = consoled("ks-policy", &gate, "").await;

    let member = ks.user_token("demo-member", "demo").await;
    let r = create(&served, WEB, &member).await;
    assert_eq!(r.status(), 200, "member of the server's project");
    let body: serde_json::Value = r.json().await.unwrap();
    let url = body["remote_console"]["url"].as_str().unwrap().to_owned();

    let reader = ks.user_token("demo-reader", "demo").await;
    let r = create(&served, WEB, &reader).await;
    assert_eq!(r.status(), 403, "a reader alone may not");
    assert!(r.text().await.unwrap().contains("forbidden"));

    let stranger = ks.user_token("other-member", "other").await;
    assert_eq!(
        create(&served, WEB, &stranger).await.status(),
        404,
        "another project's server"
    );
    assert_eq!(
        create(&served, DB, &stranger).await.status(),
        200,
        "its own project's server"
    );

    // Console auth tokens: admin only.
    let token = url.rsplit("%3D").next().unwrap().to_owned();
    let admin = ks.admin_token().await;
    let show = |who: String| {
        let url = format!("{}/v2.1/os-console-auth-tokens/{token}", served.url);
        async move {
            http()
                .get(url)
                .header("x-auth-token", who)
                .header("openstack-api-version", "compute 2.31")
                .send()
                .await
                .unwrap()
        }
    };
    let r = show(admin.clone()).await;
    assert_eq!(r.status(), 200);
    let console: serde_json::Value = r.json().await.unwrap();
    assert_eq!(console["console"]["instance_uuid"], WEB);
    assert_eq!(show(member).await.status(), 403);
    assert_eq!(
        create(&served, DB, &admin).await.status(),
        200,
        "an admin sees every project"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn no_token_or_a_bad_one_is_401_with_keystones_challenge() {
    let ks = keystone().await;
    let gate = Gate::start(&ks.url).await;
    let (served, _, _vnc) = consoled("ks-401", &gate, "").await;
    for token in ["", "not-a-keystone-token", "gAAAAABforged"] {
        let r = create(&served, WEB, token).await;
        assert_eq!(r.status(), 401, "token {token:?}");
        assert_eq!(
            r.headers()["www-authenticate"],
            format!("Keystone uri=\"{}\"", gate.url).as_str()
        );
        let body: serde_json::Value = r.json().await.unwrap();
        assert_eq!(body["unauthorized"]["code"], 401);
    }
    // Version discovery needs no token, as in Nova.
    for path in ["/", "/v2.1"] {
        let r = http()
            .get(format!("{}{path}", served.url))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 200, "{path}");
    }
    // The log never holds a token.
    assert!(!served.log.lock().unwrap().contains("gAAAAABforged"));
}

#[tokio::test(flavor = "multi_thread")]
async fn an_expired_token_is_401() {
    let ks = keystone().await;
    let gate = Gate::start(&ks.url).await;
    let (served, _, _vnc) = consoled("ks-expired", &gate, "").await;
    let token = ks.user_token("demo-member", "demo").await;
    let issued = Instant::now();
    assert_eq!(create(&served, WEB, &token).await.status(), 200);
    // Cached or not, a validation never outlives the token.
    tokio::time::sleep(
        (server::TOKEN_LIFETIME + Duration::from_secs(2)).saturating_sub(issued.elapsed()),
    )
    .await;
    let r = create(&served, WEB, &token).await;
    assert_eq!(r.status(), 401);
    assert!(r.headers().contains_key("www-authenticate"));
}

#[tokio::test(flavor = "multi_thread")]
async fn a_cached_validation_asks_keystone_nothing() {
    let ks = keystone().await;
    let gate = Gate::start(&ks.url).await;
    let (served, _, _vnc) = consoled("ks-cache", &gate, "token_cache_time = 300").await;
    let token = ks.user_token("demo-member", "demo").await;
    assert_eq!(create(&served, WEB, &token).await.status(), 200);
    let after_first = gate.validations();
    assert_eq!(after_first, 1, "one validation for the first request");
    for _ in 0..3 {
        assert_eq!(create(&served, WEB, &token).await.status(), 200);
    }
    assert_eq!(gate.validations(), after_first, "the cache answered");
    // Another token is validated on its own.
    let other = ks.user_token("demo-member", "demo").await;
    assert_eq!(create(&served, WEB, &other).await.status(), 200);
    assert_eq!(gate.validations(), after_first + 1);
}

#[tokio::test(flavor = "multi_thread")]
async fn keystone_gone_is_503_in_bounded_time_and_its_return_needs_no_restart() {
    let ks = keystone().await;
    let gate = Gate::start(&ks.url).await;
    let timeout = 2;
    let (served, _, _vnc) = consoled(
        "ks-outage",
        &gate,
        &format!("http_connect_timeout = {timeout}\ntoken_cache_time = 0"),
    )
    .await;
    let token = ks.user_token("demo-member", "demo").await;
    assert_eq!(eventually_200(&served, &token).await, 200);
    // The bound: http_connect_timeout plus a second, and slack for a
    // loaded machine.
    let bound = Duration::from_secs(timeout + 1 + 3);
    for mode in [Mode::Silent, Mode::Refuse] {
        gate.set(mode);
        let started = Instant::now();
        let r = create(&served, WEB, &token).await;
        assert_eq!(
            r.status(),
            503,
            "{mode:?}: never a 401, the token may be good"
        );
        assert!(
            started.elapsed() < bound,
            "{mode:?}: answered after {:?}",
            started.elapsed()
        );
        let body: serde_json::Value = r.json().await.unwrap();
        assert_eq!(body["serviceUnavailable"]["code"], 503);
    }
    gate.set(Mode::Open);
    assert_eq!(
        eventually_200(&served, &token).await,
        200,
        "back without a restart"
    );
}

/// The status of creating a console with `token`, asked again while it is
/// 503: with a 2 s timeout, a Keystone busy with the other tests' first
/// requests may take longer than that to answer a healthy one.
async fn eventually_200(served: &Served, token: &str) -> u16 {
    let mut status = 0;
    for _ in 0..5 {
        status = create(served, WEB, token).await.status().as_u16();
        if status != 503 {
            break;
        }
    }
    status
}

#[tokio::test(flavor = "multi_thread")]
async fn a_revoked_token_is_refused_once_the_cache_time_has_passed() {
    let ks = keystone().await;
    let gate = Gate::start(&ks.url).await;
    let cache = Duration::from_secs(2);
    let (served, _, _vnc) = consoled(
        "ks-revoked",
        &gate,
        &format!("token_cache_time = {}", cache.as_secs()),
    )
    .await;
    let token = ks.user_token("demo-member", "demo").await;
    assert_eq!(eventually_200(&served, &token).await, 200);
    let revoked = Instant::now();
    openstack_admin(&ks.url, ks.admin_password(), &["token", "revoke", &token]);
    tokio::time::sleep((cache + Duration::from_secs(1)).saturating_sub(revoked.elapsed())).await;
    assert_eq!(create(&served, WEB, &token).await.status(), 401);
}

#[tokio::test(flavor = "multi_thread")]
async fn openstack_logs_in_finds_consoled_in_the_catalog_and_the_url_opens_a_console() {
    let ks = keystone().await;
    let gate = Gate::start(&ks.url).await;
    let (served, novnc, _vnc) = consoled("ks-openstack", &gate, "").await;
    ks.register_endpoint("compute", &format!("{}/v2.1", served.url))
        .await;
    let out = std::process::Command::new("openstack")
        .args(["--os-auth-url", &ks.url, "--os-identity-api-version", "3"])
        .args(["--os-username", "demo-member", "--os-password", PASSWORD])
        .args([
            "--os-project-name",
            "demo",
            "--os-user-domain-name",
            "Default",
        ])
        .args(["--os-project-domain-name", "Default"])
        .args([
            "console", "url", "show", "--novnc", "web-1", "-f", "value", "-c", "url",
        ])
        .envs(clean_env())
        .env_remove("OS_CLOUD")
        .env_remove("OS_TOKEN")
        .output()
        .expect("openstack runs (scripts/test installs python-openstackclient)");
    assert!(
        out.status.success(),
        "openstack failed: {}\nconsoled log:\n{}",
        String::from_utf8_lossy(&out.stderr),
        served.log.lock().unwrap()
    );
    let url = String::from_utf8(out.stdout).unwrap().trim().to_owned();
    let prefix = format!("http://127.0.0.1:{novnc}/vnc_lite.html?path=%3Ftoken%3D");
    assert!(url.starts_with(&prefix), "{url}");
    // The URL opens a console through the proxy: a whole RFB handshake.
    let token = &url[prefix.len()..];
    let request = format!("ws://127.0.0.1:{novnc}/?token={token}")
        .into_client_request()
        .unwrap();
    let tcp = tokio::net::TcpStream::connect(("127.0.0.1", novnc))
        .await
        .unwrap();
    let (ws, _) = tokio_tungstenite::client_async(request, tcp)
        .await
        .expect("the proxy accepts the token");
    let mut io = WsIo::new(ws, Default::default());
    tokio::time::timeout(Duration::from_secs(30), rfb_client_handshake(&mut io))
        .await
        .expect("handshake in time")
        .expect("RFB handshake through the proxy");
}

/// The environment without the operator's own cloud settings.
fn clean_env() -> Vec<(String, String)> {
    std::env::vars()
        .filter(|(k, _)| !k.starts_with("OS_"))
        .collect()
}

/// Runs `openstack` as the bootstrap admin.
fn openstack_admin(auth_url: &str, password: &str, args: &[&str]) {
    let out = std::process::Command::new("openstack")
        .env_clear()
        .envs(clean_env())
        .args(["--os-auth-url", auth_url, "--os-identity-api-version", "3"])
        .args(["--os-username", "admin", "--os-password", password])
        .args([
            "--os-project-name",
            "admin",
            "--os-user-domain-name",
            "Default",
        ])
        .args(["--os-project-domain-name", "Default"])
        .args(args)
        .output()
        .expect("openstack runs");
    assert!(
        out.status.success(),
        "openstack {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}
