//! Where Redis is: one server or a cluster, with its TLS certificates.

use std::fmt;
use std::time::Duration;

use consoled_core::StoreError;
use redis::aio::{AsyncPushSender, ConnectionManager, ConnectionManagerConfig};
use redis::cluster::{ClusterClient, ClusterClientBuilder, ClusterConfig};
use redis::{ConnectionAddr, ConnectionInfo, IntoConnectionInfo, ProtocolVersion, TlsCertificates};

use crate::bounded::unavailable;
use crate::connection::RedisConnection;

/// Where Redis is: one server (`redis://`, `rediss://`) or a Redis
/// Cluster (some of its masters), with the certificates of a private CA and
/// a client certificate for TLS. A user and password in the URLs log in
/// (Redis ACLs); neither is ever printed, in `Debug` or in errors.
///
/// [`RedisTarget::connect_lazy`] gives a connection for plain commands,
/// [`RedisTarget::connect_with_pushes`] one that can also subscribe; the
/// token store and anything else that shares its Redis (such as a
/// registry of live sessions) connect the same way.
#[derive(Clone)]
pub struct RedisTarget {
    /// The one server, or the cluster's seed nodes.
    nodes: Vec<ConnectionInfo>,
    cluster: bool,
    certs: Option<TlsCertificates>,
}

impl RedisTarget {
    /// One Redis server: `redis://[[user]:password@]host:port/db`, or
    /// `rediss://` for TLS (the system's roots check the server unless
    /// [`RedisTarget::with_tls`] names a CA).
    ///
    /// # Errors
    /// [`StoreError::Unavailable`] when the URL does not parse; the message
    /// does not repeat it.
    pub fn standalone(url: &str) -> Result<Self, StoreError> {
        let info = url
            .into_connection_info()
            .map_err(|e| unavailable("connect", &e))?;
        Ok(RedisTarget {
            nodes: vec![info],
            cluster: false,
            certs: None,
        })
    }

    /// A Redis Cluster, from some of its masters' URLs (all `redis://` or
    /// all `rediss://`, with the same user and password); the client
    /// learns the rest of the cluster from them.
    ///
    /// # Errors
    /// [`StoreError::Unavailable`] when there is no URL, one does not
    /// parse, or they disagree on TLS or credentials.
    pub fn cluster<S: AsRef<str>>(urls: &[S]) -> Result<Self, StoreError> {
        let nodes = urls
            .iter()
            .map(|u| u.as_ref().into_connection_info())
            .collect::<Result<Vec<_>, _>>()
            .map_err(|e| unavailable("connect", &e))?;
        let target = RedisTarget {
            nodes,
            cluster: true,
            certs: None,
        };
        // The builder checks that the nodes agree; nothing connects yet.
        target
            .cluster_builder(Duration::from_secs(1))
            .build()
            .map_err(|e| unavailable("connect", &e))?;
        Ok(target)
    }

    /// Checks the server with `certs.root_cert` (PEM) instead of the
    /// system's roots, and presents `certs.client_tls` when set.
    ///
    /// # Errors
    /// [`StoreError::Unavailable`] when the URLs are not `rediss://` or the
    /// PEM does not parse.
    pub fn with_tls(mut self, certs: TlsCertificates) -> Result<Self, StoreError> {
        install_crypto_provider();
        if !self.is_tls() {
            return Err(StoreError::Unavailable(
                "redis connect: certificates need a rediss:// URL".into(),
            ));
        }
        if !self.cluster {
            redis::Client::build_with_tls(self.nodes[0].clone(), certs.clone())
                .map_err(|e| unavailable("connect", &e))?;
        }
        self.certs = Some(certs);
        if self.cluster {
            self.cluster_builder(Duration::from_secs(1))
                .build()
                .map_err(|e| unavailable("connect", &e))?;
        }
        Ok(self)
    }

    /// Whether this names a Redis Cluster.
    pub fn is_cluster(&self) -> bool {
        self.cluster
    }

    /// Whether the connections use TLS (`rediss://`).
    pub fn is_tls(&self) -> bool {
        self.infos()
            .first()
            .is_some_and(|i| matches!(i.addr(), ConnectionAddr::TcpTls { .. }))
    }

    /// The server's address, or the cluster nodes' separated by commas:
    /// for messages, without user or password.
    pub fn addresses(&self) -> String {
        self.infos()
            .iter()
            .map(|i| i.addr().to_string())
            .collect::<Vec<_>>()
            .join(", ")
    }

