//! Scenario 3: what a keystroke costs: one message to an echoing backend
//! and back, over one session, many times.

use std::time::Instant;

use crate::backend::{Backend, Job};
use crate::client::Client;
use crate::subject::Subject;

/// Sends `size` bytes and waits for their echo, `count` times over one
/// session; returns each round trip in microseconds.
///
/// # Errors
/// When the session fails or an echo differs.
pub async fn measure(
    subject: &Subject,
    backend: &Backend,
    size: usize,
    count: usize,
) -> Result<Vec<f64>, String> {
    backend.go(Job::Echo);
    let wire = subject.wire().await?;
    let mut client = Client::connect(subject.addr(), &wire).await?;
    let payload: Vec<u8> = (0..size).map(|i| (i % 251) as u8).collect();
    let message = client.prepare(&payload);
    let mut times = Vec::with_capacity(count);
    for _ in 0..count {
        let started = Instant::now();
        client.send(&message).await?;
        let echo = client.read_payload(size).await?;
        times.push(started.elapsed().as_secs_f64() * 1e6);
        if echo != payload {
            return Err("the echo differs from what was sent".into());
        }
    }
    Ok(times)
}
