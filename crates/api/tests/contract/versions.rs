//! API.md section 1: versions, microversions, response headers.

use reqwest::Method;

use crate::harness::{Api, WEB};

#[tokio::test]
async fn version_documents_bound_the_microversions() {
    let api = Api::start().await;
    for path in ["/v2.1", "/v2.1/"] {
        let r = api.send(api.request(Method::GET, path)).await;
        assert_eq!(r.status, 200);
        let v = &r.json["version"];
        assert_eq!(v["id"], "v2.1");
        assert_eq!(v["status"], "CURRENT");
        assert_eq!(v["version"], "2.99");
        assert_eq!(v["min_version"], "2.1");
        assert_eq!(v["links"][0]["rel"], "self");
        assert_eq!(v["links"][0]["href"], format!("{}/v2.1/", api.url));
        assert_eq!(v["media-types"][0]["base"], "application/json");
    }
    let r = api.send(api.request(Method::GET, "/")).await;
    assert_eq!(r.status, 200);
    let versions = r.json["versions"].as_array().unwrap();
    assert_eq!(versions.len(), 1);
    assert_eq!(versions[0]["id"], "v2.1");
    assert_eq!(versions[0]["version"], "2.99");
    assert_eq!(versions[0]["min_version"], "2.1");
}

#[tokio::test]
async fn links_follow_host_and_forwarded_proto() {
    let api = Api::start().await;
    let r = api
        .send(
            api.request(Method::GET, "/v2.1")
                .header("host", "compute.example:8774")
                .header("x-forwarded-proto", "https"),
        )
        .await;
    assert_eq!(
        r.json["version"]["links"][0]["href"],
        "https://compute.example:8774/v2.1/"
    );
}

#[tokio::test]
async fn no_header_means_2_1_and_every_response_says_so() {
    let api = Api::start().await;
    // A success, a client error, and an unknown route alike.
    for (method, path) in [
        (Method::GET, "/v2.1"),
        (Method::GET, "/v2.1/servers/nope"),
        (Method::GET, "/v2.1/nothing-here"),
    ] {
        let r = api.send(api.request(method, path)).await;
        assert_eq!(r.header("openstack-api-version"), "compute 2.1", "{path}");
        assert_eq!(r.header("x-openstack-nova-api-version"), "2.1", "{path}");
        assert_eq!(
            r.header("vary"),
            "OpenStack-API-Version, X-OpenStack-Nova-API-Version",
            "{path}"
        );
        let id = r.header("x-openstack-request-id");
        let uuid = id.strip_prefix("req-").expect("req- prefix");
        assert_eq!(uuid.len(), 36, "{id}");
        assert!(
            uuid.chars().all(|c| c.is_ascii_hexdigit() || c == '-'),
            "{id}"
        );
    }
}

#[tokio::test]
async fn request_ids_differ() {
    let api = Api::start().await;
    let a = api.send(api.request(Method::GET, "/v2.1")).await;
    let b = api.send(api.request(Method::GET, "/v2.1")).await;
    assert_ne!(
        a.header("x-openstack-request-id"),
        b.header("x-openstack-request-id")
    );
}

#[tokio::test]
async fn both_header_spellings_are_echoed() {
    let api = Api::start().await;
    let new = api
        .send(
            api.request(Method::GET, "/v2.1")
                .header("OpenStack-API-Version", "compute 2.42"),
        )
        .await;
    assert_eq!(new.header("openstack-api-version"), "compute 2.42");
    assert_eq!(new.header("x-openstack-nova-api-version"), "2.42");
    let legacy = api
        .send(
            api.request(Method::GET, "/v2.1")
                .header("X-OpenStack-Nova-API-Version", "2.7"),
        )
        .await;
    assert_eq!(legacy.header("openstack-api-version"), "compute 2.7");
    assert_eq!(legacy.header("x-openstack-nova-api-version"), "2.7");
    // The new spelling wins when both are sent.
    let both = api
        .send(
            api.request(Method::GET, "/v2.1")
                .header("OpenStack-API-Version", "compute 2.9")
                .header("X-OpenStack-Nova-API-Version", "2.3"),
        )
        .await;
    assert_eq!(both.header("openstack-api-version"), "compute 2.9");
}

#[tokio::test]
async fn latest_is_our_max() {
    let api = Api::start().await;
    for (name, value) in [
        ("OpenStack-API-Version", "compute latest"),
        ("X-OpenStack-Nova-API-Version", "latest"),
    ] {
        let r = api
            .send(api.request(Method::GET, "/v2.1").header(name, value))
            .await;
        assert_eq!(r.header("openstack-api-version"), "compute 2.99");
    }
    // And `latest` really serves 2.99: spice-direct exists only there.
    let body = serde_json::json!({"remote_console": {"protocol": "spice", "type": "spice-direct"}});
    let r = api.remote_console("latest", "demo:demo", WEB, body).await;
    assert_eq!(r.status, 200, "{:?}", r.json);
}

#[tokio::test]
async fn malformed_version_is_400() {
    let api = Api::start().await;
    for (name, value) in [
        ("OpenStack-API-Version", "compute 2"),
        ("OpenStack-API-Version", "compute two.six"),
        ("OpenStack-API-Version", "compute"),
        ("X-OpenStack-Nova-API-Version", "2.6.1"),
    ] {
        let r = api
            .send(api.request(Method::GET, "/v2.1").header(name, value))
            .await;
        let message = r.fault(400, "badRequest");
        assert!(message.contains("invalid format"), "{message}");
        assert!(!r.header("x-openstack-request-id").is_empty());
        assert_eq!(
            r.header("vary"),
            "OpenStack-API-Version, X-OpenStack-Nova-API-Version"
        );
    }
}

#[tokio::test]
async fn out_of_range_is_406_naming_the_range() {
    let api = Api::start().await;
    for value in ["compute 2.100", "compute 2.0", "compute 3.1"] {
        let r = api
            .send(
                api.request(Method::GET, "/v2.1")
                    .header("OpenStack-API-Version", value),
            )
            .await;
        let message = r.fault(406, "computeFault");
        assert!(
            message.contains("Minimum is 2.1 and maximum is 2.99"),
            "{message}"
        );
    }
}
