#![doc = include_str!("../README.md")]

mod cache;
mod client;
mod provider;
mod settings;

pub use provider::{KeystoneError, KeystoneIdentity};
pub use settings::{KeystoneSettings, PASSWORD_ENV};
