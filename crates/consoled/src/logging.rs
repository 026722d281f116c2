//! The process's log: lines filtered by `RUST_LOG` on standard error,
//! written by a thread of their own.
//!
//! A request formats its lines and queues them; it never waits on the pipe
//! or terminal behind standard error. The queue is bounded: when the
//! writer falls behind, new lines are dropped and counted rather than
//! holding requests up, and the count is logged once the writer catches up.

use std::io::{BufWriter, Stderr};
use std::time::Duration;

use tracing_appender::non_blocking::{ErrorCounter, NonBlockingBuilder, WorkerGuard};
use tracing_subscriber::EnvFilter;

use crate::config::LogFormat;

/// Lines queued for the writer before new ones are dropped: a fraction of
/// a second of the busiest API's lines, a bounded amount of memory.
const QUEUE_LINES: usize = 32 * 1024;

/// How often the count of dropped lines is checked and reported.
const REPORT_EVERY: Duration = Duration::from_secs(10);

/// The log of a running process: dropping it writes out every queued line
/// (and says how many were dropped, if any), so drop it before the
/// process's last word.
pub struct Logging {
    guard: Option<WorkerGuard>,
    dropped: ErrorCounter,
}

/// Starts logging to standard error in `format`, filtered by `RUST_LOG`
/// (default `info`).
pub fn init(format: LogFormat) -> Logging {
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info"));
    let (writer, guard) = NonBlockingBuilder::default()
        .buffered_lines_limit(QUEUE_LINES)
        .lossy(true)
        .thread_name("consoled-log")
        .finish(stderr_in_batches());
    let dropped = writer.error_counter();
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(writer)
        .with_ansi(false);
    match format {
        LogFormat::Text => builder.init(),
        // The event's fields as top-level keys, beside time, level and
        // message: what a log pipeline indexes.
        LogFormat::Json => builder
            .json()
            .flatten_event(true)
            .with_current_span(true)
            .with_span_list(false)
            .init(),
    }
    Logging {
        guard: Some(guard),
        dropped,
    }
}

/// Standard error behind a buffer: the writer thread flushes it whenever
/// its queue runs dry, so a burst of lines costs a few writes, and a quiet
/// line still goes out at once.
fn stderr_in_batches() -> BufWriter<Stderr> {
    BufWriter::new(std::io::stderr())
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
                let now = dropped.dropped_lines();
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
        drop(self.guard.take());
        let dropped = self.dropped.dropped_lines();
        if dropped > 0 {
            eprintln!(
                "consoled: {dropped} log lines were dropped in all: standard error did not keep up"
            );
        }
    }
}
