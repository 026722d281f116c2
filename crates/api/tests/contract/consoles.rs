//! API.md section 2: creating remote consoles, its microversion
//! boundaries, and the policy of section 8.

use consoled_core::Registry;
use serde_json::json;

use crate::harness::{settings_with, Api, BARE, BUILDING, DELETING, OTHER, STOPPED, WEB};

#[tokio::test]
async fn novnc_console_at_2_6() {
    let api = Api::start().await;
    let r = api.console("2.6", WEB, "vnc", "novnc").await;
    assert_eq!(r.status, 200, "{:?}", r.json);
    assert_eq!(
        r.json,
        json!({"remote_console": {
            "protocol": "vnc",
            "type": "novnc",
            "url": "http://127.0.0.1:6080/vnc_auto.html?path=%3Ftoken%3Dtok-1"
        }})
    );
    assert_eq!(r.header("openstack-api-version"), "compute 2.6");
}

#[tokio::test]
async fn below_2_6_the_route_does_not_exist() {
    let api = Api::start().await;
    let r = api.console("2.5", WEB, "vnc", "novnc").await;
    r.fault(404, "itemNotFound");
    // No header at all is 2.1.
    let body = json!({"remote_console": {"protocol": "vnc", "type": "novnc"}});
    let r = api
        .send(
            api.request(
                reqwest::Method::POST,
                &format!("/v2.1/servers/{WEB}/remote-consoles"),
            )
            .json(&body),
        )
        .await;
    r.fault(404, "itemNotFound");
}

#[tokio::test]
async fn every_other_type_carries_a_token_parameter() {
    let api = Api::start().await;
    for (protocol, console_type, url) in [
        ("vnc", "xvpvnc", "http://127.0.0.1:6081/console?token=tok-1"),
        (
            "spice",
            "spice-html5",
            "http://127.0.0.1:6082/spice_auto.html?token=tok-2",
        ),
        ("serial", "serial", "ws://127.0.0.1:6083/?token=tok-3"),
        ("mks", "webmks", "http://127.0.0.1:6090/?token=tok-4"),
        (
            "spice",
            "spice-direct",
            "http://127.0.0.1:13002/nova?token=tok-5",
        ),
    ] {
        let r = api.console("2.99", WEB, protocol, console_type).await;
        assert_eq!(r.status, 200, "{console_type}: {:?}", r.json);
        assert_eq!(r.json["remote_console"]["url"], url);
        assert_eq!(r.json["remote_console"].as_object().unwrap().len(), 3);
    }
}

#[tokio::test]
async fn mks_appears_at_2_8() {
    let api = Api::start().await;
    let r = api.console("2.7", WEB, "mks", "webmks").await;
    let message = r.fault(400, "badRequest");
    assert!(message.contains("'mks' is not one of"), "{message}");
    // webmks with a protocol 2.7 knows: the type enum refuses it too.
    let r = api.console("2.7", WEB, "vnc", "webmks").await;
    assert!(r
        .fault(400, "badRequest")
        .contains("'webmks' is not one of"));
    let r = api.console("2.8", WEB, "mks", "webmks").await;
    assert_eq!(r.status, 200, "{:?}", r.json);
    assert_eq!(r.json["remote_console"]["protocol"], "mks");
}

#[tokio::test]
async fn spice_direct_appears_at_2_99() {
    let api = Api::start().await;
    let r = api.console("2.98", WEB, "spice", "spice-direct").await;
    let message = r.fault(400, "badRequest");
    assert!(
        message.contains("'spice-direct' is not one of"),
        "{message}"
    );
    let r = api.console("2.99", WEB, "spice", "spice-direct").await;
    assert_eq!(r.status, 200, "{:?}", r.json);
}

