//! API.md section 5: routing faults, missing drivers, and dependencies or
//! drivers that fail; one bad request never takes the service down.

use std::sync::Arc;
use std::time::Duration;

use consoled_core::{
    async_trait, BackendStream, ConnectInfo, ConsoleDriver, ConsoleError, DriverDescriptor,
    Registry, Server, Token, TokenRecord, Url,
};
use reqwest::Method;

use crate::harness::{settings, Api, WEB};

#[tokio::test]
async fn unknown_route_is_404() {
    let api = Api::start().await;
    for path in [
        "/v2.1/flavors",
        "/v2",
        "/v2.1/servers/x/y/z",
        "/favicon.ico",
    ] {
        let r = api.send(api.request(Method::GET, path)).await;
        r.fault(404, "itemNotFound");
    }
}

#[tokio::test]
async fn wrong_method_is_405() {
    let api = Api::start().await;
    for (method, path) in [
        (Method::GET, format!("/v2.1/servers/{WEB}/remote-consoles")),
        (Method::DELETE, format!("/v2.1/servers/{WEB}/action")),
        (Method::POST, "/v2.1".to_owned()),
        (Method::PUT, "/v2.1/os-console-auth-tokens/abc".to_owned()),
    ] {
        let r = api.send(api.request(method.clone(), &path)).await;
        r.fault(405, "badMethod");
        assert!(
            !r.header("x-openstack-request-id").is_empty(),
            "{method} {path}"
        );
    }
}

#[tokio::test]
async fn known_pair_without_driver_is_501() {
    let registry = Registry::builder()
        .register(Arc::new(consoled_driver_vnc_novnc::NoVncDriver))
        .build()
        .unwrap();
    let api = Api::start_with(registry, settings()).await;
    let r = api.console("2.6", WEB, "serial", "serial").await;
    let message = r.fault(501, "notImplemented");
    assert!(message.contains("available: vnc/novnc"), "{message}");
}

#[tokio::test]
async fn backend_down_is_503() {
    let api = Api::start().await;
    api.backend.set_down(true);
    let r = api.console("2.6", WEB, "vnc", "novnc").await;
    r.fault(503, "serviceUnavailable");
    let r = api.send(api.request(Method::GET, "/v2.1/servers")).await;
    r.fault(503, "serviceUnavailable");
    api.backend.set_down(false);
    let r = api.console("2.6", WEB, "vnc", "novnc").await;
    assert_eq!(r.status, 200);
}

/// A driver that misbehaves in `connect_info`: panics or never answers.
struct Broken {
    descriptor: DriverDescriptor,
    stall: bool,
}

impl Broken {
    fn driver(
        protocol: &'static str,
        console_type: &'static str,
        stall: bool,
    ) -> Arc<dyn ConsoleDriver> {
        Arc::new(Broken {
            descriptor: DriverDescriptor::new(
                protocol,
                console_type,
                "broken-test-driver",
                "http://127.0.0.1:6080/",
            ),
            stall,
        })
    }
}

#[async_trait]
impl ConsoleDriver for Broken {
    fn descriptor(&self) -> &DriverDescriptor {
        &self.descriptor
    }

    async fn connect_info(&self, _: &Server) -> Result<ConnectInfo, ConsoleError> {
        if self.stall {
            std::future::pending::<()>().await;
        }
        panic!("driver bug with secret detail");
    }

    fn access_url(&self, base: &Url, _: &Token) -> Result<Url, ConsoleError> {
        Ok(base.clone())
    }

    async fn connect(&self, _: &TokenRecord) -> Result<BackendStream, ConsoleError> {
        Err(ConsoleError::NotImplemented("test driver".into()))
    }
}

#[tokio::test]
async fn driver_panic_is_500_and_stall_is_503_for_that_request_only() {
    let registry = Registry::builder()
        .register(Broken::driver("vnc", "novnc", false))
        .register(Broken::driver("serial", "serial", true))
        .register(Arc::new(consoled_driver_rdp::RdpHtml5Driver))
        .build()
        .unwrap();
    let mut settings = settings();
    settings.call_timeout = Duration::from_millis(200);
    let api = Api::start_with(registry, settings).await;

    let r = api.console("2.6", WEB, "vnc", "novnc").await;
    let message = r.fault(500, "computeFault");
    assert!(!message.contains("secret"), "{message}");
    let r = api.console("2.6", WEB, "serial", "serial").await;
    r.fault(503, "serviceUnavailable");
    // The service carries on, on the same connection pool and on others.
    let r = api.console("2.6", WEB, "rdp", "rdp-html5").await;
    assert_eq!(r.status, 200, "{:?}", r.json);
    let r = api.send(api.request(Method::GET, "/v2.1")).await;
    assert_eq!(r.status, 200);
}
