//! API.md section 3: the legacy console actions (2.1 to 2.5).

use reqwest::Method;
use serde_json::{json, Value};

use crate::harness::{Api, Reply, OTHER, WEB};

async fn action(api: &Api, version: Option<&str>, server: &str, body: Value) -> Reply {
    let mut request = api
        .request(Method::POST, &format!("/v2.1/servers/{server}/action"))
        .json(&body);
    if let Some(v) = version {
        request = request.header("X-OpenStack-Nova-API-Version", v);
    }
    api.send(request).await
}

#[tokio::test]
async fn each_legacy_action_answers_a_console() {
    let api = Api::start().await;
    for (name, console_type, url) in [
        (
            "os-getVNCConsole",
            "novnc",
            "http://127.0.0.1:6080/vnc_auto.html?path=%3Ftoken%3Dtok-1",
        ),
        (
            "os-getVNCConsole",
            "xvpvnc",
            "http://127.0.0.1:6081/console?token=tok-2",
        ),
        (
            "os-getSPICEConsole",
            "spice-html5",
            "http://127.0.0.1:6082/spice_auto.html?token=tok-3",
        ),
        (
            "os-getRDPConsole",
            "rdp-html5",
            "http://127.0.0.1:6083/?token=tok-4",
        ),
        (
            "os-getSerialConsole",
            "serial",
            "ws://127.0.0.1:6083/?token=tok-5",
        ),
    ] {
        let r = action(&api, None, WEB, json!({ name: { "type": console_type } })).await;
        assert_eq!(r.status, 200, "{name}: {:?}", r.json);
        if name == "os-getRDPConsole" {
            // rdp-html5 has no Nova default base URL of its own; whatever the
            // driver picks, the token rides in `token`.
            let got = r.json["console"]["url"].as_str().unwrap();
            assert!(got.ends_with("?token=tok-4"), "{got}");
        } else {
            assert_eq!(
                r.json,
                json!({"console": {"type": console_type, "url": url}})
            );
        }
    }
}

#[tokio::test]
async fn actions_work_up_to_2_5_and_are_gone_from_2_6() {
    let api = Api::start().await;
    let body = json!({"os-getVNCConsole": {"type": "novnc"}});
    let r = action(&api, Some("2.5"), WEB, body.clone()).await;
    assert_eq!(r.status, 200, "{:?}", r.json);
    assert_eq!(r.header("x-openstack-nova-api-version"), "2.5");
    let r = action(&api, Some("2.6"), WEB, body).await;
    r.fault(404, "itemNotFound");
}

#[tokio::test]
async fn legacy_schema_and_errors() {
    let api = Api::start().await;
    let r = action(
        &api,
        None,
        WEB,
        json!({"os-getVNCConsole": {"type": "spice-html5"}}),
    )
    .await;
    assert!(r
        .fault(400, "badRequest")
        .contains("'spice-html5' is not one of ['novnc', 'xvpvnc']"));
    let r = action(&api, None, WEB, json!({"os-getVNCConsole": {}})).await;
    assert!(r
        .fault(400, "badRequest")
        .ends_with("'type' is a required property"));
    let r = action(
        &api,
        None,
        WEB,
        json!({"os-getVNCConsole": {"type": "novnc", "x": 1}}),
    )
    .await;
    assert!(r.fault(400, "badRequest").contains("('x' was unexpected)"));
    let r = action(&api, None, WEB, json!({"reboot": {"type": "HARD"}})).await;
    assert_eq!(
        r.fault(400, "badRequest"),
        "There is no such action: reboot"
    );
    let r = action(
        &api,
        None,
        OTHER,
        json!({"os-getVNCConsole": {"type": "novnc"}}),
    )
    .await;
    r.fault(404, "itemNotFound");
}
