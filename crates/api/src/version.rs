//! Version discovery: `GET /` and `GET /v2.1`.

use axum::http::HeaderMap;
use axum::Json;
use consoled_core::Microversion;
use serde_json::{json, Value};

use crate::links::base_url;

/// When v2.1 was released, as Nova reports it.
const UPDATED: &str = "2013-07-23T11:33:21Z";

/// `GET /`: the API versions, of which we serve one, v2.1.
pub(crate) async fn versions(headers: HeaderMap) -> Json<Value> {
    let mut v2_1 = describe(&headers);
    if let Some(doc) = v2_1.as_object_mut() {
        doc.remove("media-types");
    }
    Json(json!({ "versions": [v2_1] }))
}

/// `GET /v2.1` and `GET /v2.1/`: the current version, whose `version` and
/// `min_version` bound the microversions clients may ask for.
pub(crate) async fn current(headers: HeaderMap) -> Json<Value> {
    Json(json!({ "version": describe(&headers) }))
}

fn describe(headers: &HeaderMap) -> Value {
    json!({
        "id": "v2.1",
        "status": "CURRENT",
        "version": Microversion::MAX.to_string(),
        "min_version": Microversion::MIN.to_string(),
        "updated": UPDATED,
        "links": [
            { "rel": "self", "href": format!("{}/v2.1/", base_url(headers)) },
            { "rel": "describedby", "type": "text/html", "href": "https://docs.openstack.org/" }
        ],
        "media-types": [{
            "base": "application/json",
            "type": "application/vnd.openstack.compute+json;version=2.1"
        }]
    })
}
