#![doc = include_str!("../README.md")]

pub mod clients;
pub mod endpoints;
mod fakes;

pub use clients::*;
pub use endpoints::*;
pub use fakes::{FakeBackend, FixedClock, SequentialTokens, ServerBuilder};
