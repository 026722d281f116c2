#![doc = include_str!("../README.md")]

mod civil_time;
pub mod clients;
pub mod conformance;
pub mod endpoints;
mod fakes;
mod lines;
pub mod pki;
mod redis_server;
pub mod store_suite;
mod tls;

pub use clients::*;
pub use endpoints::*;
pub use fakes::{FakeBackend, FixedClock, SequentialTokens, ServerBuilder};
pub use redis_server::RedisServer;
pub use store_suite::run_token_store_suite;
pub use tls::{normalize_thumbprint, sha1_thumbprint};
