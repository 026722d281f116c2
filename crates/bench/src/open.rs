//! Scenario 2: how long a console takes to open, from the client's TCP
//! connect through the upgrade, the token check and the backend connect
//! to the backend's first byte in the client's hands.

use std::time::Instant;

use crate::backend::{Backend, Job, GREETING};
use crate::client::Client;
use crate::subject::Subject;

/// Opens `count` sessions one after another and returns each one's time
/// to first byte, in milliseconds. consoled's token is minted once: a token
/// opens many sessions until it expires, and minting is the API's cost.
///
/// # Errors
/// When an open fails or the first bytes are wrong.
pub async fn measure(
    subject: &Subject,
    backend: &Backend,
    count: usize,
) -> Result<Vec<f64>, String> {
    backend.go(Job::Greet);
    let wire = subject.wire().await?;
    let mut times = Vec::with_capacity(count);
    for _ in 0..count {
        let started = Instant::now();
        let mut client = Client::connect(subject.addr(), &wire).await?;
        let first = client.read_payload(GREETING.len()).await?;
        times.push(started.elapsed().as_secs_f64() * 1e3);
        if first != GREETING {
            return Err(format!("first bytes {first:?}, not the greeting"));
        }
    }
    Ok(times)
}
