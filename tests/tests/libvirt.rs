//! `consoled serve` with `[backend] kind = "libvirt"` on a real libvirtd
//! and real (TCG) QEMU guests: discovery, consoles read live (TCP and UNIX
//! sockets), tokens that die with their VM, and a libvirtd that goes away
//! and comes back.
//!
//! One libvirtd serves the whole binary; the test that stops it takes it
//! for itself, the others share it.

use std::net::SocketAddr;
use std::process::Command;
use std::time::{Duration, Instant};

use consoled_e2e::chromium::Browser;
use consoled_e2e::console_urls::novnc_websocket_url;
use consoled_e2e::consoled::{artifact, Consoled};
use consoled_e2e::libvirt::{
    start_libvirtd, stop_libvirtd, DomainSpec, Serial, TestDomain, Vnc, URI,
};
use consoled_e2e::net::free_port;
use consoled_e2e::novnc_page::{wait_for_frame, CONNECT_LIMIT, LITE_CONNECTED, LITE_STATUS};
use consoled_e2e::seabios::read_whole_boot;
use consoled_e2e::stack::LIMIT;
use consoled_e2e::tools::{require_chromium, require_novnc, require_openstack, require_qemu};
use consoled_e2e::vnc::rfb_over_websocket;
use consoled_e2e::ws;
use serde_json::{json, Value};
use tokio::sync::{RwLock, RwLockReadGuard};
use tokio::time::timeout;

/// Held shared by every test that needs libvirtd, alone by the one that
/// stops it.
static LIBVIRTD: RwLock<()> = RwLock::const_new(());

async fn shared_libvirtd() -> RwLockReadGuard<'static, ()> {
    require_qemu();
    let guard = LIBVIRTD.read().await;
    start_libvirtd();
    guard
}

/// A `consoled serve` over the libvirt backend with a novnc and a serial
/// listener.
struct Served {
    consoled: Consoled,
    api: String,
    novnc: SocketAddr,
}

impl Served {
    async fn start() -> Served {
        let api: SocketAddr = ([127, 0, 0, 1], free_port()).into();
        let novnc: SocketAddr = ([127, 0, 0, 1], free_port()).into();
        let serial: SocketAddr = ([127, 0, 0, 1], free_port()).into();
        let config = format!(
            r#"[api]
listen = "{api}"

[consoles.novnc]
base_url = "http://{novnc}/vnc_lite.html"

[consoles.serial]
base_url = "ws://{serial}/"

[backend]
kind = "libvirt"
libvirt_uris = ["{URI}"]
default_project_id = "demo"

[[proxy.listeners]]
listen = "{novnc}"
types = ["novnc"]

[[proxy.listeners]]
listen = "{serial}"
types = ["serial"]
"#
        );
        let consoled = Consoled::start(
            &["serve"],
            &[("consoled.toml", config)],
            &[api, novnc, serial],
        )
        .await;
        Served {
            consoled,
            api: format!("http://{api}"),
            novnc,
        }
    }

    async fn get(&self, path: &str, token: &str) -> (u16, Value) {
        let response = client()
            .get(format!("{}/v2.1{path}", self.api))
            .header("X-Auth-Token", token)
            .send()
            .await
            .expect("the compute API answers");
        let status = response.status().as_u16();
        (status, response.json().await.unwrap_or(Value::Null))
    }

    /// `POST remote-consoles` as `token`: the status and the body.
    async fn create(&self, server: &str, token: &str, protocol: &str, kind: &str) -> (u16, Value) {
        let response = client()
            .post(format!(
                "{}/v2.1/servers/{server}/remote-consoles",
                self.api
            ))
            .header("X-Auth-Token", token)
            .header("OpenStack-API-Version", "compute 2.6")
            .json(&json!({"remote_console": {"protocol": protocol, "type": kind}}))
            .send()
            .await
            .expect("the compute API answers");
        let status = response.status().as_u16();
        (status, response.json().await.unwrap_or(Value::Null))
    }

    /// A console URL, which must be minted.
    async fn mint(&self, server: &str, token: &str, protocol: &str, kind: &str) -> String {
        let (status, body) = self.create(server, token, protocol, kind).await;
        assert_eq!(status, 200, "{body}\n{}", self.consoled.log());
        body["remote_console"]["url"].as_str().unwrap().to_owned()
    }
}

fn client() -> reqwest::Client {
    reqwest::Client::builder()
        .timeout(LIMIT)
        .build()
        .expect("HTTP client")
}

/// Opens the serial WebSocket at `url` and reads it until a whole SeaBIOS
/// boot came through.
async fn seabios_text_through(url: &str, served: &Served) {
    let (mut socket, _) = timeout(LIMIT, ws::open(url, &[]))
        .await
        .expect("WebSocket handshake in time")
        .unwrap_or_else(|e| panic!("serial WebSocket: {e}\n{}", served.consoled.log()));
    read_whole_boot(&mut socket, || served.consoled.log()).await;
}

