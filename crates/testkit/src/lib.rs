#![doc = include_str!("../README.md")]

pub mod clients;
pub mod endpoints;
mod fakes;
mod lines;
mod tls;

pub use clients::*;
pub use endpoints::*;
pub use fakes::{FakeBackend, FixedClock, SequentialTokens, ServerBuilder};
pub use tls::{normalize_thumbprint, sha1_thumbprint};
