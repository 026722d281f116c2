//! The wire contract (API.md sections 1 to 5 and 8), over a real socket.

mod actions;
mod auth_tokens;
mod consoles;
mod failures;
mod harness;
mod schema;
mod servers;
mod versions;
