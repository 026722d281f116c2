//! Session recordings: `[recording] dir` and `types`.
//!
//! A recorded session's backend stream is wrapped in a tap that copies
//! every relayed chunk into a bounded queue; a writer task per session
//! encodes the chunks into one file of `dir`, named
//! `<server>-<type>-<yyyymmddThhmmssZ>-<session id's first 8>.<ext>`,
//! mode 0600, flushed at least every second. Serial sessions are asciicast
//! v2 (`.cast`, replayed by `asciinema play`); VNC sessions are their RFB
//! byte streams (`.rfbrec`, read with [`RfbRecording`]). Either header
//! carries the session's [`SessionAudit`], never the token.
//!
//! When the disk cannot keep up the queue fills, and chunks are dropped
//! rather than waited for: the file says where and how many bytes (an
//! asciicast `"m"` marker, an `x` record) and the log warns once. A write
//! error ends the recording, never the session. Sessions of a type that
//! is not recorded get no tap at all.

mod asciicast;
mod audit;
mod rfbrec;
mod settings;
mod tap;
mod writer;

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use bytes::Bytes;
use consoled_core::{BackendStream, TokenRecord};
use tokio::sync::mpsc;
use tokio::time::Instant;

pub use audit::SessionAudit;
pub use rfbrec::{
    ReadError, Record, RecordKind, RecordingHeader, RfbRecording, FORMAT, MAX_RECORD_BYTES, VERSION,
};
pub use settings::{RecordingSettings, RECORDABLE_TYPES};

use audit::{file_name, Utc};
use tap::{Shared, Tap, QUEUE_CHUNKS};
use writer::{Encoder, Writer};

/// Which way a chunk went.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Direction {
    /// From the backend (the VNC server, the serial port) to the client.
    ToClient,
    /// From the client to the backend.
    ToBackend,
}

/// Bytes dropped, by direction.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(crate) struct Lost {
    pub(crate) to_client: u64,
    pub(crate) to_backend: u64,
}

impl Lost {
    pub(crate) fn any(self) -> bool {
        self.to_client > 0 || self.to_backend > 0
    }
}

/// One relayed chunk on its way to the writer.
pub(crate) struct Chunk {
    /// Since the session's start.
    pub(crate) at: Duration,
    pub(crate) direction: Direction,
    pub(crate) bytes: Bytes,
    /// Dropped just before this chunk.
    pub(crate) lost_before: Lost,
}

/// The recorder of a proxy: its settings, with `dir` ready.
#[derive(Debug)]
pub(crate) struct Recorder {
    dir: PathBuf,
    settings: RecordingSettings,
}

impl Recorder {
    /// The recorder `settings` ask for, with its folder made (0700) when
    /// missing; `None` without `dir`.
    ///
    /// # Errors
    /// A refused setting (`dir`, `types`), or the folder cannot be made.
    pub(crate) fn new(settings: RecordingSettings) -> Result<Option<Recorder>, crate::ProxyError> {
        settings
            .validate()
            .map_err(|e| crate::ProxyError::Settings(e.under("recording")))?;
        let Some(dir) = settings.dir.clone() else {
            return Ok(None);
        };
        make_dir(&dir).map_err(|source| crate::ProxyError::RecordingDir {
            path: dir.clone(),
            source,
        })?;
        Ok(Some(Recorder { dir, settings }))
    }

    /// `backend`, tapped into a new recording when `record`'s type is
    /// recorded (with `audit`'s fields in its header, its start set to
    /// now); else `backend` as it is.
    pub(crate) fn tap(
        &self,
        backend: BackendStream,
        record: &TokenRecord,
        mut audit: SessionAudit,
    ) -> BackendStream {
        if !self.settings.records(&record.console_type) {
            return backend;
        }
        let encoder: Box<dyn Encoder> = match record.protocol.as_str() {
            "serial" => Box::new(asciicast::Asciicast::new()),
            "vnc" => Box::new(rfbrec::RfbRecorder),
            _ => return backend,
        };
        let now = Utc::of(SystemTime::now());
        let started = Instant::now();
        audit.started_at = now.unix;
        audit.started = now.rfc3339();
        let path = self.dir.join(file_name(&audit, &now, encoder.extension()));
        let (chunks, queued) = mpsc::channel(QUEUE_CHUNKS);
        let shared = Arc::new(Shared::default());
        let session = audit.session.clone();
        tokio::spawn(
            Writer {
                path,
                audit,
                encoder,
                chunks: queued,
                shared: Arc::clone(&shared),
                started,
            }
            .run(),
        );
        Box::new(Tap::new(backend, chunks, shared, started, session))
    }
}

/// Makes `dir` and its parents, new folders 0700: recordings show what
/// users typed and saw.
fn make_dir(dir: &Path) -> std::io::Result<()> {
    use std::os::unix::fs::DirBuilderExt;
    std::fs::DirBuilder::new()
        .recursive(true)
        .mode(0o700)
        .create(dir)
}
