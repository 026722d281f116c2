//! Screenshots of a real QEMU's VNC screen through `consoled serve`, from
//! the API route and from `consoled screenshot` on minted novnc and
//! xvpvnc URLs (Raw and ZRLE), each equal pixel for pixel to QEMU's own
//! screendump of the same still screen (SeaBIOS's "No bootable device");
//! also with QEMU's VeNCrypt behind the security proxy.

use std::net::SocketAddr;
use std::time::Duration;

use consoled_e2e::chromium::TempDir;
use consoled_e2e::consoled::{artifact, binary, Consoled};
use consoled_e2e::net::free_port;
use consoled_e2e::qemu::Qemu;
use consoled_e2e::screens::Rgb;
use consoled_e2e::stack::{mint_console, Stack, StackOptions, LIMIT, SERVER_ID};
use consoled_e2e::tools::require_qemu;
use consoled_testkit::pki::TestCa;
use tokio::time::{sleep, Instant};

/// How many times a screenshot is taken between two screendumps before
/// the test gives up: the screen is still but for its blinking cursor.
const ATTEMPTS: usize = 30;

/// Waits until QEMU's screen stops changing (three screendumps in a row,
/// half a second apart, equal) and shows more than a blank screen.
async fn still_screen(qemu: &Qemu) -> Rgb {
    let deadline = Instant::now() + LIMIT;
    let mut last = Rgb::from_png(&qemu.screendump().await);
    let mut same = 0;
    while same < 2 || last.colours() < 2 {
        assert!(Instant::now() < deadline, "QEMU's screen never settled");
        sleep(Duration::from_millis(500)).await;
        let now = Rgb::from_png(&qemu.screendump().await);
        same = if now == last { same + 1 } else { 0 };
        last = now;
    }
    last
}

/// A QEMU guest behind a `consoled serve`.
struct Setup<'a> {
    qemu: &'a Qemu,
    consoled: &'a Consoled,
    /// The compute API's base URL.
    api: String,
    /// The guest's server id.
    server: &'a str,
}