#[tokio::test]
async fn a_nova_domain_is_its_projects_server_and_novnc_shows_its_screen_in_chromium() {
    let _libvirtd = shared_libvirtd().await;
    require_chromium();
    require_novnc();
    let domain = TestDomain::define(&DomainSpec {
        label: "nova".into(),
        nova: Some(("web-lv".into(), "proj-nova".into())),
        vnc: Vnc::Autoport,
        serial: Serial::Tcp(free_port()),
    });
    domain.start();
    let served = Served::start().await;
    let owner = "alice:proj-nova";

    let (status, body) = served
        .get(&format!("/servers/{}", domain.uuid), owner)
        .await;
    assert_eq!(status, 200, "{body}");
    let server = &body["server"];
    assert_eq!(
        server["name"], "web-lv",
        "Nova's name, not the domain's: {body}"
    );
    assert_eq!(server["tenant_id"], "proj-nova");
    assert_eq!(server["status"], "ACTIVE");
    let (status, _) = served
        .get(&format!("/servers/{}", domain.uuid), "demo:demo")
        .await;
    assert_eq!(status, 404, "another project does not see it");

    let url = served.mint(&domain.uuid, owner, "vnc", "novnc").await;
    let mut browser = Browser::open(&url).await;
    let connected = browser.wait_until(LITE_CONNECTED, CONNECT_LIMIT).await;
    let page_status = browser.eval(LITE_STATUS).await;
    assert!(
        connected,
        "noVNC did not connect; status {page_status}\n{}",
        served.consoled.log()
    );
    let pixels = wait_for_frame(&mut browser, "#screen").await;
    browser.screenshot(&artifact("novnc-libvirt.png")).await;
    assert!(
        pixels.is_some_and(|p| p.complete_and_lit()),
        "no whole, non-black frame on the canvas: {pixels:?}"
    );

    let serial = served.mint(&domain.uuid, owner, "serial", "serial").await;
    seabios_text_through(&serial, &served).await;
}

#[tokio::test]
async fn a_plain_domains_unix_sockets_are_reached_and_openstack_finds_it_by_name() {
    let _libvirtd = shared_libvirtd().await;
    require_openstack();
    let domain = TestDomain::define(&DomainSpec {
        label: "plain".into(),
        nova: None,
        vnc: Vnc::Socket,
        serial: Serial::Unix,
    });
    domain.start();
    let served = Served::start().await;

    let (status, body) = served
        .get(&format!("/servers/{}", domain.uuid), "demo:demo")
        .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["server"]["name"], domain.name.as_str());
    assert_eq!(body["server"]["tenant_id"], "demo", "default_project_id");

    let url = served.mint(&domain.uuid, "demo:demo", "vnc", "novnc").await;
    let (_rfb, init) = timeout(LIMIT, rfb_over_websocket(&novnc_websocket_url(&url)))
        .await
        .expect("RFB handshake in time")
        .unwrap_or_else(|e| panic!("RFB over the VNC socket: {e}\n{}", served.consoled.log()));
    assert!(init.width > 0 && init.height > 0, "{init:?}");
    assert!(
        init.name.contains(&domain.name),
        "QEMU names the domain: {init:?}"
    );

    let serial = served
        .mint(&domain.uuid, "demo:demo", "serial", "serial")
        .await;
    seabios_text_through(&serial, &served).await;

    let out = Command::new("openstack")
        .args(["--os-auth-type", "admin_token"])
        .args(["--os-endpoint", &format!("{}/v2.1", served.api)])
        .args(["--os-token", "demo:demo"])
        .args([
            "console",
            "url",
            "show",
            &domain.name,
            "-f",
            "value",
            "-c",
            "url",
        ])
        .env_remove("OS_CLOUD")
        .env_remove("OS_AUTH_URL")
        .env_remove("OS_COMPUTE_API_VERSION")
        .output()
        .expect("openstack runs");
    assert!(
        out.status.success(),
        "openstack failed: {}\n{}",
        String::from_utf8_lossy(&out.stderr),
        served.consoled.log()
    );
    let printed = String::from_utf8_lossy(&out.stdout);
    assert!(
        printed
            .trim()
            .starts_with(&format!("http://{}/vnc_lite.html?path=", served.novnc)),
        "{printed}"
    );
}

