//! A small driver written the way a driver crate would write one, with
//! switches that break it in the ways the conformance suite must catch.

use consoled_core::backend::{open_tcp, open_tcp_backend};
use consoled_core::{
    async_trait, with_token_query, BackendStream, ConnectInfo, ConsoleDriver, ConsoleError,
    DriverDescriptor, Front, Microversion, Server, Token, TokenRecord, Url,
};
use consoled_testkit::authd_client_connect;
use url::form_urlencoded;

/// How the driver misbehaves.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Flaw {
    None,
    /// Puts the token in a top-level `token` parameter even for novnc.
    TokenOutsidePath,
    /// Appends `token=` without replacing a stale one.
    KeepsStaleToken,
    /// Ignores the internal access path (no `CONNECT` handshake).
    IgnoresConnectPath,
    /// Claims a microversion the compute API does not agree with.
    WrongMicroversion,
    /// Answers 500 for a server without the console.
    NoEndpointIs500,
}

pub struct TestDriver {
    descriptor: DriverDescriptor,
    flaw: Flaw,
}

const fn descriptor(
    protocol: &'static str,
    console_type: &'static str,
    minor: u16,
    front: Front,
    base: &'static str,
) -> DriverDescriptor {
    DriverDescriptor {
        protocol,
        console_type,
        crate_name: "consoled-testkit-tests",
        min_version: Microversion::new(2, minor),
        front,
        default_base_url: base,
    }
}

pub const NOVNC: DriverDescriptor = descriptor(
    "vnc",
    "novnc",
    6,
    Front::WebSocket,
    "http://127.0.0.1:6080/vnc_auto.html",
);
pub const XVPVNC: DriverDescriptor = descriptor(
    "vnc",
    "xvpvnc",
    6,
    Front::RawTcp,
    "http://127.0.0.1:6081/console",
);
pub const SERIAL: DriverDescriptor = descriptor(
    "serial",
    "serial",
    6,
    Front::WebSocket,
    "ws://127.0.0.1:6083/",
);
pub const SPICE_HTML5: DriverDescriptor = descriptor(
    "spice",
    "spice-html5",
    6,
    Front::WebSocket,
    "http://127.0.0.1:6082/spice_auto.html",
);
pub const SPICE_DIRECT: DriverDescriptor = descriptor(
    "spice",
    "spice-direct",
    99,
    Front::External,
    "http://127.0.0.1:13002/nova",
);
pub const WEBMKS: DriverDescriptor = descriptor(
    "mks",
    "webmks",
    8,
    Front::WebSocket,
    "http://127.0.0.1:6090/",
);

impl TestDriver {
    pub fn new(descriptor: DriverDescriptor, flaw: Flaw) -> Self {
        let mut descriptor = descriptor;
        if flaw == Flaw::WrongMicroversion {
            descriptor.min_version = Microversion::new(2, 1);
        }
        TestDriver { descriptor, flaw }
    }
}

#[async_trait]
impl ConsoleDriver for TestDriver {
    fn descriptor(&self) -> &DriverDescriptor {
        &self.descriptor
    }

    async fn connect_info(&self, server: &Server) -> Result<ConnectInfo, ConsoleError> {
        let Some(endpoint) = server.endpoint(self.descriptor.protocol) else {
            let message = format!("Instance {} has no such console.", server.id);
            return Err(if self.flaw == Flaw::NoEndpointIs500 {
                ConsoleError::Internal(message)
            } else {
                ConsoleError::BadRequest(message)
            });
        };
        Ok(ConnectInfo {
            host: endpoint.host.clone(),
            port: endpoint.port,
            tls_port: endpoint.tls_port,
            internal_access_path: endpoint.internal_access_path.clone(),
        })
    }

    fn access_url(&self, base: &Url, token: &Token) -> Result<Url, ConsoleError> {
        match self.flaw {
            Flaw::TokenOutsidePath => return Ok(with_token_query(base, token)),
            Flaw::KeepsStaleToken => {
                let mut url = base.clone();
                url.query_pairs_mut().append_pair("token", token.expose());
                return Ok(url);
            }
            _ => {}
        }
        if self.descriptor.console_type == "novnc" {
            Ok(token_in_novnc_path(base, token))
        } else {
            Ok(with_token_query(base, token))
        }
    }

    async fn connect(&self, record: &TokenRecord) -> Result<BackendStream, ConsoleError> {
        if self.descriptor.front == Front::External {
            return Err(ConsoleError::NotImplemented(
                "an external gateway serves this type".into(),
            ));
        }
        if self.descriptor.protocol == "mks" {
            return connect_mks(&record.connect).await;
        }
        let mut info = record.connect.clone();
        if self.flaw == Flaw::IgnoresConnectPath {
            info.internal_access_path = None;
        }
        Ok(Box::new(open_tcp_backend(&info).await?))
    }
}

async fn connect_mks(info: &ConnectInfo) -> Result<BackendStream, ConsoleError> {
    let refused =
        |why: &str| ConsoleError::ServiceUnavailable(format!("webmks backend refused: {why}"));
    let access: serde_json::Value =
        serde_json::from_str(info.internal_access_path.as_deref().unwrap_or_default())
            .map_err(|_| refused("unusable internal access path"))?;
    let field = |name: &str| {
        access[name]
            .as_str()
            .map(str::to_owned)
            .ok_or_else(|| refused("missing field"))
    };
    let (ticket, cfg_file, thumbprint) =
        (field("ticket")?, field("cfgFile")?, field("thumbprint")?);
    let tcp = open_tcp(&info.host, info.port).await?;
    let session = authd_client_connect(tcp, &ticket, &cfg_file, &thumbprint)
        .await
        .map_err(|e| refused(&e.kind().to_string()))?;
    Ok(Box::new(session))
}

fn token_in_novnc_path(base: &Url, token: &Token) -> Url {
    let mut pairs: Vec<(String, String)> = base.query_pairs().into_owned().collect();
    let merged = |path: &str| {
        let (location, query) = path.split_once('?').unwrap_or((path, ""));
        let mut inner: Vec<(String, String)> = form_urlencoded::parse(query.as_bytes())
            .into_owned()
            .filter(|(k, _)| k != "token")
            .collect();
        inner.push(("token".into(), token.expose().into()));
        let query: String = form_urlencoded::Serializer::new(String::new())
            .extend_pairs(inner)
            .finish();
        format!("{location}?{query}")
    };
    match pairs.iter_mut().find(|(k, _)| k == "path") {
        Some(pair) => pair.1 = merged(&pair.1),
        None => pairs.push(("path".into(), merged(""))),
    }
    let mut url = base.clone();
    url.query_pairs_mut().clear().extend_pairs(pairs);
    url
}
