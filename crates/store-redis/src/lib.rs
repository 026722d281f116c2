#![doc = include_str!("../README.md")]

mod bounded;
mod codec;
mod keys;
mod purge;
mod store;

pub use store::RedisTokenStore;
