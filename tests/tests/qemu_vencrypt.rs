//! `[vnc] auth_schemes = ["vencrypt"]` against QEMU's own VeNCrypt: the
//! proxy negotiates x509 TLS with QEMU (which verifies the proxy's client
//! certificate) and the browser's side, a WebSocket as noVNC opens it,
//! sees security None and QEMU's framebuffer. A QEMU whose CA did not sign
//! the proxy's certificate, and a QEMU without VeNCrypt, are refused
//! before the WebSocket opens, and the process goes on serving.

use std::net::SocketAddr;

use consoled_e2e::chromium::TempDir;
use consoled_e2e::console_urls::novnc_websocket_url;
use consoled_e2e::consoled::Consoled;
use consoled_e2e::net::free_port;
use consoled_e2e::qemu::Qemu;
use consoled_e2e::stack::{mint_console, LIMIT};
use consoled_e2e::tools::require_qemu;
use consoled_e2e::vnc::{request_update_header, rfb_over_websocket};
use consoled_e2e::ws;
use consoled_testkit::pki::TestCa;
use tokio::time::timeout;
use tokio_tungstenite::tungstenite;

/// QEMU's VNC server, whose CA signed the proxy's client certificate.
const TRUSTING: &str = "6c0c6d0e-0a3b-4d43-9d57-1f6f1f7a0001";
/// QEMU's VNC server, verifying clients against another CA.
const STRANGER: &str = "6c0c6d0e-0a3b-4d43-9d57-1f6f1f7a0002";
/// QEMU's VNC server without TLS: security None only.
const PLAIN: &str = "6c0c6d0e-0a3b-4d43-9d57-1f6f1f7a0003";

#[tokio::test]
async fn novnc_reaches_qemu_through_vencrypt_and_bad_servers_are_refused_cleanly() {
    require_qemu();
    let pki = TempDir::new("vencrypt-pki");
    let ours = TestCa::new("consoled e2e VNC CA").unwrap();
    let theirs = TestCa::new("another VNC CA").unwrap();
    for (ca, folder) in [(&ours, "trusting"), (&theirs, "stranger")] {
        let server = ca.server(&["127.0.0.1"]).unwrap();
        ca.write_qemu_server_dir(&server, &pki.path().join(folder))
            .unwrap();
    }
    let trusting = Qemu::start_vencrypt(&pki.path().join("trusting")).await;
    let stranger = Qemu::start_vencrypt(&pki.path().join("stranger")).await;
    let plain = Qemu::start().await;

    // The proxy trusts both servers' certificates, but its own is signed
    // by our CA only: the stranger refuses it.
    let client = ours.client("consoled-proxy").unwrap();
    let api: SocketAddr = ([127, 0, 0, 1], free_port()).into();
    let novnc: SocketAddr = ([127, 0, 0, 1], free_port()).into();
    let config = format!(
        r#"[api]
listen = "{api}"

[consoles.novnc]
base_url = "http://{novnc}/vnc_lite.html"

[backend]
inventory = "servers.toml"

[vnc]
auth_schemes = ["vencrypt"]
vencrypt_ca_certs = "vnc-ca.pem"
vencrypt_client_key = "proxy-key.pem"
vencrypt_client_cert = "proxy-cert.pem"

[[proxy.listeners]]
listen = "{novnc}"
types = ["novnc"]
"#
    );
    let servers: String = [
        (TRUSTING, &trusting),
        (STRANGER, &stranger),
        (PLAIN, &plain),
    ]
    .iter()
    .map(|(id, qemu)| {
        format!(
            "[[servers]]\nid = \"{id}\"\nname = \"vm-{id}\"\nproject_id = \"demo\"\n\
             status = \"ACTIVE\"\nhost = \"compute-1\"\n\
             [servers.consoles.vnc]\nhost = \"127.0.0.1\"\nport = {}\n",
            qemu.vnc().port()
        )
    })
    .collect();
    let consoled = Consoled::start(
        &["serve"],
        &[
            ("consoled.toml", config),
            ("servers.toml", servers),
            (
                "vnc-ca.pem",
                format!("{}{}", ours.cert_pem(), theirs.cert_pem()),
            ),
            ("proxy-key.pem", client.key_pem.clone()),
            ("proxy-cert.pem", client.cert_pem.clone()),
        ],
        &[api, novnc],
    )
    .await;
    let api_url = format!("http://{api}");
    let open = |server: &'static str| {
        let api_url = api_url.clone();
        async move {
            let url = mint_console(&api_url, server, "vnc", "novnc").await;
            novnc_websocket_url(&url)
        }
    };

    let framebuffer_through_tls = |ws_url: String| {
        let consoled = &consoled;
        async move {
            let (mut rfb, init) = timeout(LIMIT, rfb_over_websocket(&ws_url))
                .await
                .expect("RFB handshake in time")
                .unwrap_or_else(|e| panic!("RFB through VeNCrypt: {e}\n{}", consoled.log()));
            assert!(
                matches!((init.width, init.height), (720, 400) | (640, 480)),
                "SeaBIOS's screen: {init:?}"
            );
            assert!(init.name.contains("consoled-e2e"), "QEMU's -name: {init:?}");
            let header = timeout(
                LIMIT,
                request_update_header(&mut rfb, init.width, init.height),
            )
            .await
            .expect("a FramebufferUpdate in time")
            .expect("QEMU answers through TLS");
            assert_eq!(header.message_type, 0, "FramebufferUpdate");
            assert!(header.rectangles >= 1, "{header:?}");
        }
    };

    framebuffer_through_tls(open(TRUSTING).await).await;
    consoled
        .wait_for_log_line(&["console session open", TRUSTING], LIMIT)
        .await;

    // QEMU refuses the proxy's certificate: the browser's upgrade is
    // refused (no session to hang), and the log says which server.
    let refused_with = |ws_url: String| async move {
        match timeout(LIMIT, ws::open(&ws_url, &[]))
            .await
            .expect("an answer in time")
        {
            Err(tungstenite::Error::Http(response)) => response.status().as_u16(),
            Err(e) => panic!("expected an HTTP refusal, got {e}"),
            Ok(_) => panic!("the WebSocket opened to a server the proxy could not secure"),
        }
    };
    assert_eq!(refused_with(open(STRANGER).await).await, 503);
    let stranger_at = format!("VNC server 127.0.0.1:{}", stranger.vnc().port());
    consoled
        .wait_for_log_line(
            &[
                "console refused",
                "status=503",
                &stranger_at,
                "the proxy's client certificate",
            ],
            LIMIT,
        )
        .await;

    // A server without VeNCrypt is refused, naming what it offers.
    assert_eq!(refused_with(open(PLAIN).await).await, 503);
    let line = consoled
        .wait_for_log_line(&["console refused", "offers security types"], LIMIT)
        .await;
    assert!(
        line.contains(&format!("VNC server 127.0.0.1:{}", plain.vnc().port()))
            && line.contains("1 (None)"),
        "{line}"
    );

    // The process keeps serving: the next good session works.
    framebuffer_through_tls(open(TRUSTING).await).await;
    assert!(!consoled.log().contains("panicked"), "{}", consoled.log());
}
