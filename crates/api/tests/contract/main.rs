//! The wire contract (API.md sections 1 to 5, 8 and 9 (screenshots)), over a real socket.

mod actions;
mod auth_tokens;
mod consoles;
mod failures;
mod harness;
mod schema;
mod screenshots;
mod servers;
mod versions;
