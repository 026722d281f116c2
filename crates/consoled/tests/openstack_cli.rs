//! python-openstackclient against the running binary, as an operator
//! would use it: `openstack console url show <server>` with nothing but
//! the auth and endpoint flags.
//!
//! The test command installs the client (`python3 -m pip install
//! python-openstackclient`); without the `openstack` command this test
//! fails, naming the package, rather than pass having checked nothing.

mod common;

use std::process::Command;

use common::{example_config, temp_dir, Served};

fn openstack_installed() -> bool {
    Command::new("openstack")
        .arg("--version")
        .output()
        .is_ok_and(|o| o.status.success())
}

fn console_url(served: &Served, extra: &[&str]) -> String {
    let endpoint = format!("{}/v2.1", served.url);
    let out = Command::new("openstack")
        .args([
            "--os-auth-type",
            "admin_token",
            "--os-endpoint",
            &endpoint,
            "--os-token",
            "demo:demo",
        ])
        .args(extra)
        .args([
            "console", "url", "show", "web-1", "-f", "value", "-c", "url",
        ])
        // The operator's own cloud settings must not leak into the test.
        .env_remove("OS_CLOUD")
        .env_remove("OS_AUTH_URL")
        .env_remove("OS_COMPUTE_API_VERSION")
        .output()
        .expect("openstack runs");
    assert!(
        out.status.success(),
        "openstack failed: {}\nconsoled log:\n{}",
        String::from_utf8_lossy(&out.stderr),
        served.log.lock().unwrap()
    );
    String::from_utf8(out.stdout).unwrap().trim().to_owned()
}

#[test]
fn openstack_console_url_show_prints_a_novnc_url() {
    assert!(
        openstack_installed(),
        "the `openstack` command is not installed: scripts/test installs it \
         (python3 -m pip install python-openstackclient)"
    );
    let dir = temp_dir("openstack");
    let mut served = Served::start(&example_config(&dir));

    // The client's own microversion negotiation: remote-consoles.
    let url = console_url(&served, &[]);
    assert!(
        url.starts_with("http://127.0.0.1:6080/vnc_auto.html?path=%3Ftoken%3D"),
        "{url}"
    );
    assert!(served
        .log
        .lock()
        .unwrap()
        .contains("route=/v2.1/servers/{server_id}/remote-consoles"));

    // Pinned at 2.1, the client falls back to the legacy action.
    let url = console_url(&served, &["--os-compute-api-version", "2.1"]);
    assert!(
        url.starts_with("http://127.0.0.1:6080/vnc_auto.html?path=%3Ftoken%3D"),
        "{url}"
    );
    assert!(served
        .log
        .lock()
        .unwrap()
        .contains("route=/v2.1/servers/{server_id}/action"));

    served.terminate();
    assert_eq!(served.wait_exit().code(), Some(0));
}
