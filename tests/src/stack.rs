//! `consoled serve` in front of a real QEMU: the configuration an operator
//! would write, a server whose VNC and serial consoles are QEMU's, and
//! console URLs minted through the compute API.

use std::net::SocketAddr;
use std::time::Duration;

use serde_json::json;

use crate::consoled::Consoled;
use crate::net::free_port;
use crate::qemu::Qemu;

/// The QEMU guest's server id in the inventory.
pub const SERVER_ID: &str = "3f4c2a10-7b6d-4e0f-9a1c-5d2e8b7f6a01";

/// The QEMU guest's server name.
pub const SERVER_NAME: &str = "qemu-1";

/// Bounds every wait of the end-to-end tests, only so that a broken test
/// fails instead of hanging.
pub const LIMIT: Duration = Duration::from_secs(60);

/// How the stack is configured beyond its defaults.
#[derive(Debug, Clone)]
pub struct StackOptions {
    /// The noVNC page (with its query, if any) the novnc base URL names,
    /// e.g. `vnc_lite.html`.
    pub novnc_page: String,
    /// Extra lines for the `[proxy]` table.
    pub proxy: String,
    /// Have SeaBIOS write to the serial console too (see
    /// [`Qemu::start_with`]).
    pub bios_on_serial: bool,
    /// `[consoles.serial] sessions`: shared, exclusive or takeover.
    pub serial_sessions: String,
    /// Lines for the `[recording]` table (none: nothing is recorded); its
    /// `dir` is relative to [`Consoled::dir`].
    pub recording: String,
}

impl Default for StackOptions {
    fn default() -> Self {
        StackOptions {
            novnc_page: "vnc_lite.html".to_owned(),
            proxy: String::new(),
            bios_on_serial: false,
            serial_sessions: "shared".to_owned(),
            recording: String::new(),
        }
    }
}

/// A QEMU guest and a `consoled serve` whose inventory points at it, with
/// a novnc, a serial and a spice-html5 proxy listener; both processes die
/// on drop.
pub struct Stack {
    /// The consoled process.
    pub consoled: Consoled,
    /// The guest (kept alive as long as the stack).
    pub qemu: Qemu,
    /// The compute API.
    pub api: SocketAddr,
    /// The novnc proxy listener (it also serves noVNC's pages).
    pub novnc: SocketAddr,
    /// The serial proxy listener.
    pub serial: SocketAddr,
    /// The spice-html5 proxy listener (it also serves spice-html5's pages).
    pub spice: SocketAddr,
}

impl Stack {
    /// Starts QEMU, then `consoled serve` on free loopback ports, and waits
    /// until the API and both proxies accept connections.
    ///
    /// # Panics
    /// When either process cannot start.
    pub async fn start(options: StackOptions) -> Stack {
        let qemu = Qemu::start_with(options.bios_on_serial).await;
        let api: SocketAddr = ([127, 0, 0, 1], free_port()).into();
        let novnc: SocketAddr = ([127, 0, 0, 1], free_port()).into();
        let serial: SocketAddr = ([127, 0, 0, 1], free_port()).into();
        let spice: SocketAddr = ([127, 0, 0, 1], free_port()).into();
        let config = format!(
            r#"[api]
listen = "{api}"
auth = "noauth"

[consoles.novnc]
base_url = "http://{novnc}/{page}"

[consoles.serial]
base_url = "ws://{serial}/"
sessions = "{serial_sessions}"

[consoles.spice-html5]
base_url = "http://{spice}/spice_auto.html"

[backend]
inventory = "servers.toml"

[proxy]
{proxy}

[recording]
{recording}

[[proxy.listeners]]
listen = "{novnc}"
types = ["novnc"]

[[proxy.listeners]]
listen = "{serial}"
types = ["serial"]

[[proxy.listeners]]
listen = "{spice}"
types = ["spice-html5"]
"#,
            page = options.novnc_page,
            proxy = options.proxy,
            serial_sessions = options.serial_sessions,
            recording = options.recording,
        );
        let servers = format!(
            r#"[[servers]]
id = "{SERVER_ID}"
name = "{SERVER_NAME}"
project_id = "demo"
status = "ACTIVE"
host = "compute-1"

[servers.consoles.vnc]
host = "127.0.0.1"
port = {vnc}

[servers.consoles.serial]
host = "127.0.0.1"
port = {serial_port}

[servers.consoles.spice]
host = "127.0.0.1"
port = {spice_port}
"#,
            vnc = qemu.vnc().port(),
            spice_port = qemu.spice().port(),
            serial_port = qemu.serial().port(),
        );
        let consoled = Consoled::start(
            &["serve"],
            &[("consoled.toml", config), ("servers.toml", servers)],
            &[api, novnc, serial, spice],
        )
        .await;
        Stack {
            consoled,
            qemu,
            api,
            novnc,
            serial,
            spice,
        }
    }

    /// Mints a console URL of the QEMU guest through the compute API, as a
    /// dashboard does (microversion 2.6, `remote-consoles`).
    ///
    /// # Panics
    /// When the API does not answer 200 with a URL.
    pub async fn mint(&self, protocol: &str, console_type: &str) -> String {
        mint_console(
            &format!("http://{}", self.api),
            SERVER_ID,
            protocol,
            console_type,
        )
        .await
    }
}

/// `POST <api>/v2.1/servers/<server>/remote-consoles` as the demo project;
/// returns the console's URL.
///
/// # Panics
/// When the API does not answer 200 with a URL.
pub async fn mint_console(api: &str, server: &str, protocol: &str, console_type: &str) -> String {
    let client = reqwest::Client::builder()
        .timeout(LIMIT)
        .build()
        .expect("HTTP client");
    let response = client
        .post(format!("{api}/v2.1/servers/{server}/remote-consoles"))
        .header("X-Auth-Token", "demo:demo")
        .header("OpenStack-API-Version", "compute 2.6")
        .json(&json!({"remote_console": {"protocol": protocol, "type": console_type}}))
        .send()
        .await
        .expect("the compute API answers");
    let status = response.status();
    let body: serde_json::Value = response.json().await.expect("a JSON body");
    assert_eq!(status, 200, "minting a {console_type} console: {body}");
    assert_eq!(body["remote_console"]["type"], console_type, "{body}");
    body["remote_console"]["url"]
        .as_str()
        .expect("remote_console.url")
        .to_owned()
}
