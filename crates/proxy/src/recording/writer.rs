//! The writer task of one recording: chunks from the session's tap,
//! encoded into the file's format, written off the runtime's threads,
//! flushed at least every second.

use std::fs::File;
use std::io::Write;
use std::os::unix::fs::OpenOptionsExt;
use std::path::PathBuf;
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::Duration;

use tokio::sync::mpsc;
use tokio::time::{Instant, MissedTickBehavior};

use super::audit::SessionAudit;
use super::tap::Shared;
use super::{Chunk, Direction, Lost};

/// How often what is encoded reaches the file at the latest: a crash
/// loses at most this much.
pub(crate) const FLUSH_EVERY: Duration = Duration::from_secs(1);

/// How much encoded data waits before it is written anyway.
const WRITE_AT: usize = 256 * 1024;

/// A recording's file format.
pub(crate) trait Encoder: Send + 'static {
    /// The file name's extension.
    fn extension(&self) -> &'static str;
    /// The header, with its line end.
    fn header(&self, audit: &SessionAudit) -> Vec<u8>;
    /// Bytes relayed in `direction`.
    fn data(&mut self, out: &mut Vec<u8>, at: Duration, direction: Direction, bytes: &[u8]);
    /// A mark that `lost` bytes were dropped here.
    fn gap(&mut self, out: &mut Vec<u8>, at: Duration, lost: Lost);
    /// The session ended.
    fn finish(&mut self, out: &mut Vec<u8>, at: Duration);
}

/// One recording in progress.
pub(crate) struct Writer {
    pub(crate) path: PathBuf,
    pub(crate) audit: SessionAudit,
    pub(crate) encoder: Box<dyn Encoder>,
    pub(crate) chunks: mpsc::Receiver<Chunk>,
    pub(crate) shared: Arc<Shared>,
    pub(crate) started: Instant,
}

impl Writer {
    /// Writes until the session's tap is gone, or until the file fails
    /// (logged; the session goes on unrecorded).
    pub(crate) async fn run(mut self) {
        let session = self.audit.session.clone();
        let path = self.path.clone();
        match self.record().await {
            Ok(()) => {
                tracing::info!(session = %session, file = %path.display(), "recording closed")
            }
            Err(e) => tracing::warn!(
                session = %session,
                file = %path.display(),
                error = %e,
                "recording ends: cannot write it (the session goes on)"
            ),
        }
    }

    async fn record(&mut self) -> std::io::Result<()> {
        let path = self.path.clone();
        let file = blocking(move || {
            std::fs::OpenOptions::new()
                .write(true)
                .create_new(true)
                .mode(0o600)
                .open(&path)
        })
        .await?;
        tracing::info!(session = %self.audit.session, file = %self.path.display(), "recording session");
        let mut file = Some(file);
        let mut pending = self.encoder.header(&self.audit);
        let mut flush = tokio::time::interval(FLUSH_EVERY);
        flush.set_missed_tick_behavior(MissedTickBehavior::Delay);
        loop {
            tokio::select! {
                chunk = self.chunks.recv() => {
                    let Some(chunk) = chunk else { break };
                    if chunk.lost_before.any() {
                        self.encoder.gap(&mut pending, chunk.at, chunk.lost_before);
                    }
                    self.encoder.data(&mut pending, chunk.at, chunk.direction, &chunk.bytes);
                    self.shared.queued.fetch_sub(chunk.bytes.len(), Ordering::Relaxed);
                    if pending.len() < WRITE_AT {
                        continue;
                    }
                }
                _ = flush.tick() => {
                    if pending.is_empty() {
                        continue;
                    }
                }
            }
            write_out(&mut file, &mut pending).await?;
        }
        let at = self.started.elapsed();
        let lost = self.shared.lost_at_end();
        if lost.any() {
            self.encoder.gap(&mut pending, at, lost);
        }
        self.encoder.finish(&mut pending, at);
        write_out(&mut file, &mut pending).await
    }
}

/// Writes `pending` on a blocking thread (a slow disk must not stall the
/// runtime) and empties it.
async fn write_out(file: &mut Option<File>, pending: &mut Vec<u8>) -> std::io::Result<()> {
    let Some(mut f) = file.take() else {
        return Err(std::io::Error::other("the recording failed before"));
    };
    let data = std::mem::take(pending);
    let (f, data, written) = blocking(move || {
        let written = f.write_all(&data);
        Ok((f, data, written))
    })
    .await?;
    written?;
    *file = Some(f);
    *pending = data;
    pending.clear();
    Ok(())
}

async fn blocking<T: Send + 'static>(
    work: impl FnOnce() -> std::io::Result<T> + Send + 'static,
) -> std::io::Result<T> {
    tokio::task::spawn_blocking(work)
        .await
        .map_err(std::io::Error::other)?
}
