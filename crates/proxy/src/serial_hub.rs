//! Shared serial consoles: one backend connection per server, its output
//! fanned out to every viewer and every viewer's input merged into it, in
//! the order it arrives. A serial port (QEMU's TCP chardev, a UNIX
//! socket) serves one client at a time, so without this a second viewer
//! waits or fails.
//!
//! Each viewer gets one end of an in-memory pipe as its backend stream, so
//! the relay does not know it shares: the hub reads the other end for the
//! viewer's input and writes the console's output into it.

use std::collections::HashMap;
use std::future::Future;
use std::sync::{Arc, Mutex, PoisonError, Weak};
use std::time::Duration;

use bytes::Bytes;
use consoled_core::{BackendStream, ConsoleError};
use tokio::io::{AsyncReadExt, AsyncWriteExt, DuplexStream, ReadHalf, WriteHalf};
use tokio::sync::mpsc;

/// What one viewer's pipe holds before its relay must read on.
const PIPE_BYTES: usize = 64 * 1024;

/// How long the console's output may wait for one viewer to make room in
/// its pipe; a viewer slower than that is dropped, not the others.
const VIEWER_STALL: Duration = Duration::from_secs(10);

/// Chunks of viewers' input queued for the console.
const INPUT_QUEUE: usize = 64;

/// The hubs of one node, by server.
#[derive(Default)]
pub(crate) struct SerialHubs {
    by_server: Mutex<HashMap<String, Arc<tokio::sync::Mutex<Weak<Hub>>>>>,
}

impl std::fmt::Debug for SerialHubs {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SerialHubs").finish_non_exhaustive()
    }
}

impl SerialHubs {
    /// A viewer's stream onto `server`'s serial console: the running hub's,
    /// or a new hub over the backend `open` connects.
    ///
    /// # Errors
    /// `open`'s error when there is no hub and the backend cannot be
    /// reached.
    pub(crate) async fn join<F>(&self, server: &str, open: F) -> Result<BackendStream, ConsoleError>
    where
        F: Future<Output = Result<BackendStream, ConsoleError>>,
    {
        let slot = {
            let mut by_server = self
                .by_server
                .lock()
                .unwrap_or_else(PoisonError::into_inner);
            by_server.retain(|_, slot| slot.try_lock().map_or(true, |hub| hub.strong_count() > 0));
            Arc::clone(by_server.entry(server.to_owned()).or_default())
        };
        // One opening per server at a time: a second viewer waits for the
        // first's backend rather than opening its own.
        let mut hub = slot.lock().await;
        if let Some(running) = hub.upgrade() {
            if let Some(viewer) = running.viewer() {
                return Ok(viewer);
            }
        }
        let started = Hub::start(open.await?);
        let viewer = started.viewer().ok_or_else(|| {
            ConsoleError::ServiceUnavailable("the serial console closed at once".into())
        })?;
        *hub = Arc::downgrade(&started);
        Ok(viewer)
    }
}

/// One server's shared console.
struct Hub {
    /// Where every viewer's output goes; `None` once the console closed.
    viewers: Mutex<Option<Vec<Viewer>>>,
    input: mpsc::Sender<Bytes>,
}

struct Viewer {
    id: u64,
    out: WriteHalf<DuplexStream>,
}

impl Hub {
    /// Starts relaying `backend` to viewers that join.
    fn start(backend: BackendStream) -> Arc<Hub> {
        let (from_backend, to_backend) = tokio::io::split(backend);
        let (input, queued) = mpsc::channel(INPUT_QUEUE);
        let hub = Arc::new(Hub {
            viewers: Mutex::new(Some(Vec::new())),
            input,
        });
        tokio::spawn(feed_console(queued, to_backend));
        tokio::spawn(fan_out(Arc::downgrade(&hub), from_backend));
        hub
    }

    /// A new viewer's stream, or `None` when the console has closed.
    fn viewer(self: &Arc<Self>) -> Option<BackendStream> {
        static NEXT: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
        let (ours, theirs) = tokio::io::duplex(PIPE_BYTES);
        let (from_viewer, out) = tokio::io::split(ours);
        let id = NEXT.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        self.viewers
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .as_mut()?
            .push(Viewer { id, out });
        tokio::spawn(read_viewer(Arc::clone(self), id, from_viewer));
        Some(Box::new(theirs))
    }

    fn take_viewers(&self) -> Vec<Viewer> {
        std::mem::take(
            self.viewers
                .lock()
                .unwrap_or_else(PoisonError::into_inner)
                .get_or_insert_with(Vec::new),
        )
    }

    fn give_back(&self, mut kept: Vec<Viewer>) {
        let mut viewers = self.viewers.lock().unwrap_or_else(PoisonError::into_inner);
        if let Some(joined) = viewers.as_mut() {
            // Viewers that joined while the output was being written.
            kept.append(joined);
            *joined = kept;
        }
    }

    fn forget(&self, id: u64) {
        if let Some(viewers) = self
            .viewers
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .as_mut()
        {
            viewers.retain(|v| v.id != id);
        }
    }
}

