//! `consoled demo`: the API and the proxies in one process, with demo
//! servers whose consoles are the test kit's live endpoints, so that a
//! first run shows a working console without a hypervisor.

use std::collections::HashMap;
use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;
use std::time::Duration;

use consoled_api::{ApiState, NoAuth};
use consoled_core::{
    DispatchSettings, Dispatcher, Endpoint, Identity, MemoryTokenStore, TypeSettings, Url,
};
use consoled_proxy::{ListenerConfig, ProxySettings, RecordingSettings};
use consoled_testkit::{
    AuthdEndpoint, AuthdOptions, ClockFrames, FakeBackend, RfbOptions, RfbServer, SerialLogin,
    ServerBuilder, SpiceEndpoint,
};

use crate::serve::{api_service, proxy_service, run_services};
use crate::shutdown::{self, Shutdown};

/// The demo servers' ids (web-1 is also the examples' server).
const WEB_1: &str = "c6d5a3a0-9f4e-4b8e-9a4e-0d1f6a1e2b3c";
const DB_1: &str = "9b2e4f4c-3f5e-4a0b-8d8e-2f6f1c0d7a51";

/// `consoled demo`'s options.
#[derive(Debug, Clone, clap::Args)]
pub struct DemoOptions {
    /// The address the API and the proxies listen on, and the URLs name.
    #[arg(long, default_value = "127.0.0.1")]
    pub host: IpAddr,
    /// Listen on free ports the OS picks instead of Nova's defaults (API
    /// 8774; proxies 6080 novnc, 6081 xvpvnc, 6082 spice-html5, 6083
    /// serial, 6090 webmks).
    #[arg(long)]
    pub any_port: bool,
}

/// One proxy listener of the demo: its type, Nova's port, and the page
/// its URLs open.
struct Front {
    console_type: &'static str,
    nova_port: u16,
    base: &'static str,
}

const FRONTS: &[Front] = &[
    Front {
        console_type: "novnc",
        nova_port: 6080,
        base: "http://{}/vnc_lite.html",
    },
    Front {
        console_type: "xvpvnc",
        nova_port: 6081,
        base: "http://{}/console",
    },
    Front {
        console_type: "spice-html5",
        nova_port: 6082,
        base: "http://{}/spice_auto.html",
    },
    Front {
        console_type: "serial",
        nova_port: 6083,
        base: "ws://{}/",
    },
    Front {
        console_type: "webmks",
        nova_port: 6090,
        base: "http://{}/",
    },
];

/// The demo servers' live consoles; dropped, they stop.
struct Consoles {
    _vnc: Vec<RfbServer>,
    _serial: Vec<SerialLogin>,
    _spice: SpiceEndpoint,
    _mks: AuthdEndpoint,
}

/// Runs the demo until SIGTERM or SIGINT.
///
/// # Errors
/// When a port is taken or an endpoint cannot start.
pub async fn run(options: DemoOptions) -> Result<(), String> {
    let registry = Arc::new(crate::linked::registry().map_err(|e| e.to_string())?);
    let (backend, _consoles) = demo_servers()
        .await
        .map_err(|e| format!("demo consoles: {e}"))?;

    let port = |nova: u16| {
        if options.any_port {
            free_port(options.host)
        } else {
            Ok(nova)
        }
    };
    let api_addr = SocketAddr::new(options.host, port(8774)?);
    let mut types = HashMap::new();
    let mut listeners = Vec::new();
    for front in FRONTS {
        let addr = SocketAddr::new(options.host, port(front.nova_port)?);
        let base = Url::parse(&front.base.replace("{}", &addr.to_string()))
            .map_err(|e| format!("demo base URL: {e}"))?;
        types.insert(
            front.console_type.to_owned(),
            TypeSettings {
                enabled: true,
                base_url: Some(base),
                ..TypeSettings::default()
            },
        );
        listeners.push(ListenerConfig::new(addr, [front.console_type]));
    }
    let settings = DispatchSettings {
        types,
        ..DispatchSettings::default()
    };
    let store = Arc::new(MemoryTokenStore::new());
    store.spawn_purger(Duration::from_secs(60));
    let dispatcher = Dispatcher::new(registry, Arc::new(backend), store, settings);

    let (trigger, shutdown) = Shutdown::new();
    shutdown::on_signals(trigger.clone())
        .map_err(|e| format!("cannot install signal handlers: {e}"))?;
    let state = ApiState::new(dispatcher.clone(), Arc::new(NoAuth));
    let proxy_settings = ProxySettings::default();
    let (api, api_addr) = api_service(
        api_addr,
        state,
        proxy_settings.handshake_timeout,
        shutdown.clone(),
    )
    .await?;
    let grace = proxy_settings.shutdown_grace;
    let (proxy, _) = proxy_service(
        dispatcher.clone(),
        proxy_settings,
        listeners,
        RecordingSettings::default(),
        None,
        shutdown.clone(),
    )
    .await?;

    print_welcome(&dispatcher, api_addr).await?;
    run_services(
        vec![api, proxy],
        trigger,
        shutdown,
        grace + Duration::from_secs(5),
    )
    .await
}

