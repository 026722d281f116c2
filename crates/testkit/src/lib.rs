#![doc = include_str!("../README.md")]

mod civil_time;
pub mod clients;
pub mod conformance;
pub mod endpoints;
mod fakes;
mod lines;
pub mod pki;
mod redis_cluster;
mod redis_process;
mod redis_server;
mod redis_tls;
pub mod store_suite;
mod tls;

pub use clients::*;
pub use endpoints::*;
pub use fakes::{FakeBackend, FixedClock, SequentialTokens, ServerBuilder};
pub use redis_cluster::RedisCluster;
pub use redis_server::RedisServer;
pub use redis_tls::RedisTlsServer;
pub use store_suite::run_token_store_suite;
pub use tls::{normalize_thumbprint, sha1_thumbprint};
