//! The servers resource, enough to resolve a server by id or name.

use reqwest::Method;

use crate::harness::{Api, OTHER, WEB};

#[tokio::test]
async fn show_has_id_name_status_project_and_absolute_links() {
    let api = Api::start().await;
    let r = api
        .send(api.request(Method::GET, &format!("/v2.1/servers/{WEB}")))
        .await;
    assert_eq!(r.status, 200, "{:?}", r.json);
    let s = &r.json["server"];
    assert_eq!(s["id"], WEB);
    assert_eq!(s["name"], "web-1");
    assert_eq!(s["status"], "ACTIVE");
    assert_eq!(s["tenant_id"], "demo");
    assert_eq!(s["links"][0]["rel"], "self");
    assert_eq!(
        s["links"][0]["href"],
        format!("{}/v2.1/servers/{WEB}", api.url)
    );
    assert_eq!(s["links"][1]["href"], format!("{}/servers/{WEB}", api.url));
    let r = api
        .send(api.request(Method::GET, &format!("/v2.1/servers/{OTHER}")))
        .await;
    r.fault(404, "itemNotFound");
}

#[tokio::test]
async fn lists_filter_by_project_and_name() {
    let api = Api::start().await;
    let r = api.send(api.request(Method::GET, "/v2.1/servers")).await;
    let names: Vec<&str> = r.json["servers"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["name"].as_str().unwrap())
        .collect();
    assert!(
        names.contains(&"web-1") && !names.contains(&"db-1"),
        "{names:?}"
    );
    assert!(r.json["servers"][0].get("status").is_none());

    let r = api
        .send(api.request(Method::GET, "/v2.1/servers/detail?name=web-1"))
        .await;
    let servers = r.json["servers"].as_array().unwrap();
    assert_eq!(servers.len(), 1, "{servers:?}");
    assert_eq!(servers[0]["id"], WEB);
    assert_eq!(servers[0]["status"], "ACTIVE");
    assert_eq!(servers[0]["tenant_id"], "demo");

    let r = api
        .send(api.request(Method::GET, "/v2.1/servers?name=nothing"))
        .await;
    assert_eq!(r.json["servers"].as_array().unwrap().len(), 0);

    // Admins see other projects when they ask for all of them.
    let r = api
        .send(api.request_as(
            Method::GET,
            "/v2.1/servers?all_tenants=1&name=db-1",
            "admin:admin",
        ))
        .await;
    assert_eq!(r.json["servers"][0]["id"], OTHER, "{:?}", r.json);
}

#[tokio::test]
async fn servers_need_credentials() {
    let api = Api::start().await;
    let r = api
        .send(reqwest::Client::new().get(format!("{}/v2.1/servers", api.url)))
        .await;
    r.fault(401, "unauthorized");
}
