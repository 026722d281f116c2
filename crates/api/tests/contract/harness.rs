//! Starts the API on 127.0.0.1:0 over a fake backend and the real drivers.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use consoled_api::{router, ApiState, NoAuth};
use consoled_core::{
    DispatchSettings, Dispatcher, Endpoint, MemoryTokenStore, Registry, TypeSettings, Url,
};
use consoled_testkit::{FakeBackend, SequentialTokens, ServerBuilder};
use reqwest::header::HeaderMap;
use reqwest::{Method, RequestBuilder};
use serde_json::Value;

// Named so that their inventory registrations are linked into this test.
use consoled_driver_mks as _;
use consoled_driver_rdp as _;
use consoled_driver_serial as _;
use consoled_driver_spice as _;
use consoled_driver_vnc_novnc as _;
use consoled_driver_vnc_xvpvnc as _;

/// The server most tests ask about: every console configured.
pub const WEB: &str = "c6d5a3a0-9f4e-4b8e-9a4e-0d1f6a1e2b3c";
/// A server of another project.
pub const OTHER: &str = "0b8a3f1e-1111-4c4c-8888-000000000002";
/// A server not scheduled yet (no host).
pub const BUILDING: &str = "0b8a3f1e-1111-4c4c-8888-000000000003";
/// A server being deleted.
pub const DELETING: &str = "0b8a3f1e-1111-4c4c-8888-000000000004";
/// A server that is shut off.
pub const STOPPED: &str = "0b8a3f1e-1111-4c4c-8888-000000000006";
/// A server with no console at all.
pub const BARE: &str = "0b8a3f1e-1111-4c4c-8888-000000000005";

/// The MKS access data the webmks driver requires.
pub const MKS_ACCESS: &str = r#"{"ticket": "t1", "cfgFile": "[ds] web/web.vmx", "thumbprint": "00112233445566778899aabbccddeeff00112233"}"#;

pub fn backend() -> FakeBackend {
    let endpoint = |port, tls_port, path: Option<&str>| Endpoint {
        host: "127.0.0.1".into(),
        port,
        tls_port,
        internal_access_path: path.map(str::to_owned),
        unix_socket: None,
    };
    FakeBackend::new()
        .with(
            ServerBuilder::new(WEB, "web-1")
                .vnc("127.0.0.1", 5901)
                .serial("127.0.0.1", 10000)
                .console("spice", endpoint(5930, Some(5931), None))
                .console("rdp", endpoint(3389, None, None))
                .console("mks", endpoint(902, None, Some(MKS_ACCESS))),
        )
        .with(
            ServerBuilder::new(OTHER, "db-1")
                .project("other")
                .vnc("127.0.0.1", 5902),
        )
        .with(
            ServerBuilder::new(BUILDING, "web-2")
                .status("BUILD")
                .host(None)
                .vnc("127.0.0.1", 5903),
        )
        .with(
            ServerBuilder::new(DELETING, "web-3")
                .task_state("deleting")
                .vnc("127.0.0.1", 5904),
        )
        .with(
            ServerBuilder::new(STOPPED, "web-4")
                .status("SHUTOFF")
                .vnc("127.0.0.1", 5905),
        )
        .with(ServerBuilder::new(BARE, "bare-1"))
}

/// A running API.
pub struct Api {
    pub url: String,
    pub backend: Arc<FakeBackend>,
    client: reqwest::Client,
}

/// What came back.
#[derive(Debug)]
pub struct Reply {
    pub status: u16,
    pub headers: HeaderMap,
    pub json: Value,
}

impl Reply {
    pub fn header(&self, name: &str) -> &str {
        self.headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
    }

    /// Asserts a Nova fault of this code and name; returns its message.
    #[track_caller]
    pub fn fault(&self, code: u16, name: &str) -> String {
        assert_eq!(self.status, code, "{:?}", self.json);
        assert_eq!(self.header("content-type"), "application/json");
        let fault = &self.json[name];
        assert_eq!(fault["code"], code, "{:?}", self.json);
        assert_eq!(
            self.json.as_object().map(|o| o.len()),
            Some(1),
            "{:?}",
            self.json
        );
        fault["message"].as_str().expect("message").to_owned()
    }
}

pub fn settings() -> DispatchSettings {
    DispatchSettings {
        call_timeout: Duration::from_secs(5),
        ..DispatchSettings::default()
    }
}

/// Settings with one type's base URL, or switched off.
pub fn settings_with(
    console_type: &str,
    enabled: bool,
    base_url: Option<&str>,
) -> DispatchSettings {
    let mut s = settings();
    let ts = TypeSettings {
        enabled,
        base_url: base_url.map(|u| Url::parse(u).unwrap()),
        ..TypeSettings::default()
    };
    s.types = HashMap::from([(console_type.to_owned(), ts)]);
    s
}

impl Api {
    /// The API over every linked driver and the default fake servers.
    pub async fn start() -> Api {
        Self::start_with(Registry::from_inventory().unwrap(), settings()).await
    }

    pub async fn start_with(registry: Registry, settings: DispatchSettings) -> Api {
        let backend = Arc::new(backend());
        let dispatcher = Dispatcher::new(
            Arc::new(registry),
            backend.clone(),
            Arc::new(MemoryTokenStore::new()),
            settings,
        )
        .with_token_source(SequentialTokens::new("tok"));
        let app = router(ApiState::new(dispatcher, Arc::new(NoAuth)));
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        tokio::spawn(async move { axum::serve(listener, app).await });
        let client = reqwest::Client::builder()
            .timeout(Duration::from_secs(30))
            .build()
            .unwrap();
        Api {
            url,
            backend,
            client,
        }
    }

    /// A request as user `demo` of project `demo` (role member).
    pub fn request(&self, method: Method, path: &str) -> RequestBuilder {
        self.request_as(method, path, "demo:demo")
    }

    /// A request with this noauth token.
    pub fn request_as(&self, method: Method, path: &str, token: &str) -> RequestBuilder {
        self.client
            .request(method, format!("{}{path}", self.url))
            .header("x-auth-token", token)
    }

    pub async fn send(&self, request: RequestBuilder) -> Reply {
        let response = request.send().await.expect("request sent");
        let status = response.status().as_u16();
        let headers = response.headers().clone();
        let text = response.text().await.expect("body read");
        let json = if text.is_empty() {
            Value::Null
        } else {
            serde_json::from_str(&text).unwrap_or_else(|_| panic!("not JSON: {text:?}"))
        };
        Reply {
            status,
            headers,
            json,
        }
    }

    /// `POST remote-consoles` at `version` as `token`.
    pub async fn remote_console(
        &self,
        version: &str,
        token: &str,
        server: &str,
        body: Value,
    ) -> Reply {
        let request = self
            .request_as(
                Method::POST,
                &format!("/v2.1/servers/{server}/remote-consoles"),
                token,
            )
            .header("openstack-api-version", format!("compute {version}"))
            .json(&body);
        self.send(request).await
    }

    /// `POST remote-consoles` for (protocol, type) on `server` as demo.
    pub async fn console(
        &self,
        version: &str,
        server: &str,
        protocol: &str,
        console_type: &str,
    ) -> Reply {
        let body =
            serde_json::json!({"remote_console": {"protocol": protocol, "type": console_type}});
        self.remote_console(version, "demo:demo", server, body)
            .await
    }
}
