#![doc = include_str!("../README.md")]

mod bounded;
mod codec;
mod keys;
mod purge;
mod settings;
mod store;

pub use settings::RedisSettings;
pub use store::RedisTokenStore;
