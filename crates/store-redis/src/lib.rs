#![doc = include_str!("../README.md")]

mod bounded;
mod codec;
mod keys;
mod purge;
mod sessions;
mod settings;
mod store;

pub use sessions::RedisSessions;
pub use settings::RedisSettings;
pub use store::RedisTokenStore;

/// The record codec, for the fuzz targets in `fuzz/`: not part of the API,
/// and absent without the `fuzzing` feature.
#[cfg(feature = "fuzzing")]
#[doc(hidden)]
pub mod fuzzing {
    pub use crate::codec::{decode, encode};
}
