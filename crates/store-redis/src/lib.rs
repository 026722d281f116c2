#![doc = include_str!("../README.md")]

mod bounded;
mod cluster;
mod codec;
mod connection;
mod keys;
mod purge;
mod sessions;
mod settings;
mod store;
mod target;

pub use connection::RedisConnection;
/// The redis crate this store is built on, so that users of
/// [`RedisConnection`] name the same version of its types.
pub use redis;
pub use sessions::RedisSessions;
pub use settings::RedisSettings;
pub use store::RedisTokenStore;
pub use target::RedisTarget;

/// The record codec, for the fuzz targets in `fuzz/`: not part of the API,
/// and absent without the `fuzzing` feature.
#[cfg(feature = "fuzzing")]
#[doc(hidden)]
pub mod fuzzing {
    pub use crate::codec::{decode, encode};
}
