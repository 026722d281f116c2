//! A compute API request as a client sends it: a microversion header, a
//! media type and a body, to each route that reads a body or a version.
//! Whatever the bytes, the answer is a Nova fault or a success, never a
//! 500 (a 500 means a bug: a panic or an unmapped error), always with the
//! version headers, and an error body is one JSON object naming its fault.
#![no_main]

use std::sync::{Arc, OnceLock};

use axum::body::Body;
use axum::http::{Method, Request};
use axum::Router;
use consoled_api::{router, ApiState, NoAuth};
use consoled_core::{DispatchSettings, Dispatcher, MemoryTokenStore, Registry};
use consoled_testkit::{FakeBackend, ServerBuilder};
use libfuzzer_sys::fuzz_target;
use tokio::runtime::Runtime;
use tower::ServiceExt;

const SERVER: &str = "c6d5a3a0-9f4e-4b8e-9a4e-0d1f6a1e2b3c";

struct World {
    runtime: Runtime,
    app: Router,
}

fn world() -> &'static World {
    static WORLD: OnceLock<World> = OnceLock::new();
    WORLD.get_or_init(|| {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .expect("runtime");
        let registry = Registry::builder()
            .register(Arc::new(consoled_driver_serial::SerialDriver))
            .register(Arc::new(consoled_driver_vnc_novnc::NoVncDriver))
            .build()
            .expect("registry");
        let backend = FakeBackend::new().with(
            ServerBuilder::new(SERVER, "web-1")
                .vnc("127.0.0.1", 5901)
                .serial("127.0.0.1", 10000),
        );
        let app = runtime.block_on(async {
            let dispatcher = Dispatcher::new(
                Arc::new(registry),
                Arc::new(backend),
                Arc::new(MemoryTokenStore::new()),
                DispatchSettings::default(),
            );
            router(ApiState::new(dispatcher, Arc::new(NoAuth)))
        });
        World { runtime, app }
    })
}

const ROUTES: [(&str, &str); 3] = [
    ("POST", "/v2.1/servers/{id}/remote-consoles"),
    ("POST", "/v2.1/servers/{id}/action"),
    ("GET", "/v2.1/os-console-auth-tokens/{id}"),
];

const MEDIA: [Option<&str>; 4] = [
    None,
    Some("application/json"),
    Some("application/vnd.openstack.compute+json; charset=utf-8"),
    Some("text/plain"),
];

fuzz_target!(|data: &[u8]| {
    let Some((&selector, rest)) = data.split_first() else {
        return;
    };
    // The version header's value, then the body.
    let (version, body) = match rest.iter().position(|&b| b == b'\n') {
        Some(i) => (&rest[..i], &rest[i + 1..]),
        None => (&rest[..0], rest),
    };
    let (method, path) = ROUTES[usize::from(selector & 3) % ROUTES.len()];
    let media = MEDIA[usize::from((selector >> 2) & 3)];
    let mut request = Request::builder()
        .method(Method::from_bytes(method.as_bytes()).expect("method"))
        .uri(path.replace("{id}", SERVER))
        .header(
            "x-auth-token",
            if selector & 0x10 == 0 {
                "admin:admin"
            } else {
                "demo:demo"
            },
        );
    if !version.is_empty() {
        let name = if selector & 0x20 == 0 {
            "openstack-api-version"
        } else {
            "x-openstack-nova-api-version"
        };
        request = request.header(name, version);
    }
    if let Some(media) = media {
        request = request.header("content-type", media);
    }
    // A header value axum cannot carry is the HTTP layer's to refuse.
    let Ok(request) = request.body(Body::from(body.to_vec())) else {
        return;
    };
    let world = world();
    let response = world
        .runtime
        .block_on(world.app.clone().oneshot(request))
        .expect("the router is infallible");
    let status = response.status().as_u16();
    assert_ne!(status, 500, "a request made the API fail");
    assert!(response.headers().contains_key("openstack-api-version"));
    if status >= 400 {
        let bytes = world
            .runtime
            .block_on(axum::body::to_bytes(response.into_body(), 1 << 20))
            .expect("body");
        let fault: serde_json::Value = serde_json::from_slice(&bytes).expect("a JSON fault");
        let object = fault.as_object().expect("an object");
        assert_eq!(object.len(), 1, "one fault name: {fault}");
        let (_, inner) = object.iter().next().expect("a fault");
        assert_eq!(inner["code"].as_u64(), Some(u64::from(status)));
    }
});