#[tokio::test]
async fn novnc_path_merges_with_base_query() {
    let cases = [
        (
            "http://console.example:6080/vnc_lite.html",
            "http://console.example:6080/vnc_lite.html?path=%3Ftoken%3Dtok-1",
        ),
        (
            "http://console.example:6080/vnc.html?lang=en&autoconnect=true",
            "http://console.example:6080/vnc.html?lang=en&autoconnect=true&path=%3Ftoken%3Dtok-1",
        ),
        (
            "https://console.example/vnc.html?path=websockify&lang=en",
            "https://console.example/vnc.html?path=websockify%3Ftoken%3Dtok-1&lang=en",
        ),
    ];
    for (base, expected) in cases {
        let settings = settings_with("novnc", true, Some(base));
        let api = Api::start_with(Registry::from_inventory().unwrap(), settings).await;
        let r = api.console("2.6", WEB, "vnc", "novnc").await;
        assert_eq!(r.json["remote_console"]["url"], expected, "{base}");
    }
}

#[tokio::test]
async fn type_outside_its_protocol_is_400() {
    let api = Api::start().await;
    let r = api.console("2.6", WEB, "vnc", "serial").await;
    assert_eq!(r.fault(400, "badRequest"), "Invalid console type serial");
}

#[tokio::test]
async fn switched_off_type_is_400() {
    let settings = settings_with("xvpvnc", false, None);
    let api = Api::start_with(Registry::from_inventory().unwrap(), settings).await;
    let r = api.console("2.6", WEB, "vnc", "xvpvnc").await;
    assert_eq!(
        r.fault(400, "badRequest"),
        "Unavailable console type xvpvnc."
    );
}

#[tokio::test]
async fn server_without_that_console_is_400() {
    let api = Api::start().await;
    let r = api.console("2.6", BARE, "serial", "serial").await;
    let message = r.fault(400, "badRequest");
    assert!(message.contains(BARE), "{message}");
}

#[tokio::test]
async fn unknown_server_is_404() {
    let api = Api::start().await;
    let r = api.console("2.6", "no-such-server", "vnc", "novnc").await;
    assert_eq!(
        r.fault(404, "itemNotFound"),
        "Instance no-such-server could not be found."
    );
}

#[tokio::test]
async fn not_ready_or_busy_server_is_409() {
    let api = Api::start().await;
    let r = api.console("2.6", BUILDING, "vnc", "novnc").await;
    assert!(r.fault(409, "conflictingRequest").contains("is not ready"));
    let r = api.console("2.6", DELETING, "vnc", "novnc").await;
    assert!(r.fault(409, "conflictingRequest").contains("deleting"));
    let r = api.console("2.6", STOPPED, "vnc", "novnc").await;
    assert!(r.fault(409, "conflictingRequest").contains("SHUTOFF"));
}

#[tokio::test]
async fn policy_follows_nova_defaults() {
    let api = Api::start().await;
    let body = json!({"remote_console": {"protocol": "vnc", "type": "novnc"}});
    // Another project's server does not exist for a member.
    let r = api
        .remote_console("2.6", "demo:demo", OTHER, body.clone())
        .await;
    r.fault(404, "itemNotFound");
    // A reader of the right project is refused.
    let r = api
        .remote_console("2.6", "viewer:demo:reader", WEB, body.clone())
        .await;
    assert!(r.fault(403, "forbidden").contains("os-remote-consoles"));
    // An admin reaches any project.
    let r = api
        .remote_console("2.6", "admin:admin", OTHER, body.clone())
        .await;
    assert_eq!(r.status, 200, "{:?}", r.json);
    // Explicit member role works; an explicit non-admin of another project does not.
    let r = api
        .remote_console("2.6", "alice:demo:member", WEB, body.clone())
        .await;
    assert_eq!(r.status, 200, "{:?}", r.json);
    let r = api
        .remote_console("2.6", "alice:other:member", WEB, body)
        .await;
    r.fault(404, "itemNotFound");
}

#[tokio::test]
async fn missing_credentials_are_401() {
    let api = Api::start().await;
    let body = json!({"remote_console": {"protocol": "vnc", "type": "novnc"}});
    let request = reqwest::Client::new()
        .post(format!("{}/v2.1/servers/{WEB}/remote-consoles", api.url))
        .header("openstack-api-version", "compute 2.6")
        .json(&body);
    let r = api.send(request).await;
    r.fault(401, "unauthorized");
}
