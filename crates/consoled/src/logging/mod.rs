//! The process's log: lines filtered by `RUST_LOG` on standard error,
//! written by a thread of their own.
//!
//! A request formats its lines and queues them; it never waits on the pipe
//! or terminal behind standard error, and it does not wake the writer for
//! each line ([`batched`]). The queue is bounded: when the writer falls
//! behind, new lines are dropped and counted rather than holding requests
//! up, and the count is logged once the writer catches up.

mod batched;
mod fields;
mod timestamp;

use std::time::Duration;

use tracing_subscriber::EnvFilter;

use crate::config::LogFormat;
use batched::{BatchedWriter, DroppedLines};

/// Bytes queued for the writer before new lines are dropped: a fraction of
/// a second of the busiest API's lines, a bounded amount of memory.
const QUEUE_BYTES: usize = 8 * 1024 * 1024;

/// How often the count of dropped lines is checked and reported.
const REPORT_EVERY: Duration = Duration::from_secs(10);

/// The log of a running process: dropping it writes out every queued line
/// (and says how many were dropped, if any), so drop it before the
/// process's last word.
pub struct Logging {
    writer: Option<BatchedWriter>,
    dropped: DroppedLines,
}

/// Starts logging to standard error in `format`, filtered by `RUST_LOG`
/// (default `info`).
///
/// # Errors
/// When the writer thread cannot be started.
pub fn init(format: LogFormat) -> Result<Logging, String> {
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info"));
    let (writer, lines, dropped) =
        BatchedWriter::spawn("consoled-log", QUEUE_BYTES, std::io::stderr())
            .map_err(|e| format!("cannot start the log writer thread: {e}"))?;
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(lines)
        .with_timer(timestamp::Rfc3339Micros)
        .with_ansi(false);
    match format {
        LogFormat::Text => builder.fmt_fields(fields::TextFields).init(),
        // The event's fields as top-level keys, beside time, level and
        // message: what a log pipeline indexes.
        LogFormat::Json => builder
            .json()
            .flatten_event(true)
            .with_current_span(true)
            .with_span_list(false)
            .init(),
    }
    Ok(Logging {
        writer: Some(writer),
        dropped,
    })
}

impl Logging {
    /// Logs, every few seconds, how many lines were dropped since the last
    /// report. Needs a Tokio runtime; stops with it.
    pub fn spawn_drop_report(&self) {
        let dropped = self.dropped.clone();
        tokio::spawn(async move {
            let mut reported = 0;
            let mut every = tokio::time::interval(REPORT_EVERY);
            loop {
                every.tick().await;
                let now = dropped.get();
                if now > reported {
                    tracing::warn!(
                        dropped = now - reported,
                        "log lines dropped: standard error did not keep up"
                    );
                    reported = now;
                }
            }
        });
    }
}

impl Drop for Logging {
    fn drop(&mut self) {
        // Waits for the writer thread to write out the queue.
        drop(self.writer.take());
        let dropped = self.dropped.get();
        if dropped > 0 {
            eprintln!(
                "consoled: {dropped} log lines were dropped in all: standard error did not keep up"
            );
        }
    }
}
