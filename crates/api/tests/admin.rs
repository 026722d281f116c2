//! The admin routes over a real listener: admins only, the live sessions
//! of every node, cutting one, revoking a server's consoles.

use std::sync::Arc;
use std::time::Duration;

use consoled_api::{admin_router, ApiState, NoAuth};
use consoled_core::sessions::{Cut, SessionInfo};
use consoled_core::{
    ConnectInfo, DispatchSettings, Dispatcher, MemoryTokenStore, Registry, Token, TokenRecord,
    TokenStore,
};
use consoled_testkit::FakeBackend;
use serde_json::Value;

struct Admin {
    url: String,
    dispatcher: Dispatcher,
    store: Arc<MemoryTokenStore>,
    client: reqwest::Client,
}

impl Admin {
    async fn start() -> Admin {
        let store = Arc::new(MemoryTokenStore::new());
        let dispatcher = Dispatcher::new(
            Arc::new(Registry::default()),
            Arc::new(FakeBackend::new()),
            store.clone(),
            DispatchSettings::default(),
        );
        let app = admin_router(ApiState::new(dispatcher.clone(), Arc::new(NoAuth)));
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        tokio::spawn(async move { axum::serve(listener, app).await });
        Admin {
            url,
            dispatcher,
            store,
            client: reqwest::Client::new(),
        }
    }

    async fn call(&self, method: reqwest::Method, path: &str, token: Option<&str>) -> (u16, Value) {
        let mut request = self.client.request(method, format!("{}{path}", self.url));
        if let Some(token) = token {
            request = request.header("X-Auth-Token", token);
        }
        let response = request.send().await.unwrap();
        let status = response.status().as_u16();
        (status, response.json().await.unwrap_or(Value::Null))
    }

    async fn publish(&self, node: &str, id: &str, server: &str) {
        let info = SessionInfo {
            id: id.into(),
            node: node.into(),
            instance_uuid: server.into(),
            console_type: "novnc".into(),
            client: "198.51.100.7".into(),
            started_at: 1_900_000_000,
            to_client: 4096,
            to_backend: 12,
            minted_by: None,
        };
        self.dispatcher
            .revoker()
            .directory()
            .heartbeat(node, &[info], Duration::from_secs(60))
            .await
            .unwrap();
    }
}

const ADMIN: &str = "admin:ops";

#[tokio::test]
async fn only_admins_see_sessions() {
    let admin = Admin::start().await;
    let (status, _) = admin
        .call(reqwest::Method::GET, "/admin/sessions", None)
        .await;
    assert_eq!(status, 401);
    let (status, body) = admin
        .call(reqwest::Method::GET, "/admin/sessions", Some("alice:demo"))
        .await;
    assert_eq!(status, 403, "{body}");
    assert_eq!(body["forbidden"]["code"], 403);
    let (status, _) = admin
        .call(
            reqwest::Method::DELETE,
            "/admin/servers/vm-1/consoles",
            Some("alice:demo"),
        )
        .await;
    assert_eq!(status, 403);
}

#[tokio::test]
async fn every_nodes_sessions_are_listed_and_one_is_cut() {
    let admin = Admin::start().await;
    admin.publish("node-1", "s1", "vm-1").await;
    admin.publish("node-2", "s2", "vm-2").await;
    let (status, body) = admin
        .call(reqwest::Method::GET, "/admin/sessions", Some(ADMIN))
        .await;
    assert_eq!(status, 200);
    let sessions = body["sessions"].as_array().unwrap();
    assert_eq!(sessions.len(), 2);
    assert_eq!(sessions[0]["node"], "node-1");
    assert_eq!(sessions[0]["client"], "198.51.100.7");
    assert_eq!(sessions[0]["to_client"], 4096);
    let (_, body) = admin
        .call(
            reqwest::Method::GET,
            "/admin/sessions?server=vm-2",
            Some(ADMIN),
        )
        .await;
    assert_eq!(body["sessions"].as_array().unwrap().len(), 1);

    let mut orders = admin.dispatcher.revoker().directory().subscribe();
    let (status, body) = admin
        .call(reqwest::Method::DELETE, "/admin/sessions/nope", Some(ADMIN))
        .await;
    assert_eq!(status, 404, "{body}");
    let (status, _) = admin
        .call(reqwest::Method::DELETE, "/admin/sessions/s2", Some(ADMIN))
        .await;
    assert_eq!(status, 204);
    assert_eq!(orders.recv().await.unwrap(), Cut::Session("s2".into()));
}

#[tokio::test]
async fn revoking_a_server_voids_its_tokens_and_orders_its_sessions_cut() {
    let admin = Admin::start().await;
    let token = Token::new("tok-1");
    admin
        .store
        .authorize(TokenRecord {
            token_hash: token.hash(),
            protocol: "vnc".into(),
            console_type: "novnc".into(),
            instance_uuid: "vm-1".into(),
            connect: ConnectInfo {
                host: "h".into(),
                port: 5900,
                tls_port: None,
                internal_access_path: None,
                unix_socket: None,
            },
            access_url_base: "http://h/".into(),
            expires_at: u64::MAX,
            minted_by: None,
        })
        .await
        .unwrap();
    let mut orders = admin.dispatcher.revoker().directory().subscribe();
    let (status, body) = admin
        .call(
            reqwest::Method::DELETE,
            "/admin/servers/vm-1/consoles",
            Some(ADMIN),
        )
        .await;
    assert_eq!(status, 200);
    assert_eq!(body["revoked_tokens"], 1);
    assert_eq!(orders.recv().await.unwrap(), Cut::Server("vm-1".into()));
    assert_eq!(admin.store.validate(&token.hash()).await.unwrap(), None);
}