/// One viewer's input, chunk by chunk, into the console's queue. The
/// viewer's end closing is its leaving; the hub goes with its last viewer
/// (each of these tasks holds it).
async fn read_viewer(hub: Arc<Hub>, id: u64, mut from_viewer: ReadHalf<DuplexStream>) {
    let mut buf = vec![0u8; 4096];
    loop {
        match from_viewer.read(&mut buf).await {
            Ok(0) | Err(_) => break,
            Ok(n) => {
                if hub
                    .input
                    .send(Bytes::copy_from_slice(&buf[..n]))
                    .await
                    .is_err()
                {
                    break;
                }
            }
        }
    }
    hub.forget(id);
}

/// The merged input, in arrival order, into the console.
async fn feed_console(mut queued: mpsc::Receiver<Bytes>, mut to_backend: WriteHalf<BackendStream>) {
    while let Some(chunk) = queued.recv().await {
        if to_backend.write_all(&chunk).await.is_err() || to_backend.flush().await.is_err() {
            return;
        }
    }
    let _ = to_backend.shutdown().await;
}

/// The console's output, to every viewer; ends when the console closes
/// (every viewer then sees it end) or the hub's last viewer left.
async fn fan_out(hub: Weak<Hub>, mut from_backend: ReadHalf<BackendStream>) {
    let mut buf = vec![0u8; 16 * 1024];
    loop {
        let read = from_backend.read(&mut buf).await;
        let Some(hub) = hub.upgrade() else {
            return;
        };
        let n = match read {
            Ok(n) if n > 0 => n,
            _ => {
                // The console closed: so does every viewer's stream.
                let viewers = hub
                    .viewers
                    .lock()
                    .unwrap_or_else(PoisonError::into_inner)
                    .take()
                    .unwrap_or_default();
                for mut viewer in viewers {
                    let _ = viewer.out.shutdown().await;
                }
                return;
            }
        };
        let mut kept = Vec::new();
        for mut viewer in hub.take_viewers() {
            let sent = tokio::time::timeout(VIEWER_STALL, viewer.out.write_all(&buf[..n])).await;
            if matches!(sent, Ok(Ok(()))) {
                kept.push(viewer);
            } else {
                tracing::info!("a serial console viewer fell behind and was dropped");
            }
        }
        hub.give_back(kept);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tokio::io::duplex;

    /// A console that serves one client: the far end of a pipe.
    fn console() -> (BackendStream, DuplexStream) {
        let (ours, theirs) = duplex(1024);
        (Box::new(ours), theirs)
    }

    async fn read_exactly(stream: &mut BackendStream, n: usize) -> Vec<u8> {
        let mut buf = vec![0u8; n];
        tokio::time::timeout(Duration::from_secs(5), stream.read_exact(&mut buf))
            .await
            .expect("in time")
            .expect("read");
        buf
    }

    #[tokio::test]
    async fn every_viewer_sees_the_output_and_every_input_reaches_the_one_console() {
        let hubs = SerialHubs::default();
        let (backend, mut serial) = console();
        let mut one = hubs.join("vm", async { Ok(backend) }).await.unwrap();
        let mut two = hubs
            .join("vm", async { panic!("a second backend was opened") })
            .await
            .unwrap();
        serial.write_all(b"login: ").await.unwrap();
        assert_eq!(read_exactly(&mut one, 7).await, b"login: ");
        assert_eq!(read_exactly(&mut two, 7).await, b"login: ");
        one.write_all(b"root\n").await.unwrap();
        let mut got = vec![0u8; 5];
        serial.read_exact(&mut got).await.unwrap();
        assert_eq!(got, b"root\n");
        two.write_all(b"ls\n").await.unwrap();
        let mut got = vec![0u8; 3];
        serial.read_exact(&mut got).await.unwrap();
        assert_eq!(got, b"ls\n");
    }

    #[tokio::test]
    async fn the_console_closing_ends_every_viewer_and_the_next_opens_anew() {
        let hubs = SerialHubs::default();
        let (backend, serial) = console();
        let mut one = hubs.join("vm", async { Ok(backend) }).await.unwrap();
        drop(serial);
        let mut rest = Vec::new();
        let n = tokio::time::timeout(Duration::from_secs(5), one.read_to_end(&mut rest))
            .await
            .unwrap()
            .unwrap();
        assert_eq!(n, 0, "end of stream");
        let (again, mut serial) = console();
        let mut next = hubs.join("vm", async { Ok(again) }).await.unwrap();
        serial.write_all(b"x").await.unwrap();
        assert_eq!(read_exactly(&mut next, 1).await, b"x");
    }

    #[tokio::test]
    async fn the_last_viewer_leaving_closes_the_console() {
        let hubs = SerialHubs::default();
        let (backend, mut serial) = console();
        let one = hubs.join("vm", async { Ok(backend) }).await.unwrap();
        let two = hubs.join("vm", async { unreachable!() }).await.unwrap();
        drop(one);
        drop(two);
        let mut rest = Vec::new();
        let n = tokio::time::timeout(Duration::from_secs(5), serial.read_to_end(&mut rest))
            .await
            .expect("the console's connection closes")
            .unwrap();
        assert_eq!(n, 0);
    }
}
