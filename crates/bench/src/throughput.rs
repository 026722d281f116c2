//! Scenario 1: bulk throughput, backend to client and client to backend,
//! over one and many streams, with the subject's CPU per gigabyte.

use std::time::{Duration, Instant};

use futures_util::future::try_join_all;

use crate::backend::{Backend, Direction, Job};
use crate::client::Client;
use crate::cpu::cpu_time;
use crate::pattern;
use crate::subject::Subject;

/// One measurement.
#[derive(Debug, Clone, Copy)]
pub struct Sample {
    /// Bytes moved, in all.
    pub bytes: u64,
    /// From the gate opening to the last byte.
    pub elapsed: Duration,
    /// The subject's CPU over that time, if it is a process.
    pub cpu: Option<Duration>,
}

impl Sample {
    /// Gigabytes (10^9 bytes) per second.
    pub fn gb_per_s(&self) -> f64 {
        self.bytes as f64 / 1e9 / self.elapsed.as_secs_f64()
    }

    /// CPU seconds per gigabyte.
    pub fn cpu_per_gb(&self) -> Option<f64> {
        self.cpu
            .map(|c| c.as_secs_f64() / (self.bytes as f64 / 1e9))
    }
}

/// Moves `total` bytes in `direction` over `streams` streams through
/// `subject` (whose backend is `backend`), checking every byte when
/// `verify`.
///
/// # Errors
/// A failed connection, a short or corrupted transfer.
pub async fn measure(
    subject: &Subject,
    backend: &mut Backend,
    direction: Direction,
    streams: usize,
    per_stream: u64,
    verify: bool,
) -> Result<Sample, String> {
    backend.hold();
    let mut clients = Vec::with_capacity(streams);
    for _ in 0..streams {
        let wire = subject.wire().await?;
        clients.push(Client::connect(subject.addr(), &wire).await?);
    }
    let cpu_before = subject.pid().map(cpu_time).transpose()?;
    let started = Instant::now();
    backend.go(Job::bulk(direction, per_stream, verify));
    // (bytes, first bad offset) of every stream, at its receiving end.
    let received: Vec<(u64, Option<u64>)> = match direction {
        Direction::Down => try_join_all(clients.into_iter().map(|c| c.download(verify)))
            .await?
            .into_iter()
            .map(|d| (d.bytes, d.first_bad))
            .collect(),
        Direction::Up => {
            let chunk = pattern::chunk();
            let open =
                try_join_all(clients.into_iter().map(|c| c.upload(per_stream, &chunk))).await?;
            let got = backend.sunk(streams).await?;
            drop(open);
            got.into_iter().map(|r| (r.bytes, r.first_bad)).collect()
        }
    };
    for (i, (bytes, first_bad)) in received.into_iter().enumerate() {
        if bytes != per_stream {
            return Err(format!("stream {i}: {bytes} of {per_stream} bytes arrived"));
        }
        if let Some(at) = first_bad {
            return Err(format!("stream {i}: byte {at} is not what was sent"));
        }
    }
    let elapsed = started.elapsed();
    let cpu = match (subject.pid(), cpu_before) {
        (Some(pid), Some(before)) => Some(cpu_time(pid)?.saturating_sub(before)),
        _ => None,
    };
    Ok(Sample {
        bytes: per_stream * streams as u64,
        elapsed,
        cpu,
    })
}
