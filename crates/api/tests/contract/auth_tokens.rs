//! API.md section 4: console auth tokens (admin, 2.31+, tls_port at 2.99).

use reqwest::Method;
use serde_json::json;

use crate::harness::{Api, Reply, WEB};

async fn show(api: &Api, version: &str, caller: &str, token: &str) -> Reply {
    api.send(
        api.request_as(
            Method::GET,
            &format!("/v2.1/os-console-auth-tokens/{token}"),
            caller,
        )
        .header("openstack-api-version", format!("compute {version}")),
    )
    .await
}

#[tokio::test]
async fn admin_resolves_a_token_from_2_31() {
    let api = Api::start().await;
    let r = api.console("2.6", WEB, "vnc", "novnc").await;
    assert_eq!(r.status, 200);
    let r = show(&api, "2.31", "admin:admin", "tok-1").await;
    assert_eq!(r.status, 200, "{:?}", r.json);
    assert_eq!(
        r.json,
        json!({"console": {
            "instance_uuid": WEB, "host": "127.0.0.1", "port": 5901, "internal_access_path": null
        }})
    );
    let r = show(&api, "2.30", "admin:admin", "tok-1").await;
    r.fault(400, "badRequest");
}

#[tokio::test]
async fn tls_port_appears_at_2_99_for_spice_direct_only() {
    let api = Api::start().await;
    assert_eq!(
        api.console("2.99", WEB, "spice", "spice-direct")
            .await
            .status,
        200
    );
    assert_eq!(
        api.console("2.99", WEB, "spice", "spice-html5")
            .await
            .status,
        200
    );
    let r = show(&api, "2.98", "admin:admin", "tok-1").await;
    assert_eq!(r.status, 200);
    assert!(r.json["console"].get("tls_port").is_none(), "{:?}", r.json);
    let r = show(&api, "2.99", "admin:admin", "tok-1").await;
    assert_eq!(r.json["console"]["tls_port"], 5931, "{:?}", r.json);
    assert_eq!(r.json["console"]["port"], 5930);
    let r = show(&api, "2.99", "admin:admin", "tok-2").await;
    assert!(r.json["console"].get("tls_port").is_none(), "{:?}", r.json);
}

#[tokio::test]
async fn only_admins_and_only_live_tokens() {
    let api = Api::start().await;
    assert_eq!(api.console("2.6", WEB, "vnc", "novnc").await.status, 200);
    let r = show(&api, "2.31", "demo:demo", "tok-1").await;
    r.fault(403, "forbidden");
    let r = show(&api, "2.31", "admin:admin", "tok-999").await;
    let message = r.fault(404, "itemNotFound");
    assert!(
        !message.contains("tok-999"),
        "the token must not be echoed: {message}"
    );
}