impl<'a> Setup<'a> {
    fn of(stack: &'a Stack) -> Setup<'a> {
        Setup {
            qemu: &stack.qemu,
            consoled: &stack.consoled,
            api: format!("http://{}", stack.api),
            server: SERVER_ID,
        }
    }
}

/// Where a screenshot comes from.
#[derive(Debug, Clone, Copy)]
enum Source {
    /// `GET /consoled/v1/servers/{id}/screenshot`.
    Route,
    /// `consoled screenshot --url <URL of this type> --encodings <encoding>`.
    Cli {
        console_type: &'static str,
        encoding: &'static str,
    },
}

/// Takes one screenshot; returns the PNG and what the CLI said.
async fn take(setup: &Setup<'_>, source: Source) -> (Vec<u8>, String) {
    match source {
        Source::Route => {
            let client = reqwest::Client::builder().timeout(LIMIT).build().unwrap();
            let response = client
                .get(format!(
                    "{}/consoled/v1/servers/{}/screenshot",
                    setup.api, setup.server
                ))
                .header("X-Auth-Token", "demo:demo")
                .send()
                .await
                .expect("the API answers");
            let status = response.status();
            let bytes = response.bytes().await.expect("a body");
            assert_eq!(
                status,
                200,
                "{}\n{}",
                String::from_utf8_lossy(&bytes),
                setup.consoled.log()
            );
            (bytes.to_vec(), String::new())
        }
        Source::Cli {
            console_type,
            encoding,
        } => {
            let url = mint_console(&setup.api, setup.server, "vnc", console_type).await;
            let out = artifact(&format!("screenshot-{console_type}-{encoding}.png"));
            std::fs::create_dir_all(out.parent().unwrap()).unwrap();
            let ran = tokio::time::timeout(
                LIMIT,
                tokio::process::Command::new(binary())
                    .args(["screenshot", "--url", &url, "--encodings", encoding, "-o"])
                    .arg(&out)
                    .output(),
            )
            .await
            .expect("consoled screenshot ends in time")
            .expect("consoled screenshot runs");
            let said = String::from_utf8_lossy(&ran.stdout).into_owned();
            assert!(
                ran.status.success(),
                "consoled screenshot failed: {said}{}\n{}",
                String::from_utf8_lossy(&ran.stderr),
                setup.consoled.log()
            );
            (std::fs::read(&out).expect("the PNG written"), said)
        }
    }
}

/// Takes screenshots from `source`, each between two screendumps, until
/// one equals a screendump taken around it; returns what the CLI said.
async fn equals_screendump(setup: &Setup<'_>, source: Source) -> String {
    let mut last_difference = String::new();
    for _ in 0..ATTEMPTS {
        let before = Rgb::from_png(&setup.qemu.screendump().await);
        let (png, said) = take(setup, source).await;
        let after = Rgb::from_png(&setup.qemu.screendump().await);
        let shot = Rgb::from_png(&png);
        // The screen may change once in between (its text cursor blinks,
        // and under load a screenshot can take longer than a blink): the
        // screenshot must then be one of QEMU's two screens, whole.
        if shot == before || shot == after {
            return said;
        }
        if before != after {
            last_difference =
                "the screen changed during the screenshot, which is neither screen".into();
            continue;
        }
        std::fs::write(artifact("screenshot-mismatch.png"), &png).unwrap();
        last_difference = format!(
            "the screenshot ({shot:?}) differs from the screendump ({before:?}) in {} pixels",
            shot.differing_pixels(&before)
        );
    }
    panic!("{source:?}: {last_difference}");
}

fn cli(console_type: &'static str, encoding: &'static str) -> Source {
    Source::Cli {
        console_type,
        encoding,
    }
}

#[tokio::test]
async fn screenshots_equal_qemus_screendump_in_raw_and_zrle() {
    require_qemu();
    let stack = Stack::start(StackOptions::default()).await;
    let setup = Setup::of(&stack);
    let still = still_screen(&stack.qemu).await;
    assert!(still.width >= 640 && still.height >= 400, "{still:?}");

    equals_screendump(&setup, Source::Route).await;
    let raw = equals_screendump(&setup, cli("novnc", "raw")).await;
    assert!(raw.contains("(raw "), "only Raw rectangles: {raw}");
    let zrle = equals_screendump(&setup, cli("novnc", "zrle")).await;
    assert!(
        zrle.contains("(zrle ") && !zrle.contains("raw"),
        "only ZRLE rectangles: {zrle}"
    );
    stack
        .consoled
        .wait_for_log_line(&["screenshot taken", SERVER_ID], LIMIT)
        .await;
}

#[tokio::test]
async fn through_vencrypt_and_the_xvpvnc_front_too() {
    require_qemu();
    let pki = TempDir::new("screenshot-pki");
    let ca = TestCa::new("consoled e2e VNC CA").unwrap();
    let server = ca.server(&["127.0.0.1"]).unwrap();
    ca.write_qemu_server_dir(&server, pki.path()).unwrap();
    let qemu = Qemu::start_vencrypt(pki.path()).await;
    let client = ca.client("consoled-proxy").unwrap();
    let api: SocketAddr = ([127, 0, 0, 1], free_port()).into();
    let novnc: SocketAddr = ([127, 0, 0, 1], free_port()).into();
    let xvpvnc: SocketAddr = ([127, 0, 0, 1], free_port()).into();
    let config = format!(
        r#"[api]
listen = "{api}"

[consoles.novnc]
base_url = "http://{novnc}/vnc_lite.html"

[consoles.xvpvnc]
base_url = "http://{xvpvnc}/console"

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

[[proxy.listeners]]
listen = "{xvpvnc}"
types = ["xvpvnc"]
"#
    );
    let servers = format!(
        "[[servers]]\nid = \"{SERVER_ID}\"\nname = \"vm\"\nproject_id = \"demo\"\n\
         status = \"ACTIVE\"\nhost = \"compute-1\"\n\
         [servers.consoles.vnc]\nhost = \"127.0.0.1\"\nport = {}\n",
        qemu.vnc().port()
    );
    let consoled = Consoled::start(
        &["serve"],
        &[
            ("consoled.toml", config),
            ("servers.toml", servers),
            ("vnc-ca.pem", ca.cert_pem()),
            ("proxy-key.pem", client.key_pem.clone()),
            ("proxy-cert.pem", client.cert_pem.clone()),
        ],
        &[api, novnc, xvpvnc],
    )
    .await;
    let setup = Setup {
        qemu: &qemu,
        consoled: &consoled,
        api: format!("http://{api}"),
        server: SERVER_ID,
    };
    still_screen(&qemu).await;
    // QEMU offers VeNCrypt only (and verifies the proxy's certificate):
    // the RFB client, which speaks None only, gets the proxy's None.
    equals_screendump(&setup, Source::Route).await;
    let zrle = equals_screendump(&setup, cli("xvpvnc", "zrle")).await;
    assert!(zrle.contains("(zrle "), "{zrle}");
    consoled
        .wait_for_log_line(&["console session open", "console_type=xvpvnc"], LIMIT)
        .await;
}