#[tokio::test]
async fn a_stopped_domains_token_never_reaches_the_vm_that_takes_its_port() {
    let _libvirtd = shared_libvirtd().await;
    let a = TestDomain::define(&DomainSpec {
        label: "first".into(),
        nova: None,
        vnc: Vnc::Autoport,
        serial: Serial::Tcp(free_port()),
    });
    a.start();
    let port = a.vnc_port();
    let served = Served::start().await;
    let old = served.mint(&a.uuid, "demo:demo", "vnc", "novnc").await;
    let old_ws = novnc_websocket_url(&old);
    let (mut session, _) = timeout(LIMIT, rfb_over_websocket(&old_ws))
        .await
        .expect("RFB handshake in time")
        .expect("the first console works");

    a.destroy();
    // The open session ends: QEMU went, and the token was revoked.
    let mut byte = [0u8; 1];
    let ended = timeout(
        LIMIT,
        tokio::io::AsyncReadExt::read(&mut session, &mut byte),
    )
    .await;
    assert!(
        matches!(ended, Ok(Ok(0) | Err(_))),
        "the session ended: {ended:?}"
    );
    served
        .consoled
        .wait_for_log_line(&["console tokens revoked", &a.uuid], LIMIT)
        .await;
    let (status, body) = served.create(&a.uuid, "demo:demo", "vnc", "novnc").await;
    assert_eq!(status, 409, "a stopped domain has no console: {body}");
    assert!(body.to_string().contains("SHUTOFF"), "{body}");

    // Another VM now listens where the first one did.
    let b = TestDomain::define(&DomainSpec {
        label: "second".into(),
        nova: None,
        vnc: Vnc::Port(port),
        serial: Serial::Tcp(free_port()),
    });
    b.start();
    assert_eq!(b.vnc_port(), port);
    let refused = timeout(LIMIT, ws::open(&old_ws, &[]))
        .await
        .expect("answered in time");
    match refused {
        Err(tokio_tungstenite::tungstenite::Error::Http(response)) => {
            assert_eq!(response.status(), 403, "the old token is void");
        }
        other => panic!("the old token was let in: {other:?}"),
    }
    let info = b.vnc_info();
    assert!(
        !info.contains("Client:"),
        "nobody reached the second VM: {info}"
    );

    // The first VM, started again, gets a new port and a working console.
    a.start();
    assert_ne!(a.vnc_port(), port);
    let new = served.mint(&a.uuid, "demo:demo", "vnc", "novnc").await;
    let (_rfb, init) = timeout(LIMIT, rfb_over_websocket(&novnc_websocket_url(&new)))
        .await
        .expect("RFB handshake in time")
        .expect("the new console works");
    assert!(init.name.contains(&a.name), "{init:?}");
}

#[tokio::test]
async fn libvirtd_away_is_503_in_bounded_time_and_its_return_needs_no_restart() {
    require_qemu();
    let _alone = LIBVIRTD.write().await;
    start_libvirtd();
    let domain = TestDomain::define(&DomainSpec {
        label: "outage".into(),
        nova: None,
        vnc: Vnc::Autoport,
        serial: Serial::Tcp(free_port()),
    });
    domain.start();
    let lost = TestDomain::define(&DomainSpec {
        label: "lost".into(),
        nova: None,
        vnc: Vnc::Autoport,
        serial: Serial::Tcp(free_port()),
    });
    lost.start();
    let served = Served::start().await;
    served.mint(&domain.uuid, "demo:demo", "vnc", "novnc").await;
    let lost_url = served.mint(&lost.uuid, "demo:demo", "vnc", "novnc").await;

    stop_libvirtd();
    // A guest that dies while libvirtd is away sends no event to anyone.
    let killed = Command::new("pkill")
        .args(["-f", &format!("guest={},", lost.name)])
        .status()
        .expect("pkill runs");
    assert!(killed.success(), "the lost guest's QEMU was found");
    let asked = Instant::now();
    let (status, body) = served
        .create(&domain.uuid, "demo:demo", "vnc", "novnc")
        .await;
    assert_eq!(status, 503, "{body}");
    assert!(asked.elapsed() < LIMIT);
    let (status, _) = served.get("/servers/detail", "demo:demo").await;
    assert_eq!(status, 503);

    start_libvirtd();
    let deadline = Instant::now() + LIMIT;
    loop {
        let (status, body) = served
            .create(&domain.uuid, "demo:demo", "vnc", "novnc")
            .await;
        if status == 200 {
            let url = body["remote_console"]["url"].as_str().unwrap();
            let (_rfb, init) = timeout(LIMIT, rfb_over_websocket(&novnc_websocket_url(url)))
                .await
                .expect("RFB handshake in time")
                .expect("the console works again");
            assert!(init.width > 0);
            break;
        }
        assert!(
            Instant::now() < deadline,
            "still {status} after libvirtd came back: {body}\n{}",
            served.consoled.log()
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    // The reconnection caught up with the stop it missed.
    served
        .consoled
        .wait_for_log_line(&["console tokens revoked", &lost.uuid], LIMIT)
        .await;
    match timeout(LIMIT, ws::open(&novnc_websocket_url(&lost_url), &[]))
        .await
        .expect("answered in time")
    {
        Err(tokio_tungstenite::tungstenite::Error::Http(response)) => {
            assert_eq!(response.status(), 403, "the lost guest's token is void");
        }
        other => panic!("the lost guest's token was let in: {other:?}"),
    }
}
