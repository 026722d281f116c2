#![doc = include_str!("../README.md")]

mod fakes;

pub use fakes::{FakeBackend, FixedClock, SequentialTokens, ServerBuilder};