/// Two servers: web-1 with every console the test kit can serve, db-1 with
/// VNC and serial.
async fn demo_servers() -> std::io::Result<(FakeBackend, Consoles)> {
    let rfb = |name: &str| RfbOptions {
        name: name.to_owned(),
        width: 800,
        height: 480,
        connect_path: None,
        frames: Arc::new(ClockFrames {
            title: name.to_owned(),
        }),
    };
    let web_vnc = RfbServer::start_with(rfb("web-1")).await?;
    let db_vnc = RfbServer::start_with(rfb("db-1")).await?;
    let web_serial = SerialLogin::start("web-1").await?;
    let db_serial = SerialLogin::start("db-1").await?;
    let spice = SpiceEndpoint::start().await?;
    let mks = AuthdEndpoint::start(AuthdOptions {
        ticket: uuid_like_ticket(),
        cfg_file: "[datastore1] web-1/web-1.vmx".into(),
    })
    .await?;
    let at = |addr: SocketAddr| (addr.ip().to_string(), addr.port());
    let (vh, vp) = at(web_vnc.addr());
    let (sh, sp) = at(web_serial.addr());
    let (dh, dp) = at(db_vnc.addr());
    let (ds, dsp) = at(db_serial.addr());
    let backend = FakeBackend::new()
        .with(
            ServerBuilder::new(WEB_1, "web-1")
                .vnc(&vh, vp)
                .serial(&sh, sp)
                .console("spice", endpoint(spice.addr(), None))
                .console(
                    "mks",
                    endpoint(mks.addr(), Some(mks.internal_access_path())),
                ),
        )
        .with(
            ServerBuilder::new(DB_1, "db-1")
                .vnc(&dh, dp)
                .serial(&ds, dsp),
        );
    let consoles = Consoles {
        _vnc: vec![web_vnc, db_vnc],
        _serial: vec![web_serial, db_serial],
        _spice: spice,
        _mks: mks,
    };
    Ok((backend, consoles))
}

fn endpoint(addr: SocketAddr, internal_access_path: Option<String>) -> Endpoint {
    Endpoint {
        host: addr.ip().to_string(),
        port: addr.port(),
        tls_port: None,
        internal_access_path,
        unix_socket: None,
    }
}

/// A ticket nobody can guess from the source: the demo's MKS endpoint is
/// real enough to deserve one.
fn uuid_like_ticket() -> String {
    use consoled_core::TokenSource;
    consoled_core::OsTokenSource.generate().expose().to_owned()
}

/// Mints one console URL per type for web-1 and prints them with the
/// commands that mint fresh ones.
async fn print_welcome(dispatcher: &Dispatcher, api: SocketAddr) -> Result<(), String> {
    let demo = Identity::new("demo", "demo", ["member"]);
    let ttl = dispatcher.settings().token_ttl().as_secs() / 60;
    let mut out = format!(
        "consoled demo: the compute API on http://{api}/v2.1 and a console proxy per type.\n\
         Servers: web-1 ({WEB_1}) and db-1 ({DB_1}), project demo.\n\n\
         Console URLs for web-1 (valid for {ttl} minutes; open the novnc one in a browser):\n"
    );
    for front in FRONTS {
        let protocol = dispatcher
            .registry()
            .by_type(front.console_type)
            .map(|d| d.descriptor().protocol)
            .ok_or_else(|| format!("no driver linked for {}", front.console_type))?;
        let console = dispatcher
            .create_console(&demo, WEB_1, protocol, front.console_type)
            .await
            .map_err(|e| format!("minting the demo {} URL: {e}", front.console_type))?;
        out.push_str(&format!("  {:<12} {}\n", front.console_type, console.url));
    }
    if !std::path::Path::new("/usr/share/novnc/vnc_lite.html").exists() {
        out.push_str("  (the novnc page needs noVNC: apt-get install novnc)\n");
    }
    out.push_str(&format!(
        "\nMint fresh ones:\n  curl -s -X POST http://{api}/v2.1/servers/{WEB_1}/remote-consoles \\\n    \
         -H 'X-Auth-Token: demo:demo' -H 'OpenStack-API-Version: compute 2.6' \\\n    \
         -H 'Content-Type: application/json' \\\n    \
         -d '{{\"remote_console\": {{\"protocol\": \"vnc\", \"type\": \"novnc\"}}}}'\n  \
         openstack --os-auth-type admin_token --os-endpoint http://{api}/v2.1 \
         --os-token demo:demo console url show web-1\n\n\
         consoled demo: ready (Ctrl-C stops)\n"
    ));
    print!("{out}");
    Ok(())
}

/// A port on `host` that was free a moment ago.
fn free_port(host: IpAddr) -> Result<u16, String> {
    std::net::TcpListener::bind((host, 0))
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .map_err(|e| format!("no free port on {host}: {e}"))
}