    /// A connection for plain commands that connects on first use and
    /// reconnects by itself; `timeout` bounds connecting and each answer.
    ///
    /// # Errors
    /// [`StoreError::Unavailable`] when the client cannot be built (it
    /// does not connect yet).
    ///
    /// # Panics
    /// Outside a Tokio runtime.
    pub fn connect_lazy(&self, timeout: Duration) -> Result<RedisConnection, StoreError> {
        self.connect(timeout, None::<Pushes>)
    }

    /// As [`RedisTarget::connect_lazy`], speaking RESP3 so that the
    /// connection can also [`subscribe`](RedisConnection::subscribe):
    /// every push (messages, and subscription confirmations after a
    /// reconnection) goes to `pushes`, for instance a
    /// `tokio::sync::mpsc::UnboundedSender<redis::PushInfo>`. In a cluster,
    /// `PUBLISH` reaches subscribers on every node.
    ///
    /// # Errors
    /// As [`RedisTarget::connect_lazy`].
    ///
    /// # Panics
    /// Outside a Tokio runtime.
    pub fn connect_with_pushes(
        &self,
        timeout: Duration,
        pushes: impl AsyncPushSender,
    ) -> Result<RedisConnection, StoreError> {
        self.connect(timeout, Some(pushes))
    }

    fn connect<P: AsyncPushSender>(
        &self,
        timeout: Duration,
        pushes: Option<P>,
    ) -> Result<RedisConnection, StoreError> {
        if self.is_tls() {
            install_crypto_provider();
        }
        match self.nodes.first() {
            Some(info) if !self.cluster => {
                let mut info = info.clone();
                if pushes.is_some() {
                    let redis = info
                        .redis_settings()
                        .clone()
                        .set_protocol(ProtocolVersion::RESP3);
                    info = info.set_redis_settings(redis);
                }
                let client = match &self.certs {
                    Some(certs) => redis::Client::build_with_tls(info, certs.clone()),
                    None => redis::Client::open(info),
                }
                .map_err(|e| unavailable("connect", &e))?;
                let mut config = ConnectionManagerConfig::new()
                    .set_connection_timeout(Some(timeout))
                    .set_response_timeout(Some(timeout))
                    // Reconnect attempts must stay short, so that callers
                    // are served soon after Redis is back; the next
                    // command starts a new round when these fail.
                    .set_number_of_retries(2)
                    .set_min_delay(Duration::from_millis(50))
                    .set_max_delay(Duration::from_millis(500));
                if let Some(pushes) = pushes {
                    config = config
                        .set_push_sender(pushes)
                        .set_automatic_resubscription();
                }
                let conn = ConnectionManager::new_lazy_with_config(client, config)
                    .map_err(|e| unavailable("connect", &e))?;
                Ok(RedisConnection::Standalone(conn))
            }
            _ => {
                let mut builder = self.cluster_builder(timeout);
                let mut config = ClusterConfig::new()
                    .set_connection_timeout(timeout)
                    .set_response_timeout(timeout);
                if let Some(pushes) = pushes {
                    builder = builder.use_protocol(ProtocolVersion::RESP3);
                    config = config.set_push_sender(pushes);
                }
                let client: ClusterClient =
                    builder.build().map_err(|e| unavailable("connect", &e))?;
                Ok(RedisConnection::Cluster(
                    client.get_pending_async_connection_with_config(config),
                ))
            }
        }
    }

    fn cluster_builder(&self, timeout: Duration) -> ClusterClientBuilder {
        let mut builder = ClusterClientBuilder::new(self.infos().to_vec())
            .connection_timeout(timeout)
            .response_timeout(timeout)
            // As for one server: a few quick retries (a MOVED after a
            // failover, a node coming back), then the caller's timeout.
            .retries(2)
            .min_retry_wait(50)
            .max_retry_wait(500);
        if let Some(certs) = &self.certs {
            builder = builder.certs(certs.clone());
        }
        builder
    }

    fn infos(&self) -> &[ConnectionInfo] {
        &self.nodes
    }
}

impl fmt::Debug for RedisTarget {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RedisTarget")
            .field("cluster", &self.is_cluster())
            .field("addresses", &self.addresses())
            .field("tls", &self.is_tls())
            .field(
                "private_ca",
                &self.certs.as_ref().is_some_and(|c| c.root_cert.is_some()),
            )
            .finish_non_exhaustive()
    }
}

/// The push sender type of a connection without one.
type Pushes = tokio::sync::mpsc::UnboundedSender<redis::PushInfo>;

/// redis builds its rustls configuration from the process-wide crypto
/// provider; a process that chose none gets ring, the one consoled's other
/// TLS uses. Set once: a provider chosen earlier stays.
fn install_crypto_provider() {
    if rustls::crypto::CryptoProvider::get_default().is_none() {
        // Losing a race to another installer is fine: one is in place.
        let _ = rustls::crypto::ring::default_provider().install_default();
    }
}
